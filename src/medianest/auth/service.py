"""Signing in and out: local passwords (with 2FA), Plex PINs, refresh and the first-run admin."""

from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass

import structlog
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from medianest.auth.allowance import ProofAllowance, account_key, address_key
from medianest.auth.errors import (
    AccountSuspended,
    InvalidCredentials,
    InvalidTotp,
    NoAccessToServer,
    NoServerForSignIn,
    PinNotAuthorized,
    TotpRequired,
)
from medianest.auth.models import Role, User, UserStatus
from medianest.auth.passwords import PasswordHasher
from medianest.auth.plex_access import AccessDecision, PlexServerAccess
from medianest.auth.plex_tokens import PlexTokens
from medianest.auth.sessions import IssuedSession, Principal, SessionService
from medianest.auth.two_factor import consume_backup_code, matching_step
from medianest.core.audit import Actor, AuditService
from medianest.core.cache import CacheService
from medianest.core.db import Database, utc_now
from medianest.core.errors import NotFound, Unauthorized
from medianest.core.security import EncryptionService, TokenHasher
from medianest.integrations.plex.errors import UnknownPin
from medianest.integrations.plex.tv import PlexAccount, PlexPin, PlexTvClient

log = structlog.get_logger(__name__)

FIRST_ADMIN = "admin"
# The longest plex.tv keeps a PIN (strong PINs: 30 minutes): how long an ended one stays ended.
PIN_LIFETIME_SECONDS = 1800


@dataclass(frozen=True, slots=True)
class Client:
    """Where a request comes from, for sessions, rate limits and the audit log."""

    ip: str
    user_agent: str | None

    def actor(self, user: User | Principal | None = None) -> Actor:
        if user is None:
            return Actor(None, None, self.ip)
        return Actor(user.id, user.username, self.ip)


@dataclass(frozen=True, slots=True)
class SignedIn:
    user: User
    issued: IssuedSession


@dataclass(frozen=True, slots=True)
class StartedPin:
    pin: PlexPin
    auth_url: str
    browser_secret: str


