"""Trying an Overseerr (or Seerr) address and API key before they are saved, with a reason for
each failure that an administrator can act on.

Checks, in order: the address is a plain http(s) URL; something answers `/api/v1/status` with a
version, as Overseerr does for anyone; its public settings say which of the two it is (Seerr's
carry `mediaServerType`, Overseerr's do not); the API key opens `/api/v1/auth/me`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

import structlog

from medianest.config import Settings
from medianest.integrations.overseerr.errors import OverseerrProbeFailed, ProbeFailure
from medianest.integrations.overseerr.upstream import OverseerrClients

log = structlog.get_logger(__name__)

Flavour = Literal["overseerr", "seerr"]
_EXAMPLE = "like http://192.168.1.20:5055"


class BadUrl(ValueError):
    """The address cannot be Overseerr's; the message says what to change."""


def check_url(url: str) -> str:
    """The address without a trailing slash or `/api/v1` (often pasted with it). Raises `BadUrl`."""
    text = url.strip()
    if not text:
        raise BadUrl(f"Enter Overseerr's address, {_EXAMPLE}.")
    if any(c.isspace() or ord(c) < 32 for c in text):
        raise BadUrl("The address cannot contain spaces.")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise BadUrl(f"This is not a valid address. Enter it {_EXAMPLE}.") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise BadUrl(f"Start the address with http:// or https://, {_EXAMPLE}.")
    if parts.username is not None or parts.password is not None:
        raise BadUrl("Leave the user name and password out of the address: the API key is enough.")
    if parts.query or parts.fragment or text.endswith(("?", "#")):
        raise BadUrl("Leave out everything after ? or # in the address.")
    if port == 0:
        raise BadUrl("The port must be between 1 and 65535.")
    text = text.rstrip("/")
    return text.removesuffix("/api/v1").rstrip("/")


def check_api_key(api_key: str) -> str:
    """The key without surrounding blanks. Raises `ValueError` saying what to change."""
    key = api_key.strip()
    if not key:
        raise ValueError("Enter Overseerr's API key (Settings → General → API Key).")
    if len(key) > 200 or any(c.isspace() or ord(c) < 32 for c in key):
        raise ValueError("This does not look like an API key. Copy it again from Overseerr.")
    return key


@dataclass(frozen=True, slots=True)
class ProbeResult:
    ok: bool
    latency_ms: int | None = None
    version: str | None = None
    flavour: Flavour | None = None
    reason: str | None = None
    error: str | None = None
    # Which input the failure is about, for the form: `url` or `apiKey`.
    field: str | None = None


def _failed(reason: str, error: str, field: str, latency_ms: int | None = None) -> ProbeResult:
    return ProbeResult(ok=False, latency_ms=latency_ms, reason=reason, error=error, field=field)


class OverseerrProbe:
    def __init__(self, settings: Settings, clients: OverseerrClients) -> None:
        self._clients = clients
        self._timeout = settings.http_read_timeout

    async def test(self, url: str, api_key: str) -> ProbeResult:
        """Never raises for what answers at `url`: the result says what failed."""
        try:
            base = check_url(url)
        except BadUrl as exc:
            return _failed("bad_url", str(exc), "url")
        host = urlsplit(base).netloc
        latency_ms: int | None = None
        async with self._clients.probing(base, api_key) as client:
            started = time.perf_counter()
            try:
                status = await client.status()
                latency_ms = round((time.perf_counter() - started) * 1000)
                settings = await client.public_settings()
                await client.me()
            except OverseerrProbeFailed as exc:
                if exc.failure.answered and latency_ms is None:
                    latency_ms = round((time.perf_counter() - started) * 1000)
                return self._failed(exc, host, latency_ms if exc.failure.answered else None)
        flavour: Flavour = "seerr" if settings.media_server_type is not None else "overseerr"
        return ProbeResult(ok=True, latency_ms=latency_ms, version=status.version, flavour=flavour)

    def _failed(self, exc: OverseerrProbeFailed, host: str, latency_ms: int | None) -> ProbeResult:
        failure = exc.failure
        if failure is ProbeFailure.TIMEOUT:
            return _failed(
                "timeout",
                f"Overseerr at {host} did not answer within {self._timeout:g} seconds. "
                "Check the address, and that no firewall is in the way.",
                "url",
            )
        if failure is ProbeFailure.UNREACHABLE:
            return _failed(
                "unreachable",
                f"Nothing answered at {host}: the address is wrong, or Overseerr is not running "
                "there. Check the address and port (Overseerr listens on 5055 unless changed).",
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
                "not_overseerr",
                f"{host} redirects elsewhere instead of answering like Overseerr. Enter the "
                "address Overseerr itself listens on, not a login page in front of it.",
                "url",
            )
        if failure is ProbeFailure.NOT_OVERSEERR:
            log.info("requests.not_overseerr", status=exc.http_status)
            return _failed(
                "not_overseerr",
                f"Something answered at {host}, but it is not Overseerr or Seerr. "
                "Check the address and port.",
                "url",
                latency_ms,
            )
        if failure is ProbeFailure.KEY_REFUSED:
            return _failed(
                "key_refused",
                "Overseerr refused this API key. Copy it again from Overseerr's Settings → "
                "General → API Key.",
                "apiKey",
                latency_ms,
            )
        return _failed(
            "server_error",
            f"Overseerr answered with an error (HTTP {exc.http_status}). Check that it has "
            "finished starting, then test again.",
            "url",
            latency_ms,
        )
