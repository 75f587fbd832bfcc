"""Trying an Overseerr (or Seerr) address and API key before they are saved, with a reason for
each failure that an administrator can act on.

Checks, in order: the address is a plain http(s) URL; something answers `/api/v1/status` with a
version, as Overseerr does for anyone; its public settings say which of the two it is (Seerr's
carry `mediaServerType`, Overseerr's do not); the API key opens `/api/v1/auth/me`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

import structlog

from medianest.config import Settings
from medianest.connections.probe import (
    BROKEN_OFF,
    BadUrl,
    ProbeResult,
    Stopwatch,
    Told,
    UrlRules,
    check_url,
    wording,
)
from medianest.integrations.overseerr.errors import OverseerrProbeFailed, ProbeFailure
from medianest.integrations.overseerr.upstream import OverseerrClients

log = structlog.get_logger(__name__)

Flavour = Literal["overseerr", "seerr"]

OVERSEERR_URL = UrlRules(
    whose="Overseerr's",
    example="like http://192.168.1.20:5055",
    credentials="the API key is enough.",
    # Often pasted with the address; the client adds it to every call itself.
    strip_suffixes=("/api/v1",),
)

_TOLD = wording(
    ProbeFailure,
    {
        ProbeFailure.TIMEOUT: Told(
            "timeout",
            "url",
            "Overseerr at {host} did not answer within {timeout:g} seconds. "
            "Check the address, and that no firewall is in the way.",
        ),
        ProbeFailure.UNREACHABLE: Told(
            "unreachable",
            "url",
            "Nothing answered at {host}: the address is wrong, or Overseerr is not running "
            "there. Check the address and port (Overseerr listens on 5055 unless changed).",
        ),
        ProbeFailure.BROKEN_OFF: BROKEN_OFF,
        ProbeFailure.REDIRECTED: Told(
            "not_overseerr",
            "url",
            "{host} redirects elsewhere instead of answering like Overseerr. Enter the "
            "address Overseerr itself listens on, not a login page in front of it.",
        ),
        ProbeFailure.NOT_OVERSEERR: Told(
            "not_overseerr",
            "url",
            "Something answered at {host}, but it is not Overseerr or Seerr. "
            "Check the address and port.",
        ),
        ProbeFailure.KEY_REFUSED: Told(
            "key_refused",
            "apiKey",
            "Overseerr refused this API key. Copy it again from Overseerr's Settings → "
            "General → API Key.",
        ),
        ProbeFailure.SERVER_ERROR: Told(
            "server_error",
            "url",
            "Overseerr answered with an error (HTTP {status}). Check that it has "
            "finished starting, then test again.",
        ),
    },
)


def check_api_key(api_key: str) -> str:
    """The key without surrounding blanks. Raises `ValueError` saying what to change."""
    key = api_key.strip()
    if not key:
        raise ValueError("Enter Overseerr's API key (Settings → General → API Key).")
    if len(key) > 200 or any(c.isspace() or ord(c) < 32 for c in key):
        raise ValueError("This does not look like an API key. Copy it again from Overseerr.")
    return key


@dataclass(frozen=True, slots=True, kw_only=True)
class OverseerrProbeResult(ProbeResult):
    flavour: Flavour | None = None


class OverseerrProbe:
    def __init__(self, settings: Settings, clients: OverseerrClients) -> None:
        self._clients = clients
        self._timeout = settings.http_read_timeout

    async def test(self, url: str, api_key: str) -> OverseerrProbeResult:
        """Never raises for what answers at `url`: the result says what failed."""
        try:
            base = check_url(url, OVERSEERR_URL)
        except BadUrl as exc:
            return OverseerrProbeResult.failed("bad_url", str(exc), "url")
        host = urlsplit(base).netloc
        async with self._clients.probing(base, api_key) as client:
            watch = Stopwatch()
            try:
                status = await client.status()
                watch.answered()
                settings = await client.public_settings()
                await client.me()
            except OverseerrProbeFailed as exc:
                return self._failed(exc, host, watch.failed(exc.failure.answered))
        flavour: Flavour = "seerr" if settings.media_server_type is not None else "overseerr"
        return OverseerrProbeResult(
            ok=True, latency_ms=watch.latency_ms, version=status.version, flavour=flavour
        )

    def _failed(
        self, exc: OverseerrProbeFailed, host: str, latency_ms: int | None
    ) -> OverseerrProbeResult:
        if exc.failure is ProbeFailure.NOT_OVERSEERR:
            log.info("requests.not_overseerr", status=exc.http_status)
        return OverseerrProbeResult.told(
            _TOLD[exc.failure],
            host=host,
            timeout=self._timeout,
            status=exc.http_status,
            latency_ms=latency_ms,
        )
