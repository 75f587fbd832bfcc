"""Liveness, readiness and Prometheus metrics (no user auth; metrics may require a bearer token)."""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Literal

import structlog
from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from redis.asyncio import Redis

from medianest import __version__
from medianest.core.deps import PlatformDep
from medianest.core.errors import Unauthorized
from medianest.core.metrics import CONTENT_TYPE
from medianest.core.routing import PlainRoute
from medianest.core.runtime import Platform
from medianest.core.schemas import ApiModel

log = structlog.get_logger(__name__)

CHECK_TIMEOUT = 3.0

router = APIRouter(tags=["health"])


class Check(ApiModel):
    name: str
    status: Literal["up", "down"]
    latency_ms: float
    error: str | None = None


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    checks: list[Check]


async def health(request: Request) -> JSONResponse:
    """`GET /health` → `{status: "ok", version, uptime}`, with no I/O."""
    platform: Platform = request.state.platform
    return JSONResponse(
        {"status": "ok", "version": __version__, "uptime": round(platform.uptime, 1)}
    )


def liveness_route() -> PlainRoute:
    """Probes call /health every few seconds: it skips FastAPI's dependency and validation
    machinery, and goes first in the route list so matching stops at once."""
    return PlainRoute("/health", health, methods=["GET", "HEAD"], name="health")


async def _redis_ping(url: str) -> None:
    client = Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        await client.ping()
    finally:
        await client.aclose()


async def _run_check(name: str, probe: Callable[[], Awaitable[object]]) -> Check:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(probe(), timeout=CHECK_TIMEOUT)
    except Exception as exc:
        latency = round((time.perf_counter() - started) * 1000, 1)
        reason = "timed out" if isinstance(exc, TimeoutError) else type(exc).__name__
        log.warning("health.check_failed", check=name, reason=reason)
        return Check(name=name, status="down", latency_ms=latency, error=reason)
    return Check(
        name=name, status="up", latency_ms=round((time.perf_counter() - started) * 1000, 1)
    )


@router.get(
    "/health/ready",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "A dependency is down"}},
)
async def ready(platform: PlatformDep) -> JSONResponse:
    probes: list[tuple[str, Callable[[], Awaitable[object]]]] = [("database", platform.db.ping)]
    redis_url = platform.settings.redis_url
    if redis_url is not None:
        probes.append(("redis", lambda: _redis_ping(redis_url)))
    probes.append(("queue", platform.queue.ping))
    checks = await asyncio.gather(*(_run_check(name, probe) for name, probe in probes))
    ok = all(c.status == "up" for c in checks)
    body = Readiness(status="ready" if ok else "not_ready", checks=list(checks))
    return JSONResponse(body.model_dump(by_alias=True), status_code=200 if ok else 503)


@router.get("/metrics", response_class=Response, include_in_schema=False)
async def metrics(
    platform: PlatformDep, authorization: Annotated[str | None, Header()] = None
) -> Response:
    expected = platform.settings.metrics_token
    if expected is not None:
        given = (authorization or "").removeprefix("Bearer ").encode()
        if not hmac.compare_digest(given, expected.get_secret_value().encode()):
            raise Unauthorized("Send the metrics token as 'Authorization: Bearer <token>'.")
    try:
        await platform.queue.depth()
        for service, state in (await platform.breakers.states()).items():
            platform.metrics.set_breaker_state(service, state)
    except Exception:
        log.warning("metrics.refresh_failed", exc_info=True)
    return Response(platform.metrics.render(), media_type=CONTENT_TYPE)