class AuthService:
    def __init__(
        self,
        *,
        db: Database,
        cache: CacheService,
        allowance: ProofAllowance,
        audit: AuditService,
        sessions: SessionService,
        passwords: PasswordHasher,
        hasher: TokenHasher,
        encryption: EncryptionService,
        plex_tv: PlexTvClient,
        plex_access: PlexServerAccess,
    ) -> None:
        self._db = db
        self._cache = cache
        self._allowance = allowance
        self._audit = audit
        self.sessions = sessions
        self._passwords = passwords
        self._hasher = hasher
        self._encryption = encryption
        self.plex_tokens = PlexTokens(db, encryption)
        self._plex_tv = plex_tv
        self._plex_access = plex_access

    async def ensure_first_admin(self) -> bool:
        """On an empty database, create `admin` / `admin`, to be changed at first sign-in."""
        async with self._db.unit_of_work() as session:
            if await session.scalar(select(func.count()).select_from(User)):
                return False
            session.add(
                User(
                    username=FIRST_ADMIN,
                    username_key=FIRST_ADMIN,
                    role=Role.ADMIN,
                    password_hash=self._passwords.hash(FIRST_ADMIN),
                    requires_password_change=True,
                )
            )
        log.info("auth.first_admin_created", username=FIRST_ADMIN)
        return True

    async def login(
        self,
        session: AsyncSession,
        *,
        username: str,
        password: str,
        totp_code: str | None,
        remember: bool,
        client: Client,
    ) -> SignedIn:
        account = account_key(username)
        address = address_key(client.ip)
        await self._allowance.check(address, account)
        user = await session.scalar(
            select(User).where(User.username_key == username.strip().lower())
        )
        if not self._passwords.verify(password, user.password_hash if user else None):
            await self._failed(session, client, username=username, reason="bad_password")
            await self._allowance.failed(address, account)
            raise InvalidCredentials
        assert user is not None
        if user.status != UserStatus.ACTIVE:
            await self._failed(session, client, username=username, reason="suspended")
            raise AccountSuspended
        if user.totp_enabled:
            if not totp_code:
                raise TotpRequired
            if not await self._second_factor(session, user, totp_code):
                await self._failed(session, client, username=username, reason="bad_totp")
                await self._allowance.failed(address, account)
                raise InvalidTotp
        await self._allowance.proven(account)
        return await self._sign_in(
            session, user, remember=remember, client=client, method="password"
        )

    async def start_plex_pin(self, *, forward_url: str | None = None) -> StartedPin:
        """A new PIN; app.plex.tv sends its window to `forward_url` once it is approved."""
        pin = await self._plex_tv.create_pin()
        secret = self._pin_secret(pin.id)
        return StartedPin(pin, self._plex_tv.auth_url(pin.code, forward_url=forward_url), secret)

    def _pin_secret(self, pin_id: int) -> str:
        # What proves the browser that finishes a PIN is the one that started it: a keyed hash of
        # the PIN, given to that browser only (its PIN cookie). Nothing is stored for it, so a
        # cache that dropped an entry (Redis slow or restarting) cannot lose a sign-in.
        return self._hasher.hash(f"plex-pin-browser:{pin_id}")

    async def plex_pin_status(self, pin_id: int) -> PlexPin:
        return await self._plex_tv.get_pin(pin_id)

    async def verify_plex_pin(
        self,
        session: AsyncSession,
        *,
        pin_id: int,
        browser_secret: str | None,
        remember: bool,
        client: Client,
    ) -> SignedIn:
        """Sign in with an approved PIN started by this same browser (the PIN cookie proves it)."""
        token = await self.approved_plex_token(pin_id, browser_secret)
        account = await self._plex_tv.get_account(token)
        decision = await self._plex_access.check(account)
        if not decision.allowed:
            await self._failed(session, client, username=account.username, reason=decision.value)
            if decision is AccessDecision.NO_SERVER:
                raise NoServerForSignIn
            raise NoAccessToServer
        user = await self._upsert_plex_user(session, account, token, decision)
        if user.status != UserStatus.ACTIVE:
            await self._failed(session, client, username=user.username, reason="suspended")
            raise AccountSuspended
        await self.end_plex_pin(pin_id)
        return await self._sign_in(session, user, remember=remember, client=client, method="plex")

    async def approved_plex_token(self, pin_id: int, browser_secret: str | None) -> str:
        """The Plex token of an approved PIN started by this same browser (the PIN cookie
        proves it). Raises `UnknownPin` (400 `INVALID_PIN`) for another browser's, an unknown
        or an expired PIN, and `PinNotAuthorized` until the user approved it."""
        started_here = browser_secret is not None and hmac.compare_digest(
            browser_secret.encode(), self._pin_secret(pin_id).encode()
        )
        if not started_here or await self._cache.get(f"auth:pin-ended:{pin_id}") is not None:
            raise UnknownPin(
                "This Plex sign-in was started somewhere else or has expired. Start again."
            )
        pin = await self._plex_tv.get_pin(pin_id)
        if not pin.auth_token:
            raise PinNotAuthorized
        return pin.auth_token

    async def end_plex_pin(self, pin_id: int) -> None:
        """The PIN has served its purpose: it cannot be used again (for as long as plex.tv
        would still answer it; a cache that lost the mark leaves it to the same browser)."""
        await self._cache.set(f"auth:pin-ended:{pin_id}", True, ttl=PIN_LIFETIME_SECONDS)

    async def logout(
        self, session: AsyncSession, principal: Principal, *, everywhere: bool, client: Client
    ) -> None:
        if everywhere:
            await self.sessions.revoke_all(session, principal.id, reason="logout_all")
        else:
            await self.sessions.revoke_one(
                session, principal.id, principal.session_id, reason="logout"
            )
        await self._audit.record(
            session, "auth.logout", actor=client.actor(principal), all_sessions=everywhere
        )

    async def refresh(
        self, session: AsyncSession, remember_token: str | None, *, client: Client
    ) -> tuple[IssuedSession | None, str]:
        """(rotated session tokens or None inside the grace window, new access token)."""
        if not remember_token:
            raise Unauthorized("Sign in to continue.")
        _, issued, access = await self.sessions.refresh(session, remember_token, ip=client.ip)
        return issued, access

    async def revoke_device(
        self, session: AsyncSession, principal: Principal, session_id: uuid.UUID, *, client: Client
    ) -> None:
        if not await self.sessions.revoke_one(session, principal.id, session_id, reason="revoked"):
            raise NotFound("That session does not exist or is already signed out.")
        await self._audit.record(
            session,
            "auth.session_revoked",
            actor=client.actor(principal),
            target_type="session",
            target_id=session_id,
        )

    async def _sign_in(
        self, session: AsyncSession, user: User, *, remember: bool, client: Client, method: str
    ) -> SignedIn:
        user.last_login_at = utc_now()
        issued = await self.sessions.create(
            session, user, ip=client.ip, user_agent=client.user_agent, remember=remember
        )
        await self._audit.record(
            session,
            "auth.login",
            actor=client.actor(user),
            target_type="session",
            target_id=issued.session_id,
            method=method,
        )
        log.info("auth.login", user_id=str(user.id), method=method)
        return SignedIn(user, issued)

    async def _failed(
        self, session: AsyncSession, client: Client, *, username: str, reason: str
    ) -> None:
        # The request is failing: give up its transaction (on SQLite it may hold the write lock)
        # and record the failure in one of its own, so the record stays.
        await session.rollback()
        async with self._db.unit_of_work() as own:
            await self._audit.record(
                own,
                "auth.login_failed",
                actor=client.actor(),
                username=username[:100],
                reason=reason,
            )
        log.info("auth.login_failed", reason=reason)

    async def _second_factor(self, session: AsyncSession, user: User, code: str) -> bool:
        if user.totp_secret_encrypted is None:
            return False
        secret = self._encryption.decrypt(user.totp_secret_encrypted)
        step = matching_step(secret, code, after_step=user.totp_last_step)
        if step is not None:
            # Conditional update: two requests racing with one code cannot both win.
            used = await session.execute(
                update(User)
                .where(User.id == user.id)
                .where((User.totp_last_step.is_(None)) | (User.totp_last_step < step))
                .values(totp_last_step=step)
                .execution_options(synchronize_session="fetch")
            )
            return bool(used.rowcount)  # type: ignore[attr-defined]
        return await consume_backup_code(session, self._hasher, user.id, code)

    async def _upsert_plex_user(
        self, session: AsyncSession, account: PlexAccount, token: str, decision: AccessDecision
    ) -> User:
        user = await session.scalar(select(User).where(User.plex_id == account.id))
        if user is None:
            user = User(
                username=await self._free_username(session, account.username),
                plex_id=account.id,
                role=Role.ADMIN if decision is AccessDecision.OWNER else Role.USER,
            )
            user.username_key = user.username.lower()
            session.add(user)
        user.email = account.email
        user.email_key = account.email.lower() if account.email else None
        user.thumb = account.thumb
        self.plex_tokens.seal(user, token)
        await session.flush()
        await self.sessions.forget_user(session, user.id)
        return user

    async def _free_username(self, session: AsyncSession, wanted: str) -> str:
        """The Plex username, or with a number added if a local account already has it."""
        base = wanted.strip()[:90] or "plex-user"
        candidate, n = base, 1
        while await session.scalar(select(User.id).where(User.username_key == candidate.lower())):
            n += 1
            candidate = f"{base}-{n}"
        return candidate
