"""`create_app(settings)`: the one place where MediaNest's parts are built and wired together."""

from __future__ import annotations

import hashlib
import hmac
import uuid
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
from medianest.admin.pages import install_admin_pages
from medianest.admin.router import router as admin_router
from medianest.admin.service import AdminService
from medianest.auth.account import AccountService
from medianest.auth.allowance import ProofAllowance
from medianest.auth.deps import (
    VERIFIED_CLAIMS,
    optional_principal,
    pending_user,
    require_admin,
    require_user,
)
from medianest.auth.directory import UserDirectory
from medianest.auth.mailer import Mailer
from medianest.auth.pages import install_auth_pages
from medianest.auth.passwords import PasswordHasher
from medianest.auth.plex_access import PlexServerAccess
from medianest.auth.router import NEVER_LIMITED, SESSION_PATH
from medianest.auth.router import router as auth_router
from medianest.auth.service import AuthService
from medianest.auth.sessions import SessionService
from medianest.auth.tokens import JwtService
from medianest.auth.welcome import welcome
from medianest.config import Settings, load_settings
from medianest.connections.probe import PlexProbe
from medianest.connections.router import router as connections_router
from medianest.connections.service import ConnectionService
from medianest.connections.store import ConnectionStore
from medianest.core.audit import AuditService
from medianest.core.clientip import request_client_ip
from medianest.core.docs import router as docs_router
from medianest.core.errors import install_error_handlers
from medianest.core.health import liveness_route
from medianest.core.health import router as health_router
from medianest.core.logging import configure_logging
from medianest.core.middleware import ApiRateLimitMiddleware, EdgeMiddleware
from medianest.core.openapi import document_errors
from medianest.core.platform import Platform
from medianest.core.ratelimit import LimitName
from medianest.core.routing import attach, fast_routes, index_routes, serve_first
from medianest.core.secret_file import with_secrets
from medianest.core.security import EncryptionService, TokenHasher
from medianest.integrations.plex.server import PlexServerClient
from medianest.integrations.plex.servers import PlexServers
from medianest.integrations.plex.tv import build_plex_tv_client
from medianest.plex.admin_router import router as plex_admin_router
from medianest.plex.pages import install_plex_pages
from medianest.plex.router import IMAGE_PATH
from medianest.plex.router import router as plex_router
from medianest.plex.service import PlexService
from medianest.plex.sync import LibrarySync
from medianest.web import install_web

log = structlog.get_logger(__name__)


@dataclass
class Services:
    """Every domain service, built once per app (or worker) from the platform."""

    platform: Platform
    jwt: JwtService
    auth: AuthService
    account: AccountService
    admin: AdminService
    plex: PlexService
    connections: ConnectionService
    library_sync: LibrarySync
    plex_servers: PlexServers

    async def start(self) -> None:
        """Background parts of the services; after the platform started."""
        await self.connections.start()
        self.library_sync.start_scheduler()

    async def aclose(self) -> None:
        await self.library_sync.stop()
        # PlexService and connections first: they use the plex.tv client that AuthService closes.
        await self.connections.aclose()
        await self.plex.aclose()
        await self.auth.aclose()
        # Last: sign-in, browsing and the sync all call the Plex server through these.
        await self.plex_servers.aclose()


class State(TypedDict):
    platform: Platform
    services: Services


