"""The edge of every request, as plain ASGI middleware (no BaseHTTPMiddleware: it costs a task
and buffers streaming responses).

`EdgeMiddleware` is deliberately one layer doing six small things, because every layer is paid
on every request: the correlation id, the body-size limit, security headers, metrics, the
deadline of the request's upstream calls and the last-resort error boundary that turns an
unhandled exception into a bare 500 envelope.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Literal

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from medianest.core.context import reset_correlation_id, set_correlation_id
from medianest.core.errors import RateLimited, TooLarge, error_response, internal_error_response
from medianest.core.metrics import Metrics
from medianest.core.ratelimit import LimitName
from medianest.core.resilience import set_upstream_deadline

log = structlog.get_logger(__name__)
# Asked before building a per-request line: the level check is cached by the standard library.
_stdlib_log = logging.getLogger(__name__)

_VALID_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")

# Posters of titles not in Plex yet come straight from TMDB, as Overseerr names them.
DEFAULT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data: blob: https://image.tmdb.org; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
_SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
_HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
# Probes and scrapers hit these every few seconds; an access line for each would drown the log.
_QUIET_PATHS = frozenset({"/health", "/health/ready", "/metrics"})


_CSP_HEADER = (b"content-security-policy", DEFAULT_CSP.encode())
_EDGE_HEADERS = (*_SECURITY_HEADERS, _CSP_HEADER)
_EDGE_NAMES = frozenset(name for name, _ in _EDGE_HEADERS)


def _with_edge_headers(
    headers: Iterable[tuple[bytes, bytes]], cid: str, https: bool
) -> list[tuple[bytes, bytes]]:
    """The response's headers, then the correlation id and each security header the response
    did not set itself (a page may send its own CSP)."""
    raw = list(headers)
    own = {lowered for name, _ in raw if (lowered := name.lower()) in _EDGE_NAMES}
    raw.append((b"x-correlation-id", cid.encode()))
    raw.extend(_EDGE_HEADERS if not own else [h for h in _EDGE_HEADERS if h[0] not in own])
    if https:
        raw.append(_HSTS)
    return raw


def _new_correlation_id() -> str:
    """A random version-4 UUID in its usual text form.

    From the process's PRNG and formatted by hand: a correlation id names a request in the logs
    and needs no secrecy, and `str(uuid.uuid4())` (a system call, then `UUID`'s checks) was a
    measurable part of a small request."""
    h = f"{random.getrandbits(128):032x}"
    variant = "89ab"[int(h[16], 16) & 3]
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{variant}{h[17:20]}-{h[20:]}"


class EdgeMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: Metrics,
        max_body_bytes: int,
        upstream_deadline: float | None = None,
    ) -> None:
        """`upstream_deadline`: how long the upstream calls of one request may take together."""
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        self.upstream_deadline = upstream_deadline
        # Prometheus label lookups take a lock each time; the few (method, route, status)
        # combinations a server sees are resolved once and kept.
        self._counters: dict[tuple[str, str, int], Any] = {}
        self._timers: dict[tuple[str, str], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        incoming = declared = None
        has_body = False
        for name, value in scope["headers"]:
            if name == b"x-correlation-id":
                incoming = value.decode("latin-1")
            elif name == b"content-length":
                declared = value
                has_body = value != b"0"
            elif name == b"transfer-encoding":
                has_body = True
        cid = incoming if incoming and _VALID_ID.match(incoming) else _new_correlation_id()
        token = set_correlation_id(cid)
        status = 500
        response_started = False
        https = scope.get("scheme") == "https"

        async def send_wrapper(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                message["headers"] = _with_edge_headers(message.get("headers", ()), cid, https)
            await send(message)

        try:
            if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
                await error_response(TooLarge(self._too_large()))(scope, receive, send_wrapper)
            else:
                deadline = set_upstream_deadline(self.upstream_deadline)
                try:
                    # A request without a body has nothing to count as it arrives.
                    limited = self._limited(receive) if has_body else receive
                    await self.app(scope, limited, send_wrapper)
                finally:
                    deadline.var.reset(deadline)
        except TooLarge as exc:
            if not response_started:
                await error_response(exc)(scope, receive, send_wrapper)
        except Exception:
            log.exception("http.unhandled_error", method=scope["method"], path=scope["path"])
            if not response_started:
                await internal_error_response()(scope, receive, send_wrapper)
        finally:
            self._record(scope, status, time.perf_counter() - started)
            reset_correlation_id(token)

    def _too_large(self) -> str:
        return f"The request body is larger than {self.max_body_bytes // 1024} KiB."

    def _limited(self, receive: Receive) -> Receive:
        limit = self.max_body_bytes
        received = 0

        async def wrapped() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise TooLarge(self._too_large())
            return message

        return wrapped

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        route = scope.get("route")
        template = getattr(route, "path_format", None) or getattr(route, "path", None)
        label = template or ("unmatched" if status == 404 else "other")
        method = scope["method"]
        counter = self._counters.get((method, label, status))
        if counter is None:
            counter = self._counters[method, label, status] = self.metrics.http_requests.labels(
                method=method, route=label, status=str(status)
            )
        timer = self._timers.get((method, label))
        if timer is None:
            timer = self._timers[method, label] = self.metrics.http_latency.labels(
                method=method, route=label
            )
        counter.inc()
        timer.observe(seconds)
        if scope["path"] not in _QUIET_PATHS and _stdlib_log.isEnabledFor(logging.INFO):
            log.info(
                "http.request",
                method=method,
                path=scope["path"],
                status=status,
                duration_ms=round(seconds * 1000, 1),
            )


IdentityResolver = Callable[[Scope], str | None]
LimitRule = Callable[[str], LimitName | None]
"""The limit a request path spends, or None for a path no limit may refuse."""


class ApiRateLimitMiddleware:
    """The general API limit: per signed-in user, or per client IP for anonymous callers.

    `identity` maps a request to a user id when it can tell cheaply; the accounts domain installs
    one that reads the access token. `limit_for` names the limit a path spends (the app gives
    images an allowance of their own, and keeps the session check and sign-out out of reach of
    any limit). Health, metrics and pages are not limited here.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        hit: Callable[[LimitName, str], Awaitable[None]],
        client_ip: Callable[[Scope], str],
        identity: IdentityResolver | None = None,
        limit_for: LimitRule | None = None,
    ) -> None:
        self.app = app
        self.hit = hit
        self.client_ip = client_ip
        self.identity = identity
        self.limit_for = limit_for or _everything_spends_api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/v1/"):
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        if limit is None:
            await self.app(scope, receive, send)
            return
        user = self.identity(scope) if self.identity is not None else None
        key = f"user:{user}" if user else f"ip:{self.client_ip(scope)}"
        try:
            await self.hit(limit, key)
        except RateLimited as exc:
            await error_response(exc)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _everything_spends_api(_: str) -> Literal["api"]:
    return "api"
