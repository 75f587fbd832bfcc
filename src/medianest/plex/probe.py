"""Trying a Plex server address and token before they are saved, with a reason for each failure.

A test must tell the administrator what is wrong, so it goes through a probing client of the Plex
server adapter (`PlexServers.probing`: past the breaker and its retries, each failure named), and
this module words each failure for the form. Checks, in order: the address is a plain http(s) URL;
something answers at it (`/identity`, open to anyone, says it is a Plex Media Server); the
server accepts the token; plex.tv says the token's account owns that server, as sign-in needs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import structlog

from medianest.config import Settings
from medianest.core.errors import UpstreamTimeout, UpstreamUnavailable
from medianest.integrations.plex.errors import PlexProbeFailed, PlexTvTokenRefused, ProbeFailure
from medianest.integrations.plex.servers import PlexServers
from medianest.integrations.plex.tv import PlexTvClient

log = structlog.get_logger(__name__)


class BadUrl(ValueError):
    """The address cannot be a Plex server's; the message says what to change."""


def check_url(url: str) -> str:
    """The address without a trailing slash. Raises `BadUrl`."""
    text = url.strip()
    example = "like http://192.168.1.20:32400"
    if not text:
        raise BadUrl(f"Enter the Plex server's address, {example}.")
    if any(c.isspace() or ord(c) < 32 for c in text):
        raise BadUrl("The address cannot contain spaces.")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise BadUrl(f"This is not a valid address. Enter it {example}.") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise BadUrl(f"Start the address with http:// or https://, {example}.")
    if parts.username is not None or parts.password is not None:
        raise BadUrl(
            "Leave the user name and password out of the address: Plex signs in with the token."
        )
    if parts.query or parts.fragment or text.endswith(("?", "#")):
        raise BadUrl("Leave out everything after ? or # in the address.")
    if port == 0:
        raise BadUrl("The port must be between 1 and 65535.")
    return text.rstrip("/")


@dataclass(frozen=True, slots=True)
class ProbeResult:
    ok: bool
    latency_ms: int | None = None
    name: str | None = None
    version: str | None = None
    machine_identifier: str | None = None
    reason: str | None = None
    error: str | None = None
    # Which input the failure is about, for the form: `url` or `token`.
    field: str | None = None


def _failed(reason: str, error: str, field: str, latency_ms: int | None = None) -> ProbeResult:
    return ProbeResult(ok=False, latency_ms=latency_ms, reason=reason, error=error, field=field)


class PlexProbe:
    def __init__(self, settings: Settings, plex_tv: PlexTvClient, servers: PlexServers) -> None:
        self._plex_tv = plex_tv
        self._servers = servers
        self._timeout = settings.http_read_timeout

    async def test(self, url: str, token: str) -> ProbeResult:
        """Never raises for what the server or plex.tv answer: the result says what failed."""
        try:
            base = check_url(url)
        except BadUrl as exc:
            return _failed("bad_url", str(exc), "url")
        host = urlsplit(base).netloc
        latency_ms: int | None = None
        async with self._servers.probing(base) as server:
            started = time.perf_counter()
            try:
                identity = await server.identity()
                latency_ms = round((time.perf_counter() - started) * 1000)
                info = await server.server_info(token=token)
            except PlexProbeFailed as exc:
                if exc.failure.answered and latency_ms is None:
                    latency_ms = round((time.perf_counter() - started) * 1000)
                return self._failed(exc, host, latency_ms)
        found = ProbeResult(
            ok=True,
            latency_ms=latency_ms,
            name=info.name,
            version=identity.version or info.version,
            machine_identifier=identity.machine_identifier,
        )
        refusal = await self._owner_check(token, found)
        return refusal or found

    def _failed(self, exc: PlexProbeFailed, host: str, latency_ms: int | None) -> ProbeResult:
        """What to tell the administrator; `latency_ms` only when the server answered."""
        failure = exc.failure
        if not failure.answered:
            latency_ms = None
        if failure is ProbeFailure.TIMEOUT:
            return _failed(
                "timeout",
                f"The Plex server at {host} did not answer within {self._timeout:g} seconds. "
                "Check the address, and that no firewall is in the way.",
                "url",
            )
        if failure is ProbeFailure.UNTRUSTED_CERTIFICATE:
            return _failed(
                "unreachable",
                f"{host} answered, but its HTTPS certificate is not one MediaNest can trust. "
                "Use the server's plex.direct address, or http:// on the local network.",
                "url",
            )
        if failure is ProbeFailure.UNREACHABLE:
            return _failed(
                "unreachable",
                f"Nothing answered at {host}: the address is wrong, or Plex Media Server is not "
                "running there. Check the address and port.",
                "url",
            )
        if failure is ProbeFailure.BROKEN_OFF:
            return _failed(
                "unreachable",
                f"The connection to {host} broke off. Check the address (http or https) and port.",
                "url",
            )
        if failure is ProbeFailure.REDIRECTED:
            return _failed(
                "not_plex",
                f"{host} redirects elsewhere instead of answering like a Plex Media Server. "
                "Enter the address Plex itself listens on.",
                "url",
            )
        if failure is ProbeFailure.NOT_PLEX:
            log.info("connections.not_a_plex_server", status=exc.http_status)
            return _failed(
                "not_plex",
                f"Something answered at {host}, but it is not a Plex Media Server. "
                "Check the address and port (Plex listens on 32400 unless changed).",
                "url",
                latency_ms,
            )
        if failure is ProbeFailure.TOKEN_REFUSED:
            return _failed(
                "token_refused",
                "The Plex server refused this token. Copy the server owner's token again, "
                "or link the owner's Plex account and leave the token empty.",
                "token",
                latency_ms,
            )
        return _failed(
            "server_error",
            f"The Plex server answered with an error (HTTP {exc.http_status}). "
            "Check that it has finished starting, then test again.",
            "url",
            latency_ms,
        )

    async def _owner_check(self, token: str, server: ProbeResult) -> ProbeResult | None:
        """A failed result when plex.tv does not confirm the token's account owns `server`."""
        try:
            account = await self._plex_tv.get_account(token)
            resources = await self._plex_tv.get_resources(token)
        except PlexTvTokenRefused:
            return _failed(
                "token_refused",
                "plex.tv does not accept this token (it may have been signed out). "
                "Copy the server owner's token again, or link the owner's Plex account.",
                "token",
                server.latency_ms,
            )
        except (UpstreamUnavailable, UpstreamTimeout):
            return _failed(
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
        return _failed(
            "not_owner",
            f"This token belongs to the Plex account “{account.username}”, which {how} "
            f"“{server.name}” rather than owning it. Use the token of the account that owns "
            "the server.",
            "token",
            server.latency_ms,
        )
