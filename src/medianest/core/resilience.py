"""Circuit breakers, retries and failure translation for every call to an upstream.

`Breakers` holds one purgatory circuit breaker per upstream name, in memory or shared in Redis (so
every web process and worker sees an upstream as down as soon as one of them found out). Only an
outage counts against a breaker: a timeout, a refused or dropped connection, a 5xx. Rejected
credentials, other 4xx and our own bugs or cancellations do not.

`Upstream` is what wire adapters call. Idempotent calls are retried briefly on connection errors,
one read timeout and 502/503/504; anything else is tried once. Failures leave as
`UpstreamTimeout` or `UpstreamUnavailable` (`misconfigured=True` for 401/403), which the API
answers as 504/503; an open breaker answers at once, without a network call.

Within `upstream_deadline(seconds)` (the edge middleware opens one for every web request), all
upstream calls together wait at most `seconds`, retries included: a read timeout is per attempt,
and a slow upstream would otherwise hold a page for two of them and more. Running out of that
time is an `UpstreamTimeout` and counts against the breaker like any timeout, so a slow
upstream opens it as a down one does. Background jobs run outside any deadline.

Like the rate limiter, breakers are not worth an outage: when Redis stops answering, calls go
through unguarded (one log line when that starts, one when it ends) instead of failing.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from functools import partial
from typing import Any, TypeVar, cast

import httpx
import redis.asyncio
import structlog
from purgatory import (
    AsyncAbstractUnitOfWork,
    AsyncCircuitBreakerFactory,
    AsyncInMemoryUnitOfWork,
    AsyncRedisUnitOfWork,
    ContextChanged,
    Event,
)
from purgatory.domain.model import OpenedState
from purgatory.service._async.circuitbreaker import AsyncCircuitBreaker
from purgatory.service._async.repository import AsyncRedisRepository
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from tenacity import AsyncRetrying, RetryCallState, stop_after_attempt, wait_exponential_jitter

from medianest.config import Settings
from medianest.core.errors import UpstreamTimeout, UpstreamUnavailable
from medianest.core.metrics import Metrics

log = structlog.get_logger(__name__)

T = TypeVar("T")

_STORE_ERRORS = (RedisError, OSError)
# Every upstream call reads its breaker first: a Redis that does not answer within this is
# treated as down rather than allowed to hold the call.
_STORE_TIMEOUT = 0.5

RETRY_ATTEMPTS = 3
_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_RETRY_STATUSES = frozenset({502, 503, 504})
# The request never reached the upstream, or the connection broke: safe to send a read again.
_RETRY_ERRORS = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
)
# A read timeout has already cost a full read timeout; a second one means the upstream is stuck.
_RETRY_ONCE_ERRORS = (httpx.ReadTimeout, httpx.WriteTimeout)


# When the current web request stops waiting on upstreams (a `time.monotonic()` value). A task
# started during the request inherits it, which bounds its calls only for the seconds the request
# had left; jobs, which may run for hours, clear it (`upstream_deadline(None)`).
_deadline: ContextVar[float | None] = ContextVar("medianest_upstream_deadline", default=None)


@contextmanager
def upstream_deadline(seconds: float | None) -> Iterator[None]:
    """Every upstream call in the block waits, all together, at most `seconds` from now; None
    lifts the bound of an enclosing block."""
    token = set_upstream_deadline(seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def set_upstream_deadline(seconds: float | None) -> Token[float | None]:
    """`upstream_deadline` without the context manager, for the edge middleware's own
    try/finally (a generator per request is measurable there); undo with `token.var.reset`."""
    return _deadline.set(None if seconds is None else time.monotonic() + seconds)


def _time_left() -> float | None:
    """Seconds left before the deadline (0 or less: spent); None when there is none."""
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()


class CircuitOpen(UpstreamUnavailable):
    """Refused without a network call: the upstream failed repeatedly and is cooling down."""

    def __init__(self, service: str, *, retry_after: int) -> None:
        super().__init__(service)
        self.retry_after = retry_after


def _is_outage(exc: BaseException) -> bool:
    if isinstance(exc, UpstreamTimeout):
        return True
    return isinstance(exc, UpstreamUnavailable) and not exc.misconfigured


class Breakers:
    """One circuit breaker per upstream name, for the whole app; upstreams sharing a name share one.

    With Redis, breaker state is shared by every process using the same `redis_prefix`.
    """

    def __init__(
        self, settings: Settings, metrics: Metrics, *, store_retry_interval: float = 5.0
    ) -> None:
        self._metrics = metrics
        self._cooldown = settings.breaker_cooldown
        self._redis: redis.asyncio.Redis | None = None
        uow: AsyncAbstractUnitOfWork
        if settings.redis_url is None:
            uow = AsyncInMemoryUnitOfWork()
        else:
            uow = AsyncRedisUnitOfWork(url=settings.redis_url)
            repository = cast(AsyncRedisRepository, uow.contexts)
            # purgatory's own client retries a refused connection ten times with back-off; ours
            # gives up fast so an unreachable Redis costs milliseconds. Its key prefix becomes
            # ours, so two installs sharing one Redis keep their breakers apart.
            self._redis = redis.asyncio.Redis.from_url(
                settings.redis_url,
                socket_timeout=_STORE_TIMEOUT,
                socket_connect_timeout=_STORE_TIMEOUT,
                retry=Retry(NoBackoff(), 1),
            )
            repository.redis = self._redis
            repository.prefix = f"{settings.redis_prefix}:breaker:"
        self._factory = AsyncCircuitBreakerFactory(
            default_threshold=settings.breaker_threshold,
            default_ttl=settings.breaker_cooldown,
            exclude=[(BaseException, lambda exc: not _is_outage(exc))],
            uow=uow,
        )
        self._factory.add_listener(self._on_event)
        self._known: dict[str, str] = {}
        self._store_retry_interval = store_retry_interval
        self._store_down = False
        self._next_store_attempt = 0.0

    async def start(self) -> None:
        """Check Redis once, so an unreachable one is reported at start-up rather than later."""
        await self._factory.initialize()
        if self._redis is not None:
            await self._store(self._redis.ping, None)

    async def close(self) -> None:
        # purgatory never closes the client its unit of work holds (ours, see __init__).
        if self._redis is not None:
            await self._redis.aclose()

    def register(self, service: str) -> None:
        """Report `service` in `states()` and the metrics from now on, before its first call."""
        if service not in self._known:
            self._known[service] = "closed"
            self._metrics.set_breaker_state(service, "closed")

    async def states(self) -> dict[str, str]:
        """Each registered service's breaker: `closed`, `opened` or `half-opened`.

        With Redis this includes what other processes found out; the metrics gauge is brought up
        to date too. While Redis is down, the last state this process knew is returned.
        """
        stored = await self._store(self._read_states, None)
        if stored is not None:
            for service, state in stored.items():
                self._known[service] = state
                self._metrics.set_breaker_state(service, state)
        return dict(sorted(self._known.items()))

    async def call(self, service: str, operation: Callable[[], Awaitable[T]]) -> T:
        """Run `operation` under `service`'s breaker and return its result.

        Raises `CircuitOpen` without running it while the breaker is open. `UpstreamTimeout` and
        `UpstreamUnavailable` (unless misconfigured) from `operation` count as failures; a
        misconfigured `UpstreamUnavailable` counts as an answer, like a result.
        """
        breaker = await self._store(partial(self._factory.get_breaker, service), None)
        if breaker is None:
            return await operation()
        try:
            await breaker.__aenter__()
        except OpenedState as exc:
            remaining = exc.opened_at + breaker.context.ttl - time.time()
            raise CircuitOpen(service, retry_after=max(1, math.ceil(remaining))) from None
        # Any other exception (a cancelled call, a bug of ours) says nothing about the upstream
        # and must not close a half-open breaker either: it passes through unrecorded.
        try:
            result = await operation()
        except (UpstreamTimeout, UpstreamUnavailable) as exc:
            await self._record(breaker, exc)
            raise
        await self._record(breaker, None)
        return result

    async def _record(self, breaker: AsyncCircuitBreaker, exc: Exception | None) -> None:
        exc_type = type(exc) if exc is not None else None
        tb = exc.__traceback__ if exc is not None else None
        await self._store(partial(breaker.__aexit__, exc_type, exc, tb), None)

    async def _read_states(self) -> dict[str, str]:
        states: dict[str, str] = {}
        async with self._factory.uow as uow:
            for service in list(self._known):
                context = await uow.contexts.get(service)
                states[service] = context.state if context is not None else "closed"
        return states

    def _on_event(self, service: str, kind: str, event: Event) -> None:
        if kind != "state_changed" or not isinstance(event, ContextChanged):
            return
        previous = self._known.get(service, "closed")
        if event.state == previous:
            # With Redis, two calls of this process can make the same transition.
            return
        self._known[service] = event.state
        self._metrics.set_breaker_state(service, event.state)
        # One line when an upstream starts failing and one when it recovers; the half-open
        # trials in between would repeat every cool-down for as long as the outage lasts.
        if event.state == "opened" and previous == "closed":
            log.warning("upstream.circuit_opened", service=service, cooldown=self._cooldown)
        elif event.state == "closed":
            log.info("upstream.circuit_closed", service=service)
        else:
            log.debug("upstream.circuit_changed", service=service, state=event.state)

    async def _store(self, operation: Callable[[], Awaitable[T]], fallback: T) -> T:
        if self._store_down and time.monotonic() < self._next_store_attempt:
            return fallback
        try:
            result = await operation()
        except _STORE_ERRORS as exc:
            self._next_store_attempt = time.monotonic() + self._store_retry_interval
            if not self._store_down:
                self._store_down = True
                log.warning("upstream.breaker_store_down", error=str(exc) or type(exc).__name__)
            return fallback
        if self._store_down:
            self._store_down = False
            log.info("upstream.breaker_store_recovered")
        return result


class Upstream:
    """Calls to one upstream service, guarded by its breaker, with failures translated."""

    def __init__(
        self, name: str, client: httpx.AsyncClient, breakers: Breakers, metrics: Metrics
    ) -> None:
        self.name = name
        self._client = client
        self._breakers = breakers
        self._metrics = metrics
        breakers.register(name)

    async def request(
        self,
        method: str,
        url: str,
        *,
        idempotent: bool | None = None,
        user_credentials: bool = False,
        answered: Callable[[httpx.Response], bool] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send one request (retried when idempotent) and return the response.

        Returns 2xx, 3xx and 4xx other than 401/403 for the adapter to interpret. Raises
        `UpstreamTimeout`, or `UpstreamUnavailable` for refused or broken connections, 5xx,
        401/403 (`misconfigured=True`) and an open breaker (`CircuitOpen`). `kwargs` go to
        `httpx.AsyncClient.request`. `idempotent` defaults to True for GET, HEAD and OPTIONS.
        With `user_credentials` the call carries a user's token rather than MediaNest's own, so a
        401/403 is the user's answer (returned, not logged as misconfiguration). A response for
        which `answered` is true is returned whatever its status: an upstream's way of saying
        "no such thing" with a 500 (Overseerr's unknown TMDB id) is not an outage.
        """
        method = method.upper()
        if idempotent is None:
            idempotent = method in _IDEMPOTENT_METHODS
        left = _time_left()
        if left is not None and left <= 0:
            # This request spent its whole allowance on earlier calls: asking again would only
            # hold the answer longer. Nothing is sent, so the breaker has nothing to count.
            self._count("timeout")
            raise UpstreamTimeout(self.name)
        try:
            response = await self._breakers.call(
                self.name,
                partial(self._send, method, url, idempotent, user_credentials, answered, kwargs),
            )
        except CircuitOpen:
            self._count("rejected")
            raise
        except UpstreamTimeout:
            self._count("timeout")
            raise
        except Exception:
            self._count("error")
            raise
        self._count("ok")
        return response

    async def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", url, **kwargs)

    async def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("POST", url, **kwargs)

    async def put(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("PUT", url, **kwargs)

    async def patch(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("PATCH", url, **kwargs)

    async def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("DELETE", url, **kwargs)

    async def _send(
        self,
        method: str,
        url: str,
        idempotent: bool,
        user_credentials: bool,
        answered: Callable[[httpx.Response], bool] | None,
        kwargs: dict[str, Any],
    ) -> httpx.Response:
        # Only the path is ever logged: tokens travel in query strings (Plex's X-Plex-Token).
        path = httpx.URL(url).path
        try:
            # Inside the breaker's call, so running out of time counts as the timeout it is.
            async with asyncio.timeout(_time_left()):
                response = await self._attempt(method, url, path, idempotent, kwargs)
        except TimeoutError as exc:
            self._log_failure(method, path, "deadline")
            raise UpstreamTimeout(self.name) from exc
        return self._judge(method, path, response, user_credentials, answered)

    def _judge(
        self,
        method: str,
        path: str,
        response: httpx.Response,
        user_credentials: bool,
        answered: Callable[[httpx.Response], bool] | None,
    ) -> httpx.Response:
        """The response, unless its status means the upstream is down or refuses MediaNest."""
        if answered is not None and answered(response):
            return response
        status = response.status_code
        if status in (401, 403) and not user_credentials:
            log.warning(
                "upstream.credentials_rejected",
                service=self.name,
                method=method,
                path=path,
                status=status,
            )
            raise UpstreamUnavailable(self.name, misconfigured=True)
        if status >= 500:
            self._log_failure(method, path, f"status {status}")
            raise UpstreamUnavailable(self.name)
        return response

    async def _attempt(
        self, method: str, url: str, path: str, idempotent: bool, kwargs: dict[str, Any]
    ) -> httpx.Response:
        try:
            if idempotent:
                retrying = AsyncRetrying(
                    stop=stop_after_attempt(RETRY_ATTEMPTS),
                    wait=wait_exponential_jitter(multiplier=0.1, max=1.0, jitter=0.1),
                    retry=_should_retry,
                    before_sleep=partial(self._log_retry, method, path),
                    retry_error_callback=_last_outcome,
                )
                response: httpx.Response = await retrying(
                    self._client.request, method, url, **kwargs
                )
            else:
                response = await self._client.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            self._log_failure(method, path, type(exc).__name__)
            raise UpstreamTimeout(self.name) from exc
        except httpx.UnsupportedProtocol as exc:
            self._log_failure(method, path, type(exc).__name__)
            raise UpstreamUnavailable(self.name, misconfigured=True) from exc
        except httpx.RequestError as exc:
            self._log_failure(method, path, type(exc).__name__)
            raise UpstreamUnavailable(self.name) from exc
        return response

    def _count(self, outcome: str) -> None:
        self._metrics.upstream_calls.labels(service=self.name, outcome=outcome).inc()

    def _log_failure(self, method: str, path: str, reason: str) -> None:
        log.warning(
            "upstream.request_failed", service=self.name, method=method, path=path, reason=reason
        )

    def _log_retry(self, method: str, path: str, state: RetryCallState) -> None:
        log.info(
            "upstream.retrying",
            service=self.name,
            method=method,
            path=path,
            attempt=state.attempt_number,
            reason=_reason(state),
        )


def _should_retry(state: RetryCallState) -> bool:
    outcome = state.outcome
    if outcome is None:
        return False
    if outcome.failed:
        exc = outcome.exception()
        if isinstance(exc, _RETRY_ONCE_ERRORS):
            return state.attempt_number == 1
        return isinstance(exc, _RETRY_ERRORS)
    response = outcome.result()
    return isinstance(response, httpx.Response) and response.status_code in _RETRY_STATUSES


def _last_outcome(state: RetryCallState) -> httpx.Response:
    """The last response, or the last exception raised again, once retries are spent."""
    assert state.outcome is not None
    return cast(httpx.Response, state.outcome.result())


def _reason(state: RetryCallState) -> str:
    outcome = state.outcome
    if outcome is None:
        return "unknown"
    if outcome.failed:
        return type(outcome.exception()).__name__
    return f"status {outcome.result().status_code}"
