"""Trying an Uptime Kuma address, status page slugs and API key before they are saved.

Checks, in order: the address is a plain http(s) URL; every slug is one Kuma could have; each
status page answers (its monitors are counted); with a key, `/metrics` opens with it (and says
Kuma's version). The adapter's probing client names every failure (`UptimeKumaProbeFailed`,
with a sentence for the administrator); this module says which field of the form it is about.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import structlog

from medianest.connections.probe import BadUrl, ProbeResult, Stopwatch, UrlRules, check_url
from medianest.core.errors import ValidationFailed
from medianest.integrations.uptime_kuma.checks import check_slug
from medianest.integrations.uptime_kuma.errors import ProbeFailure, UptimeKumaProbeFailed
from medianest.integrations.uptime_kuma.upstream import UptimeKumaClients

log = structlog.get_logger(__name__)

KUMA_URL = UrlRules(
    whose="Uptime Kuma's",
    example="like http://192.168.1.20:3001",
    credentials="status pages need none, and /metrics takes the API key.",
    # Pasted from the browser's address bar while looking at a status page.
    strip_suffixes=("/dashboard", "/manage-status-page"),
)
MAX_STATUS_PAGES = 20

_FIELDS = {
    ProbeFailure.STATUS_PAGE_NOT_FOUND: "statusPages",
    ProbeFailure.KEY_REQUIRED: "apiKey",
    ProbeFailure.KEY_REFUSED: "apiKey",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class KumaProbeResult(ProbeResult):
    monitors: int | None = None
    """How many monitors the status pages show together."""


def check_status_pages(slugs: Sequence[str]) -> tuple[str, ...]:
    """The slugs as Kuma stores them, each once, in the order given. Raises `ValidationFailed`
    on `statusPages` for none, too many or one Kuma could not have (`InvalidSlug`)."""
    found = tuple(dict.fromkeys(check_slug(slug) for slug in slugs if slug.strip()))
    if not found:
        raise ValidationFailed.on(
            "statusPages",
            "Enter the slug of at least one status page: the last part of its address, "
            "/status/<slug>.",
        )
    if len(found) > MAX_STATUS_PAGES:
        raise ValidationFailed.on("statusPages", f"Choose at most {MAX_STATUS_PAGES} status pages.")
    return found


class KumaProbe:
    def __init__(self, clients: UptimeKumaClients) -> None:
        self._clients = clients

    async def test(
        self, url: str, status_pages: Sequence[str], api_key: str | None
    ) -> KumaProbeResult:
        """Never raises for what answers at `url`: the result says what failed. Raises
        `ValidationFailed` for slugs or a key Kuma could not have (`InvalidApiKey`)."""
        try:
            base = check_url(url, KUMA_URL)
        except BadUrl as exc:
            return KumaProbeResult.failed("bad_url", str(exc), "url")
        slugs = check_status_pages(status_pages)
        monitors = 0
        version = None
        async with self._clients.probing(base, api_key) as client:
            watch = Stopwatch()
            try:
                for slug in slugs:
                    page = await client.status_page(slug)
                    watch.answered()
                    monitors += len(page.monitors)
                if api_key is not None:
                    version = (await client.metrics()).version
            except UptimeKumaProbeFailed as exc:
                log.info("status.kuma_test_failed", reason=exc.failure)
                return KumaProbeResult.failed(
                    str(exc.failure),
                    exc.message,
                    _FIELDS.get(exc.failure, "url"),
                    watch.failed(exc.failure.answered),
                )
        return KumaProbeResult(
            ok=True, latency_ms=watch.latency_ms, version=version, monitors=monitors
        )
