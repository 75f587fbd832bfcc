"""The two apps `http_overhead.py` compares, as `uvicorn --factory` entry points.

Both answer `GET /health` and `GET /api/v1/bench/cached` (one `CacheService.get_or_set` round trip
on an in-process cache), so the difference between them is MediaNest's own stack: its middleware,
error handlers, dependencies and response models. The bare app also answers `GET /health-plain`
from a plain Starlette route placed first, the way MediaNest serves its own `/health`, for a
like-for-like measure of what MediaNest's middleware costs.

`medianest_app` reads its (already migrated) data directory from `MEDIANEST_DATA_DIR`.
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from medianest.app import create_app
from medianest.config import Settings, load_settings
from medianest.core.cache import CacheService, create_cache
from medianest.core.metrics import Metrics

CACHED_PATH = "/api/v1/bench/cached"
PLAIN_HEALTH_PATH = "/health-plain"
CACHE_KEY = "bench:key"
CACHE_TTL = 300.0
# Never refused during a run, yet paid for as in production. A moving window keeps one entry per
# hit for the length of the window, so a per-minute allowance this large would grow to every request
# of the last minute (a cost no real allowance has); a one-second window keeps at most one second's.
UNLIMITED = "1000000/second"

_PAYLOAD: dict[str, Any] = {
    "items": [{"id": i, "title": f"Item {i}", "year": 2000 + i} for i in range(10)],
    "total": 10,
}


def bench_settings(**overrides: Any) -> Settings:
    """The embedded default (SQLite, in-process cache), quiet, with a limit that never bites."""
    data_dir = os.environ.get("MEDIANEST_DATA_DIR")
    if not data_dir:
        raise RuntimeError("set MEDIANEST_DATA_DIR to a migrated, throwaway data directory")
    return load_settings(
        data_dir=data_dir,
        database_url=None,
        redis_url=None,
        log_level="WARNING",
        rate_limit_api=UNLIMITED,
        **overrides,
    )


def add_cached_route(app: FastAPI, cache: CacheService) -> None:
    """The same handler on both apps: a cache hit after the first request."""

    async def fetch() -> dict[str, Any]:
        return _PAYLOAD

    @app.get(CACHED_PATH)
    async def cached() -> dict[str, Any]:
        return await cache.get_or_set(CACHE_KEY, fetch, ttl=CACHE_TTL)


def bare_app() -> FastAPI:
    """Plain FastAPI with no middleware, on the same kind of cache MediaNest builds."""
    settings = load_settings(redis_url=None)
    cache = create_cache(settings, Metrics())
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/health")
    async def health() -> dict[str, bool]:
        return {"ok": True}

    async def plain_health(_: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    app.router.routes.insert(0, Route(PLAIN_HEALTH_PATH, plain_health, methods=["GET", "HEAD"]))
    add_cached_route(app, cache)
    return app


def medianest_app() -> FastAPI:
    """MediaNest as `medianest serve` builds it, plus the benchmark's cached route."""
    app = create_app(bench_settings())
    add_cached_route(app, app.state.platform.cache)
    return app
