"""`create_app(settings)`: the one place where MediaNest's parts are built and wired together."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TypedDict

import structlog
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.middleware.cors import CORSMiddleware
from starlette.types import Scope

from medianest import __version__
from medianest.admin.domain import build_admin
from medianest.admin.service import AdminService
from medianest.auth.account import AccountService
from medianest.auth.deps import (
    VERIFIED_CLAIMS,
    optional_principal,
    pending_user,
    require_admin,
    require_user,
)
from medianest.auth.domain import build_auth
from medianest.auth.service import AuthService
from medianest.auth.tokens import JwtService
from medianest.auth.welcome import welcome
from medianest.broadcasts.domain import build_broadcasts
from medianest.config import Settings, load_settings
from medianest.connections.domain import build_connections
from medianest.connections.service import Connections
from medianest.core.clientip import request_client_ip
from medianest.core.docs import router as docs_router
from medianest.core.domain import Domain
from medianest.core.errors import install_error_handlers
from medianest.core.health import liveness_route
from medianest.core.health import router as health_router
from medianest.core.log_config import configure_logging
from medianest.core.middleware import ApiRateLimitMiddleware, EdgeMiddleware
from medianest.core.openapi import document_errors
from medianest.core.ratelimit import LimitName
from medianest.core.routing import attach, fast_routes, index_routes, serve_first
from medianest.core.runtime import Platform
from medianest.core.secret_file import with_secrets
from medianest.integrations.overseerr.upstream import build_overseerr_upstream
from medianest.integrations.plex.upstream import build_plex_upstream
from medianest.integrations.uptime_kuma.upstream import build_uptime_kuma_upstream
from medianest.notifications.domain import build_notifications
from medianest.plex.connection import PlexConnectionService
from medianest.plex.domain import build_plex
from medianest.plex.service import PlexService
from medianest.plex.sync import LibrarySync
from medianest.requests.domain import build_requests
from medianest.status.domain import build_status
from medianest.web import install_web

log = structlog.get_logger(__name__)


@dataclass
class Services:
    """Every domain, built once per app (or worker) from the platform, in the order
    `build_services` lists them; the named fields are what routes and pages reach through
    `request.state.services`."""

    platform: Platform
    domains: tuple[Domain, ...]
    jwt: JwtService
    auth: AuthService
    account: AccountService
    admin: AdminService
    connections: Connections
    plex: PlexService
    plex_connection: PlexConnectionService
    library_sync: LibrarySync

    def domain(self, name: str) -> Domain:
        """The domain built under `name`; a domain's own dependencies reach it this way, so a
        new domain needs no field here."""
        for domain in self.domains:
            if domain.name == name:
                return domain
        raise LookupError(name)

    async def start(self) -> None:
        """Background parts of the domains, in order; after the platform started."""
        for domain in self.domains:
            if domain.start is not None:
                await domain.start()

    async def aclose(self) -> None:
        """In reverse order: nothing is closed while a domain after it still uses it."""
        for domain in reversed(self.domains):
            if domain.stop is not None:
                try:
                    await domain.stop()
                except Exception:
                    log.exception("app.domain_stop_failed", domain=domain.name)


class State(TypedDict):
    platform: Platform
    services: Services


def build_services(settings: Settings) -> Services:
    """Every domain with its services, routes, pages and jobs, wired, without I/O; shared by the
    web app and the worker. A new domain is one line here (after the domains it uses)."""
    platform = Platform.build(settings)
    plex_upstream = build_plex_upstream(platform)
    connections = build_connections(platform)
    auth = build_auth(platform, plex_upstream, connections.connections)
    notifications = build_notifications(platform, auth)
    plex = build_plex(platform, plex_upstream, connections.connections, auth)
    admin = build_admin(platform, auth)
    broadcasts = build_broadcasts(platform, notifications.service, auth.users)
    overseerr_upstream = build_overseerr_upstream(platform)
    requests = build_requests(
        platform,
        overseerr_upstream,
        connections.connections,
        auth,
        plex,
        admin,
        notifications.service,
    )
    kuma_upstream = build_uptime_kuma_upstream(platform)
    status = build_status(
        platform,
        plex=plex_upstream,
        overseerr=overseerr_upstream,
        kuma=kuma_upstream,
        connections=connections.connections,
        overseerr_connection=requests.connection,
        auth=auth,
        notifications=notifications.service,
    )
    return Services(
        platform=platform,
        domains=(
            plex_upstream,
            connections,
            auth,
            notifications,
            plex,
            admin,
            broadcasts,
            overseerr_upstream,
            requests,
            kuma_upstream,
            status,
        ),
        jwt=auth.jwt,
        auth=auth.service,
        account=auth.account,
        admin=admin.service,
        connections=connections.connections,
        plex=plex.service,
        plex_connection=plex.connection,
        library_sync=plex.sync,
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = with_secrets(settings or load_settings())
    configure_logging(settings.log_level, settings.resolved_log_format)
    services = build_services(settings)
    platform = services.platform

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[State]:
        await platform.start(consume_jobs=settings.resolved_web_runs_jobs)
        first_start = False
        try:
            first_start = await services.auth.ensure_first_admin()
        except Exception as exc:
            log.error("auth.first_admin_failed", error=type(exc).__name__)
        await services.start()
        if first_start:
            welcome(settings.address_to_open)
        try:
            yield {"platform": platform, "services": services}
        finally:
            await platform.stop_jobs()
            await services.aclose()
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
    web = install_web(app, settings)
    for domain in services.domains:
        if domain.pages is not None:
            domain.pages(app, web)
    install_error_handlers(app, pages=web.render_error)
    fast = [r for d in services.domains for r in fast_routes(d.routers, d.fast_paths)]
    serve_first(app, liveness_route(), *fast)
    attach(app, health_router)
    attach(app, docs_router)
    for domain in services.domains:
        for router in domain.routers:
            attach(app, router)
    index_routes(app)
    limits = _Limits(services.domains)
    document_errors(app, limits.errors_of)

    def scope_ip(scope: Scope) -> str:
        return request_client_ip(scope, settings)

    def scope_user(scope: Scope) -> str | None:
        """The user an access token names (signature checked, session not): for rate limits."""
        token = _access_token(scope)
        if token is None:
            return None
        try:
            claims = services.jwt.verify_token(token)
        except Exception:
            return None
        scope.setdefault("state", {})[VERIFIED_CLAIMS] = (token, claims)
        return claims.user_key

    # Added innermost first: the edge middleware must wrap everything, including CORS answers.
    app.add_middleware(
        ApiRateLimitMiddleware,
        hit=platform.limiter.hit,
        client_ip=scope_ip,
        identity=scope_user,
        limit_for=limits.limit_for,
    )
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
        EdgeMiddleware,
        metrics=platform.metrics,
        max_body_bytes=settings.max_body_bytes,
        upstream_deadline=settings.upstream_deadline,
    )
    return app


class _Limits:
    """What the domains say of their paths: the allowance each spends, which call upstreams."""

    def __init__(self, domains: tuple[Domain, ...]) -> None:
        self._limits = {path: limit for d in domains for path, limit in d.limits.items()}
        self._upstream = tuple(prefix for d in domains for prefix in d.upstream_paths)

    def limit_for(self, path: str) -> LimitName | None:
        return self._limits.get(path, "api")

    def errors_of(self, route: APIRoute) -> set[int]:
        """The errors a route answers beyond the ones its shape tells (core.openapi)."""
        calls = set(_calls(route.dependant))
        statuses: set[int] = set()
        if calls & {pending_user, require_user, require_admin}:
            # Signed out; then, signed in but the first password still to change, or no CSRF.
            statuses |= {401, 403}
        elif optional_principal in calls and (route.methods or set()) - {"GET", "HEAD"}:
            statuses.add(403)
        if route.path_format.startswith("/api/v1/") and self.limit_for(route.path_format):
            statuses.add(429)
        if self._upstream and route.path_format.startswith(self._upstream):
            statuses |= {503, 504}
        return statuses


def _calls(dependant: Dependant) -> list[object]:
    found: list[object] = [dependant.call] if dependant.call is not None else []
    for sub in dependant.dependencies:
        found.extend(_calls(sub))
    return found


def _access_token(scope: Scope) -> str | None:
    """The bearer token, else the `token` cookie: the same precedence as the auth dependency."""
    headers: list[tuple[bytes, bytes]] = scope["headers"]
    cookie: str | None = None
    for name, value in headers:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
        elif name == b"cookie":
            for part in value.decode("latin-1").split(";"):
                key, _, found = part.strip().partition("=")
                if key == "token" and found:
                    cookie = found
    return cookie


def create_app_from_env() -> FastAPI:
    """Entry point for `uvicorn --factory` (used by `medianest serve`)."""
    return create_app(load_settings())