def plex_client_identifier(secret_key: str) -> str:
    """The X-Plex-Client-Identifier: stable for the installation and the same on every process
    (they share the secret key), without storing anything."""
    digest = hmac.new(secret_key.encode(), b"plex-client-identifier", hashlib.sha256).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def build_services(settings: Settings) -> Services:
    """Every service and job handler, wired, without I/O; shared by the web app and the worker."""
    platform = Platform.build(settings)
    assert settings.secret_key is not None, "with_secrets() fills it"
    secret = settings.secret_key.get_secret_value()
    jwt = JwtService(secret)
    hasher = TokenHasher(secret)
    encryption = EncryptionService(settings.encryption_keys)
    audit = AuditService()
    passwords = PasswordHasher()
    sessions = SessionService(platform.db, platform.cache, jwt, hasher)
    client_identifier = plex_client_identifier(secret)
    plex_tv = build_plex_tv_client(settings, platform.breakers, platform.metrics, client_identifier)
    # The Plex server the admin page connected (or the settings seeded): for sign-in and browsing.
    store = ConnectionStore(platform.db, encryption, settings)
    # One client per Plex server address, for sign-in, browsing and the sync alike.
    plex_servers = PlexServers(
        settings, platform.breakers, platform.metrics, client_identifier=client_identifier
    )
    plex_access = PlexServerAccess(plex_tv, plex_servers, store.plex)
    allowance = ProofAllowance(platform.limiter)
    auth = AuthService(
        db=platform.db,
        cache=platform.cache,
        allowance=allowance,
        audit=audit,
        sessions=sessions,
        passwords=passwords,
        hasher=hasher,
        encryption=encryption,
        plex_tv=plex_tv,
        plex_access=plex_access,
    )
    account = AccountService(
        public_url=settings.public_url,
        audit=audit,
        sessions=sessions,
        passwords=passwords,
        hasher=hasher,
        encryption=encryption,
        mailer=Mailer(settings),
        queue=platform.queue,
        allowance=allowance,
    )
    users = UserDirectory(audit=audit, sessions=sessions)
    admin = AdminService(audit=audit, users=users, account=account)
    plex = PlexService(
        settings=settings,
        cache=platform.cache,
        db=platform.db,
        encryption=encryption,
        plex_tokens=auth.plex_tokens,
        plex_tv=plex_tv,
        connection=store.plex,
        servers=plex_servers,
    )
    connections = ConnectionService(
        db=platform.db,
        store=store,
        probe=PlexProbe(settings, plex_tv, plex_servers),
        encryption=encryption,
        audit=audit,
        bus=platform.bus,
        plex_tv=plex_tv,
        auth=auth,
        plex=plex,
        plex_access=plex_access,
    )

    async def plex_for_sync() -> tuple[PlexServerClient, str]:
        # Asked at each sync, so a server connected or changed since start-up is the one synced.
        server = await plex.callers.server()
        return server.client, server.owner_token

    library_sync = LibrarySync(
        db=platform.db,
        queue=platform.queue,
        index=plex.index,
        connect=plex_for_sync,
        audit=audit,
        interval_minutes=settings.plex_sync_interval_minutes,
        on_changed=plex.libraries_changed,
    )
    connections.add_on_connected(library_sync.on_connected)
    return Services(
        platform, jwt, auth, account, admin, plex, connections, library_sync, plex_servers
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
    for install_pages in (install_auth_pages, install_plex_pages, install_admin_pages):
        install_pages(app, web)
    install_error_handlers(app, pages=web.render_error)
    serve_first(app, liveness_route(), *fast_routes(auth_router, SESSION_PATH))
    for router in (
        health_router,
        docs_router,
        auth_router,
        admin_router,
        connections_router,
        plex_router,
        plex_admin_router,
    ):
        attach(app, router)
    index_routes(app)
    document_errors(app, _errors_of)

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
        limit_for=_api_limit_for,
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


# Routes that reach Plex or plex.tv on a call, and so answer when it is down or slow.
_UPSTREAM_PATHS = ("/api/v1/plex/", "/api/v1/auth/plex/", "/api/v1/admin/plex/")


def _errors_of(route: APIRoute) -> set[int]:
    """The errors a route answers beyond the ones its shape tells (core.openapi)."""
    calls = set(_calls(route.dependant))
    statuses: set[int] = set()
    if calls & {pending_user, require_user, require_admin}:
        # Signed out; then, signed in but the first password still to change, or no CSRF token.
        statuses |= {401, 403}
    elif optional_principal in calls and (route.methods or set()) - {"GET", "HEAD"}:
        statuses.add(403)
    if route.path_format.startswith("/api/v1/") and _api_limit_for(route.path_format):
        statuses.add(429)
    if route.path_format.startswith(_UPSTREAM_PATHS):
        statuses |= {503, 504}
    return statuses


def _calls(dependant: Dependant) -> list[object]:
    found: list[object] = [dependant.call] if dependant.call is not None else []
    for sub in dependant.dependencies:
        found.extend(_calls(sub))
    return found


def _api_limit_for(path: str) -> LimitName | None:
    if path in NEVER_LIMITED:
        return None
    return "images" if path == IMAGE_PATH else "api"


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
