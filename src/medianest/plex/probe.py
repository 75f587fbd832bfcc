"""Trying a Plex server address and token before they are saved, with a reason for each failure.

A test must tell the administrator what is wrong, so it goes through a probing client of the Plex
server adapter (`PlexServers.probing`: past the breaker and its retries, each failure named), and
this module words each failure for the form. Checks, in order: the address is a plain http(s) URL;
something answers at it (`/identity`, open to anyone, says it is a Plex Media Server); the
server accepts the token; plex.tv says the token's account owns that server, as sign-in needs.
"""

from __future__ import annotations

from dataclasses import dataclass
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
from medianest.core.errors import UpstreamTimeout, UpstreamUnavailable
from medianest.integrations.plex.errors import PlexProbeFailed, PlexTvTokenRefused, ProbeFailure
from medianest.integrations.plex.servers import PlexServers
from medianest.integrations.plex.tv import PlexTvClient

log = structlog.get_logger(__name__)

PLEX_URL = UrlRules(
    whose="the Plex server's",
    example="like http://192.168.1.20:32400",
    credentials="Plex signs in with the token.",
)

_TOLD = wording(
    ProbeFailure,
    {
        ProbeFailure.TIMEOUT: Told(
            "timeout",
            "url",
            "The Plex server at {host} did not answer within {timeout:g} seconds. "
            "Check the address, and that no firewall is in the way.",
        ),
        ProbeFailure.UNTRUSTED_CERTIFICATE: Told(
            "unreachable",
            "url",
            "{host} answered, but its HTTPS certificate is not one MediaNest can trust. "
            "Use the server's plex.direct address, or http:// on the local network.",
        ),
        ProbeFailure.UNREACHABLE: Told(
            "unreachable",
            "url",
            "Nothing answered at {host}: the address is wrong, or Plex Media Server is not "
            "running there. Check the address and port.",
        ),
        ProbeFailure.BROKEN_OFF: BROKEN_OFF,
        ProbeFailure.REDIRECTED: Told(
            "not_plex",
            "url",
            "{host} redirects elsewhere instead of answering like a Plex Media Server. "
            "Enter the address Plex itself listens on.",
        ),
        ProbeFailure.NOT_PLEX: Told(
            "not_plex",
            "url",
            "Something answered at {host}, but it is not a Plex Media Server. "
            "Check the address and port (Plex listens on 32400 unless changed).",
        ),
        ProbeFailure.TOKEN_REFUSED: Told(
            "token_refused",
            "token",
            "The Plex server refused this token. Copy the server owner's token again, "
            "or link the owner's Plex account and leave the token empty.",
        ),
        ProbeFailure.SERVER_ERROR: Told(
            "server_error",
            "url",
            "The Plex server answered with an error (HTTP {status}). "
            "Check that it has finished starting, then test again.",
        ),
    },
)


@dataclass(frozen=True, slots=True, kw_only=True)
class PlexProbeResult(ProbeResult):
    name: str | None = None
    machine_identifier: str | None = None


class PlexProbe:
    def __init__(self, settings: Settings, plex_tv: PlexTvClient, servers: PlexServers) -> None:
        self._plex_tv = plex_tv
        self._servers = servers
        self._timeout = settings.http_read_timeout

    async def test(self, url: str, token: str) -> PlexProbeResult:
        """Never raises for what the server or plex.tv answer: the result says what failed."""
        try:
            base = check_url(url, PLEX_URL)
        except BadUrl as exc:
            return PlexProbeResult.failed("bad_url", str(exc), "url")
        host = urlsplit(base).netloc
        async with self._servers.probing(base) as server:
            watch = Stopwatch()
            try:
                identity = await server.identity()
                watch.answered()
                info = await server.server_info(token=token)
            except PlexProbeFailed as exc:
                return self._failed(exc, host, watch.failed(exc.failure.answered))
        found = PlexProbeResult(
            ok=True,
            latency_ms=watch.latency_ms,
            name=info.name,
            version=identity.version or info.version,
            machine_identifier=identity.machine_identifier,
        )
        refusal = await self._owner_check(token, found)
        return refusal or found

    def _failed(self, exc: PlexProbeFailed, host: str, latency_ms: int | None) -> PlexProbeResult:
        """What to tell the administrator; `latency_ms` only when the server answered."""
        if exc.failure is ProbeFailure.NOT_PLEX:
            log.info("connections.not_a_plex_server", status=exc.http_status)
        return PlexProbeResult.told(
            _TOLD[exc.failure],
            host=host,
            timeout=self._timeout,
            status=exc.http_status,
            latency_ms=latency_ms,
        )

    async def _owner_check(self, token: str, server: PlexProbeResult) -> PlexProbeResult | None:
        """A failed result when plex.tv does not confirm the token's account owns `server`."""
        try:
            account = await self._plex_tv.get_account(token)
            resources = await self._plex_tv.get_resources(token)
        except PlexTvTokenRefused:
            return PlexProbeResult.failed(
                "token_refused",
                "plex.tv does not accept this token (it may have been signed out). "
                "Copy the server owner's token again, or link the owner's Plex account.",
                "token",
                server.latency_ms,
            )
        except (UpstreamUnavailable, UpstreamTimeout):
            return PlexProbeResult.failed(
                "plex_tv_unavailable",
                "plex.tv could not be reached to confirm who owns this server, and signing in "
                "with Plex needs it. Try again in a few minutes.",
                "token",
                server.latency_ms,
            )
        match = next(
            (r for r in resources if r.client_identifier == server.machine_identifier), None
        )
        if match is not None and match.owned:
            return None
        how = "is only shared with" if match is not None else "has no access to"
        return PlexProbeResult.failed(
            "not_owner",
            f"This token belongs to the Plex account “{account.username}”, which {how} "
            f"“{server.name}” rather than owning it. Use the token of the account that owns "
            "the server.",
            "token",
            server.latency_ms,
        )
