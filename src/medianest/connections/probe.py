"""What every service's Test before saving shares: the address checks and their wording, the
latency the form shows, the result it reads, and the error a save raises when the test failed.

An administrator meets the same rules on every connection form, so they are written once here;
each service words the rest in its own module (`plex/probe.py`, `requests/probe.py`): its name
in the messages, what each failure of its own probing client means, what its test learns.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Self, TypeVar
from urllib.parse import urlsplit

from medianest.core.errors import ValidationFailed

F = TypeVar("F", bound=enum.Enum)


class BadUrl(ValueError):
    """The address cannot be the service's; the message says what to change."""


@dataclass(frozen=True, slots=True)
class UrlRules:
    """One service's words for what is wrong with an address, and what is trimmed off it."""

    whose: str
    """Whose address is asked for: `the Plex server's`, `Overseerr's`."""
    example: str
    """An address that would do: `like http://192.168.1.20:32400`."""
    credentials: str
    """Why a user name and password do not belong in the address (a sentence)."""
    strip_suffixes: tuple[str, ...] = ()
    """Paths often pasted with the address (Overseerr's `/api/v1`), removed."""

    @property
    def missing(self) -> str:
        """What an empty address is told."""
        return f"Enter {self.whose} address, {self.example}."


def check_url(url: str, rules: UrlRules) -> str:
    """The address without a trailing slash or `rules.strip_suffixes`. Raises `BadUrl`."""
    text = url.strip()
    if not text:
        raise BadUrl(rules.missing)
    if any(c.isspace() or ord(c) < 32 for c in text):
        raise BadUrl("The address cannot contain spaces.")
    try:
        parts = urlsplit(text)
        # Read here: an out-of-range or non-numeric port only raises when asked for.
        port = parts.port
    except ValueError:
        raise BadUrl(f"This is not a valid address. Enter it {rules.example}.") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise BadUrl(f"Start the address with http:// or https://, {rules.example}.")
    if parts.username is not None or parts.password is not None:
        raise BadUrl(f"Leave the user name and password out of the address: {rules.credentials}")
    # An empty `?` or `#` leaves no query or fragment, but would still be sent and stored.
    if parts.query or parts.fragment or text.endswith(("?", "#")):
        raise BadUrl("Leave out everything after ? or # in the address.")
    if port == 0:
        raise BadUrl("The port must be between 1 and 65535.")
    text = text.rstrip("/")
    for suffix in rules.strip_suffixes:
        text = text.removesuffix(suffix).rstrip("/")
    return text


class Stopwatch:
    """The latency a test reports: milliseconds from its first call (when this is made) until
    the service first answered, not the whole test, which makes several calls."""

    def __init__(self) -> None:
        self._started = time.perf_counter()
        self.latency_ms: int | None = None

    def answered(self) -> int:
        """Note that the service answered now, unless it had already; the latency."""
        if self.latency_ms is None:
            self.latency_ms = round((time.perf_counter() - self._started) * 1000)
        return self.latency_ms

    def failed(self, answered: bool) -> int | None:
        """The latency of a failed test: none when nothing answered (a time until giving up
        would read as the service's speed)."""
        return self.answered() if answered else None


@dataclass(frozen=True, slots=True)
class Told:
    """What the administrator is told for one way a test fails. `message` may name `{host}`,
    `{timeout}` (the seconds the service had) and `{status}` (the HTTP status it answered)."""

    reason: str
    # Which input the failure is about, for the form: `url` or the secret's field.
    field: str
    message: str


# Said the same way by every service: the address answered, then the connection dropped.
BROKEN_OFF = Told(
    "unreachable",
    "url",
    "The connection to {host} broke off. Check the address (http or https) and port.",
)


def wording(failures: type[F], told: Mapping[F, Told]) -> Mapping[F, Told]:
    """`told`, checked at import to word every one of `failures`: a way to fail added to an
    integration must get its sentence before it can reach a form."""
    missing = [failure.name for failure in failures if failure not in told]
    if missing:
        raise TypeError(f"No words for {failures.__name__} {', '.join(missing)}.")
    return told


@dataclass(frozen=True, slots=True, kw_only=True)
class ProbeResult:
    """What a test found. Each service's result adds what its test learns."""

    ok: bool
    latency_ms: int | None = None
    version: str | None = None
    reason: str | None = None
    error: str | None = None
    # Which input the failure is about, for the form: `url` or the secret's field.
    field: str | None = None

    @classmethod
    def failed(cls, reason: str, error: str, field: str, latency_ms: int | None = None) -> Self:
        return cls(ok=False, latency_ms=latency_ms, reason=reason, error=error, field=field)

    @classmethod
    def told(
        cls,
        told: Told,
        *,
        host: str,
        timeout: float,
        status: int | None,
        latency_ms: int | None,
    ) -> Self:
        message = told.message.format(host=host, timeout=timeout, status=status)
        return cls.failed(told.reason, message, told.field, latency_ms)


class ConnectionTestFailed(ValidationFailed):
    """The test before saving failed: nothing was saved. Each service has its own, with its
    `message` for a failure that came without one."""

    code = "CONNECTION_FAILED"

    @classmethod
    def of(cls, result: ProbeResult) -> Self:
        """The error for a failed test, against the input it is about."""
        return cls.on(result.field or "url", result.error or cls.message)
