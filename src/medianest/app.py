"""`create_app(settings)`: the one place where MediaNest's parts are built and wired together."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypedDict

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.types import Scope

from medianest import __version__
from medianest.config import Settings, load_settings
from medianest.core.clientip import client_ip
from medianest.core.docs import router as docs_router
from medianest.core.errors import install_error_handlers
from medianest.core.health import router as health_router
from medianest.core.logging import configure_logging
from medianest.core.middleware import ApiRateLimitMiddleware, EdgeMiddleware
from medianest.core.platform import Platform
from medianest.core.secrets import with_secrets


class State(TypedDict):
    platform: Platform


def build_platform(settings: Settings) -> Platform:
    """Every service and job handler, wired; shared by the web app and `medianest worker`."""
    return Platform.build(settings)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = with_secrets(settings or load_settings())
    configure_logging(settings.log_level, settings.resolved_log_format)
    platform = build_platform(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[State]:
        await platform.start(consume_jobs=settings.resolved_web_runs_jobs)
        try:
            yield {"platform": platform}
        finally:
            await platform.stop()

    app = FastAPI(
        title="MediaNest",
        version=__version__,
        description="One login for everything around a Plex server.",
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.platform = platform
    install_error_handlers(app)
    app.include_router(health_router)
    app.include_router(docs_router)

    def scope_ip(scope: Scope) -> str:
        peer = scope.get("client")
        forwarded = next(
            (v.decode("latin-1") for k, v in scope["headers"] if k == b"x-forwarded-for"), None
        )
        return client_ip(peer[0] if peer else None, forwarded, settings.trusted_proxies)

    # Added innermost first: the edge middleware must wrap everything, including CORS answers.
    app.add_middleware(ApiRateLimitMiddleware, hit=platform.limiter.hit, client_ip=scope_ip)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=True,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-CSRF-Token", "X-Correlation-Id"],
            expose_headers=["X-Correlation-Id", "Retry-After", "X-Cache"],
        )
    app.add_middleware(
        EdgeMiddleware, metrics=platform.metrics, max_body_bytes=settings.max_body_bytes
    )
    return app


def create_app_from_env() -> FastAPI:
    """Entry point for `uvicorn --factory` (used by `medianest serve`)."""
    return create_app(load_settings())
