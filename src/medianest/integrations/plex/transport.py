"""One call to a Plex Media Server, and what its status means.

Calls go through the Plex `Upstream` (breaker, retries for reads, failures translated). Plex's
error answers are never JSON: 404 becomes the matching `NotFound`, 400 a `PlexRejected`, a shared
user's token being refused the `NotFound` given (or `UserTokenRefused`), anything else unexpected
a `PlexUnexpectedAnswer`.

A probing transport (no `Upstream`) tries an address before it is saved. It only reads what the
server says about itself (`read_server`), once, past the breaker: a typo in an address is not an
outage of the connected server, and trying again at once should really try again. Every failure
is then a `PlexProbeFailed` saying why, for the administrator to act on.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping

import httpx
import structlog

from medianest.core.errors import NotFound
from medianest.core.resilience import Upstream
from medianest.integrations.plex import wire
from medianest.integrations.plex.checks import MAX_PAGE_SIZE
from medianest.integrations.plex.errors import (
    PlexProbeFailed,
    PlexRejected,
    PlexUnexpectedAnswer,
    PlexUnreadableAnswer,
    ProbeFailure,
    UserTokenRefused,
)

log = structlog.get_logger(__name__)


class PlexUserToken(str):
    """A shared user's own token for this server (the `accessToken` of its plex.tv resource).

    Plex refusing it tells what this user may not see, not that MediaNest is misconfigured.
    """

    __slots__ = ()


class ServerTransport:
    """Calls to one Plex Media Server, each with the token it is made with."""

    def __init__(
        self, upstream: Upstream | None, *, http_client: httpx.AsyncClient | None = None
    ) -> None:
        """`http_client` is the client behind `upstream`, when this transport owns and closes it.
        Without `upstream` the transport probes, straight through `http_client`."""
        if upstream is None and http_client is None:
            raise ValueError("a probing transport needs its HTTP client")
        self._upstream = upstream
        self._http_client = http_client

    async def aclose(self) -> None:
        if self._http_client is not None:
            await self._http_client.aclose()

    async def read_server(
        self, path: str, *, token: str | None, failure: ProbeFailure
    ) -> tuple[wire.Container, str]:
        """What the server says about itself at `path` (`/identity`, `/`), and its machine
        identifier, which that answer must hold.

        Raises `PlexUnreadableAnswer` for an answer without one; a probing transport raises
        `PlexProbeFailed` instead, with `failure` for any answer that is not the server's.
        """
        if self._upstream is not None:
            found = await self.get(path, token=token)
            if not found.machine_identifier:
                wire.unreadable(found)
            return found, found.machine_identifier
        response = await self._probe(path, token)
        probed: wire.Container | None = None
        if response.status_code == 200:
            with contextlib.suppress(PlexUnreadableAnswer):
                probed = wire.container(response)
        if probed is None or not probed.machine_identifier:
            raise PlexProbeFailed(failure, http_status=response.status_code)
        return probed, probed.machine_identifier

    async def all_pages(
        self, path: str, token: str, missing: type[NotFound]
    ) -> AsyncIterator[tuple[wire.Item, str | None]]:
        """Every entry of a list Plex pages, with the library the page says it is from."""
        start = 0
        while True:
            params = wire.paging(start, MAX_PAGE_SIZE)
            found = await self.get(path, token=token, params=params, missing=missing)
            for item in found.metadata:
                yield item, found.library_section_id
            following = start + len(found.metadata)
            if not found.metadata or following >= wire.page_of(found, [], start).total_size:
                return
            start = following

    async def get(
        self,
        path: str,
        *,
        token: str | None,
        params: Mapping[str, object] | None = None,
        missing: type[NotFound] | None = None,
    ) -> wire.Container:
        response = await self.call("GET", path, token=token, params=params, missing=missing)
        return wire.container(response)

    async def call(
        self,
        method: str,
        path: str,
        *,
        token: str | None,
        params: Mapping[str, object] | None = None,
        headers: Mapping[str, str] | None = None,
        missing: type[NotFound] | None = None,
        rejected: str | None = None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """Send one call and return a 2xx answer; raise for everything else.

        `missing` is raised for a 404, and for a shared user's token being refused (Plex's
        way of saying that library or item is not shared with them).
        """
        if self._upstream is None:
            raise RuntimeError("a probing transport only reads what the server says of itself")
        call_headers = dict(headers or {})
        if token is not None:
            call_headers["X-Plex-Token"] = str(token)
        response = await self._upstream.request(
            method,
            wire.url(path, params),
            headers=call_headers,
            idempotent=idempotent,
            user_credentials=isinstance(token, PlexUserToken),
        )
        status = response.status_code
        if 200 <= status < 300:
            return response
        if status in (401, 403):
            # Only a shared user's token gets here: the Upstream raises for the owner's.
            log.info("plex.user_token_refused", path=path, status=status)
            raise (missing or UserTokenRefused)()
        if status == 404 and missing is not None:
            raise missing()
        if status == 400:
            log.info("plex.request_refused", method=method, path=path)
            raise PlexRejected(rejected)
        raise unexpected(response)

    async def _probe(self, path: str, token: str | None) -> httpx.Response:
        """One GET, the way `PlexProbeFailed` tells apart: no answer, an answer from elsewhere
        (a redirect), the token refused. Any other answer is returned."""
        assert self._http_client is not None
        headers = {"Accept": "application/json"}
        if token is not None:
            headers["X-Plex-Token"] = token
        try:
            response = await self._http_client.get(path, headers=headers)
        except httpx.TimeoutException:
            raise PlexProbeFailed(ProbeFailure.TIMEOUT) from None
        except httpx.ConnectError as exc:
            if "CERTIFICATE_VERIFY_FAILED" in str(exc):
                raise PlexProbeFailed(ProbeFailure.UNTRUSTED_CERTIFICATE) from None
            raise PlexProbeFailed(ProbeFailure.UNREACHABLE) from None
        except httpx.RequestError as exc:
            log.info("plex.probe_broken_off", error=type(exc).__name__)
            raise PlexProbeFailed(ProbeFailure.BROKEN_OFF) from None
        status = response.status_code
        if response.is_redirect:
            raise PlexProbeFailed(ProbeFailure.REDIRECTED, http_status=status)
        if token is not None and status in (401, 403):
            raise PlexProbeFailed(ProbeFailure.TOKEN_REFUSED, http_status=status)
        return response


def unexpected(response: httpx.Response) -> PlexUnexpectedAnswer:
    log.warning(
        "plex.unexpected_status", path=response.request.url.path, status=response.status_code
    )
    return PlexUnexpectedAnswer()
