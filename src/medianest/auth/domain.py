"""Accounts: sign-in (password and Plex), sessions, passwords, two-factor, the user directory."""

from __future__ import annotations

from dataclasses import dataclass

from medianest.auth.account import AccountService
from medianest.auth.allowance import ProofAllowance
from medianest.auth.directory import UserDirectory
from medianest.auth.mailer import Mailer
from medianest.auth.pages import install_auth_pages
from medianest.auth.passwords import PasswordHasher
from medianest.auth.plex_access import PlexServerAccess
from medianest.auth.router import NEVER_LIMITED, SESSION_PATH, router
from medianest.auth.service import AuthService
from medianest.auth.sessions import SessionService
from medianest.auth.tokens import JwtService
from medianest.connections.models import PLEX
from medianest.connections.service import ConnectionChanged, Connections
from medianest.core.domain import Domain
from medianest.core.runtime import Platform
from medianest.core.security import TokenHasher
from medianest.integrations.plex.upstream import PlexUpstream


@dataclass(kw_only=True)
class Auth(Domain):
    jwt: JwtService
    service: AuthService
    account: AccountService
    users: UserDirectory
    plex_access: PlexServerAccess


def build_auth(platform: Platform, plex: PlexUpstream, connections: Connections) -> Auth:
    """Signing in with Plex is for the owner and friends of the connected Plex server."""
    settings = platform.settings
    assert settings.secret_key is not None, "with_secrets() fills it"
    secret = settings.secret_key.get_secret_value()
    jwt = JwtService(secret)
    hasher = TokenHasher(secret)
    passwords = PasswordHasher()
    sessions = SessionService(platform.db, platform.cache, jwt, hasher, bus=platform.bus)
    plex_access = PlexServerAccess(plex.plex_tv, plex.servers, connections.store.plex)

    async def forget_server(event: ConnectionChanged) -> None:
        if event.name == PLEX:
            plex_access.forget()

    connections.on_changed(forget_server)
    allowance = ProofAllowance(platform.limiter)
    service = AuthService(
        db=platform.db,
        cache=platform.cache,
        allowance=allowance,
        audit=platform.audit,
        sessions=sessions,
        passwords=passwords,
        hasher=hasher,
        encryption=platform.encryption,
        plex_tv=plex.plex_tv,
        plex_access=plex_access,
    )
    account = AccountService(
        public_url=settings.public_url,
        audit=platform.audit,
        sessions=sessions,
        passwords=passwords,
        hasher=hasher,
        encryption=platform.encryption,
        mailer=Mailer(settings),
        queue=platform.queue,
        allowance=allowance,
    )
    return Auth(
        name="auth",
        routers=(router,),
        fast_paths=(SESSION_PATH,),
        limits=dict.fromkeys(NEVER_LIMITED),
        upstream_paths=("/api/v1/auth/plex/",),
        pages=install_auth_pages,
        jwt=jwt,
        service=service,
        account=account,
        users=UserDirectory(audit=platform.audit, sessions=sessions),
        plex_access=plex_access,
    )
