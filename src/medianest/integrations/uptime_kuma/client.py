"""Calls to one Uptime Kuma: its public status pages and, with an API key, `/metrics`.

Kuma has no REST API for monitors; what it publishes without credentials is a status page
(`/api/status-page/{slug}`: title, monitors by group, incidents, maintenance) and its heartbeats
(`/api/status-page/heartbeat/{slug}`: latest beats and 24 h uptime per monitor). Kuma caches
them for 5 and 1 minutes, so polling more often only reads the same answer. `/metrics` takes
the API key (`uk<id>_<secret>`) as the password of HTTP Basic; the user name is ignored.

Kuma 1.23 never answers a request for a status page it does not have: the call just waits
until MediaNest gives up. So when a status page times out, its manifest
(`/api/status-page/{slug}/manifest.json`, which both generations answer 404 for an unknown
slug) is asked once, and a 404 there is the page being unknown rather than Kuma being slow.

Calls go through the Uptime Kuma `Upstream` (breaker, retries for reads, failures translated).
A probing client (no `Upstream`) tries an address, slugs and key before they are saved: each
call is tried once, past the breaker, and every failure is an `UptimeKumaProbeFailed` saying why.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import httpx
import structlog
from pydantic import ValidationError

from medianest.core.errors import MediaNestError, UpstreamTimeout
from medianest.core.resilience import Upstream
from medianest.integrations.uptime_kuma.checks import check_slug
from medianest.integrations.uptime_kuma.errors import (
    MetricsKeyRefused,
    ProbeFailure,
    StatusPageNotFound,
    UptimeKumaFailed,
    UptimeKumaProbeFailed,
    UptimeKumaUnexpectedAnswer,
)
from medianest.integrations.uptime_kuma.metrics_text import NotKumaMetrics, parse_metrics
from medianest.integrations.uptime_kuma.schemas import Heartbeats, MetricsSnapshot, StatusPage

log = structlog.get_logger(__name__)

A = TypeVar("A")
T = TypeVar("T")

PAGE = "/api/status-page/{slug}"
HEARTBEAT = "/api/status-page/heartbeat/{slug}"
MANIFEST = "/api/status-page/{slug}/manifest.json"
METRICS = "/metrics"
_JSON = {"Accept": "application/json"}
_TEXT = {"Accept": "text/plain"}
# Kuma ignores the user name of its Basic auth; one is sent because some proxies want one.
_USER = "medianest"
# A page of a thousand monitors answers megabytes: reading one that large happens off the event
# loop, so the pages and pushes served meanwhile do not wait for it.
_THREAD_BYTES = 256 * 1024


def _own_answer(response: httpx.Response) -> bool:
    # The Upstream would take any 401/403 for MediaNest's credentials refused; Kuma's are a
    # status route failing (403) or the metrics key (401), told apart by `_judge`.
    return response.status_code in (401, 403)


class UptimeKumaClient:
    def __init__(
        self,
        upstream: Upstream | None,
        *,
        http_client: httpx.AsyncClient,
        api_key: str | None = None,
    ) -> None:
        """`http_client` carries the base URL; this client closes it. `api_key` opens
        `/metrics` (None: sent without credentials, for a Kuma with authentication disabled).
        Without `upstream` the client probes, straight through `http_client`."""
        self._upstream = upstream
        self._http_client = http_client
        self._auth = httpx.BasicAuth(_USER, api_key) if api_key is not None else None

    async def aclose(self) -> None:
        await self._http_client.aclose()

    async def status_page(self, slug: str) -> StatusPage:
        """The page's title, monitors by group, incidents and current maintenance. Raises
        `InvalidSlug`, `StatusPageNotFound` (probing: `STATUS_PAGE_NOT_FOUND`, naming it)."""
        slug = check_slug(slug)
        try:
            response = await self._get(PAGE.format(slug=slug), slug=slug)
        except UpstreamTimeout:
            if not await self._page_exists(slug):
                log.info("uptime_kuma.status_page_missing", slug=slug)
                raise StatusPageNotFound(slug) from None
            raise
        except UptimeKumaProbeFailed as exc:
            if exc.failure is ProbeFailure.TIMEOUT and not await self._page_exists(slug):
                raise UptimeKumaProbeFailed(
                    ProbeFailure.STATUS_PAGE_NOT_FOUND, http_status=404, slug=slug
                ) from None
            raise
        return await self._parse(response, StatusPage.read)

    async def heartbeats(self, slug: str) -> Heartbeats:
        """The latest beats (oldest first) and 24 h uptime of each monitor the page shows.
        Kuma answers an unknown slug with no monitors; `status_page` tells it apart."""
        slug = check_slug(slug)
        response = await self._get(HEARTBEAT.format(slug=slug), slug=slug)
        return await self._parse(response, Heartbeats.read)

    async def metrics(self) -> MetricsSnapshot:
        """Every monitor's gauges. Raises `MetricsKeyRefused` (probing: `KEY_REFUSED`, or
        `KEY_REQUIRED` when the client has no key)."""
        response = await self._get(METRICS, metrics=True)
        try:
            return await _off_loop(parse_metrics, response.text, len(response.content))
        except NotKumaMetrics:
            log.warning("uptime_kuma.not_metrics", path=METRICS)
            raise self._failure(ProbeFailure.NOT_UPTIME_KUMA, response) from None

    # Mechanics

    async def _page_exists(self, slug: str) -> bool:
        """False only when Kuma says so: its 404 for the page's manifest."""
        try:
            await self._get(MANIFEST.format(slug=slug), slug=slug)
        except StatusPageNotFound:
            return False
        except UptimeKumaProbeFailed as exc:
            return exc.failure is not ProbeFailure.STATUS_PAGE_NOT_FOUND
        except MediaNestError:
            return True
        return True

    async def _get(
        self, path: str, *, slug: str | None = None, metrics: bool = False
    ) -> httpx.Response:
        """A 2xx answer to `path`; everything else raises (see the methods)."""
        headers = _TEXT if metrics else _JSON
        extra: dict[str, Any] = {"auth": self._auth} if metrics and self._auth else {}
        if self._upstream is None:
            response = await self._probe(path, headers, extra)
        else:
            response = await self._upstream.get(
                path, headers=headers, answered=_own_answer, **extra
            )
        failure = self._judge(response, metrics=metrics)
        if failure is None:
            return response
        raise self._failure(failure, response, slug=slug)

    async def _probe(
        self, path: str, headers: Mapping[str, str], extra: Mapping[str, Any]
    ) -> httpx.Response:
        try:
            return await self._http_client.get(path, headers=headers, **extra)
        except httpx.TimeoutException:
            raise UptimeKumaProbeFailed(ProbeFailure.TIMEOUT) from None
        except httpx.ConnectError:
            raise UptimeKumaProbeFailed(ProbeFailure.UNREACHABLE) from None
        except httpx.RequestError as exc:
            log.info("uptime_kuma.probe_broken_off", error=type(exc).__name__)
            raise UptimeKumaProbeFailed(ProbeFailure.BROKEN_OFF) from None

    def _judge(self, response: httpx.Response, *, metrics: bool) -> ProbeFailure | None:
        """What a non-2xx answer means (None: it is a 2xx)."""
        status = response.status_code
        if 200 <= status < 300:
            return None
        if response.is_redirect:
            return ProbeFailure.REDIRECTED
        if metrics and status == 401:
            return ProbeFailure.KEY_REFUSED if self._auth else ProbeFailure.KEY_REQUIRED
        kuma_failed = _kuma_failure(response) is not None
        if status == 404 and kuma_failed and not metrics:
            return ProbeFailure.STATUS_PAGE_NOT_FOUND
        if (status == 403 and kuma_failed) or status >= 500:
            return ProbeFailure.SERVER_ERROR
        return ProbeFailure.NOT_UPTIME_KUMA

    def _failure(
        self, failure: ProbeFailure, response: httpx.Response, *, slug: str | None = None
    ) -> MediaNestError:
        """The error for `failure`: probing, always `UptimeKumaProbeFailed`."""
        status = response.status_code
        if self._upstream is None:
            return UptimeKumaProbeFailed(failure, http_status=status, slug=slug)
        path = response.request.url.path
        if failure is ProbeFailure.STATUS_PAGE_NOT_FOUND and slug is not None:
            return StatusPageNotFound(slug)
        if failure in (ProbeFailure.KEY_REFUSED, ProbeFailure.KEY_REQUIRED):
            log.warning("uptime_kuma.metrics_key_refused", key_sent=self._auth is not None)
            return MetricsKeyRefused(key_sent=self._auth is not None)
        if failure is ProbeFailure.SERVER_ERROR:
            reason = _kuma_failure(response)
            log.warning("uptime_kuma.failed", path=path, status=status, reason=reason)
            return UptimeKumaFailed(reason)
        log.warning("uptime_kuma.unexpected_answer", path=path, status=status)
        return UptimeKumaUnexpectedAnswer()

    async def _parse(self, response: httpx.Response, read: Callable[[bytes], T]) -> T:
        try:
            return await _off_loop(read, response.content, len(response.content))
        except ValueError as exc:
            errors = exc.error_count() if isinstance(exc, ValidationError) else None
            log.warning(
                "uptime_kuma.unreadable_answer", path=response.request.url.path, errors=errors
            )
            raise self._failure(ProbeFailure.NOT_UPTIME_KUMA, response) from None


def _kuma_failure(response: httpx.Response) -> str | None:
    """Kuma's `msg` when the body is its failure shape `{"status": "fail", "msg": ...}`."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return None
    if not isinstance(body, dict) or body.get("status") != "fail":
        return None
    return str(body.get("msg") or "")


async def _off_loop(parse: Callable[[A], T], body: A, size: int) -> T:
    if size > _THREAD_BYTES:
        return await asyncio.to_thread(parse, body)
    return parse(body)
