"""Trying a Plex server address and token before they are saved, with a reason for each failure.

A test must tell the administrator what is wrong, so it does not go through the Plex breaker
and its retries: a typo in an address is not an outage of the connected server, and trying
again at once should really try again. Checks, in order: the address is a plain http(s) URL;
something answers at it (`/identity`, open to anyone, says it is a Plex Media Server); the
server accepts the token; plex.tv says the token's account owns that server, as sign-in needs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import structlog
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from medianest.config import Settings
from medianest.core.errors import UpstreamTimeout, UpstreamUnavailable
from medianest.core.http import create_http_client
from medianest.integrations.plex.errors import InvalidPlexToken
from medianest.integrations.plex.tv import PlexTvClient, plex_tv_headers

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


class _Container(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    machine_identifier: str = Field(alias="machineIdentifier", min_length=1)
    version: str | None = None
    friendly_name: str | None = Field(default=None, alias="friendlyName")


class _Answer(BaseModel):
    media_container: _Container = Field(alias="MediaContainer")


def _failed(reason: str, error: str, field: str, latency_ms: int | None = None) -> ProbeResult:
    return ProbeResult(ok=False, latency_ms=latency_ms, reason=reason, error=error, field=field)


class PlexProbe:
    def __init__(
        self,
        settings: Settings,
        plex_tv: PlexTvClient,
        *,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self._plex_tv = plex_tv
        self._timeout = settings.http_read_timeout
        self._http = http_client or create_http_client(
            settings, headers=plex_tv_headers(plex_tv.client_identifier)
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def test(self, url: str, token: str) -> ProbeResult:
        """Never raises for what the server or plex.tv answer: the result says what failed."""
        try:
            base = check_url(url)
        except BadUrl as exc:
            return _failed("bad_url", str(exc), "url")
        host = urlsplit(base).netloc
        started = time.perf_counter()
        identity = await self._get(base, "/identity", None, host)
        latency_ms = round((time.perf_counter() - started) * 1000)
        if isinstance(identity, ProbeResult):
            return identity
        server = _parse(identity)
        if server is None:
            log.info("connections.not_a_plex_server", status=identity.status_code)
            return _failed(
                "not_plex",
                f"Something answered at {host}, but it is not a Plex Media Server. "
                "Check the address and port (Plex listens on 32400 unless changed).",
                "url",
                latency_ms,
            )
        root = await self._get(base, "/", token, host)
        if isinstance(root, ProbeResult):
            return root
        if root.status_code in (401, 403):
            return _failed(
                "token_refused",
                "The Plex server refused this token. Copy the server owner's token again, "
                "or link the owner's Plex account and leave the token empty.",
                "token",
                latency_ms,
            )
        named = _parse(root) if root.status_code == 200 else None
        if named is None:
            return _failed(
                "server_error",
                f"The Plex server answered with an error (HTTP {root.status_code}). "
                "Check that it has finished starting, then test again.",
                "url",
                latency_ms,
            )
        name = named.friendly_name or server.machine_identifier
        found = ProbeResult(
            ok=True,
            latency_ms=latency_ms,
            name=name,
            version=server.version or named.version,
            machine_identifier=server.machine_identifier,
        )
        refusal = await self._owner_check(token, found)
        return refusal or found

    async def _get(
        self, base: str, path: str, token: str | None, host: str
    ) -> httpx.Response | ProbeResult:
        headers = {"Accept": "application/json"}
        if token is not None:
            headers["X-Plex-Token"] = token
        try:
            response = await self._http.get(base + path, headers=headers)
        except httpx.TimeoutException:
            return _failed(
                "timeout",
                f"The Plex server at {host} did not answer within {self._timeout:g} seconds. "
                "Check the address, and that no firewall is in the way.",
                "url",
            )
        except httpx.ConnectError as exc:
            if "CERTIFICATE_VERIFY_FAILED" in str(exc):
                return _failed(
                    "unreachable",
                    f"{host} answered, but its HTTPS certificate is not one MediaNest can trust. "
                    "Use the server's plex.direct address, or http:// on the local network.",
                    "url",
                )
            return _failed(
                "unreachable",
                f"Nothing answered at {host}: the address is wrong, or Plex Media Server is not "
                "running there. Check the address and port.",
                "url",
            )
        except httpx.RequestError as exc:
            log.info("connections.plex_probe_failed", error=type(exc).__name__)
            return _failed(
                "unreachable",
                f"The connection to {host} broke off. Check the address (http or https) and port.",
                "url",
            )
        if response.is_redirect:
            return _failed(
                "not_plex",
                f"{host} redirects elsewhere instead of answering like a Plex Media Server. "
                "Enter the address Plex itself listens on.",
                "url",
            )
        return response

    async def _owner_check(self, token: str, server: ProbeResult) -> ProbeResult | None:
        """A failed result when plex.tv does not confirm the token's account owns `server`."""
        try:
            account = await self._plex_tv.get_account(token)
            resources = await self._plex_tv.get_resources(token)
        except InvalidPlexToken:
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


def _parse(response: httpx.Response) -> _Container | None:
    if response.status_code != 200:
        return None
    try:
        return _Answer.model_validate_json(response.content).media_container
    except ValidationError:
        return None
