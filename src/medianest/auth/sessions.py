"""Device sessions: creating, refreshing (with remember-token rotation), revoking, and the fast
per-request check that an access token's session is still alive.

Every request needs "is this session alive, who is the user": that answer is cached for a minute
and dropped the moment a session is revoked or a user changes, so logout takes effect at once
while an authenticated request costs a cache lookup, not a database query.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from pydantic import BaseModel, ConfigDict, TypeAdapter
from sqlalchemy import ScalarSelect, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from ua_parser import parse as parse_user_agent

from medianest.auth.models import DeviceSession, RememberToken, User, UserStatus
from medianest.auth.tokens import AccessClaims, InvalidToken, JwtService
from medianest.core.bus import Bus
from medianest.core.cache import CacheService
from medianest.core.db import Database, after_commit, utc_now
from medianest.core.errors import Unauthorized
from medianest.core.security import TokenHasher, random_token

log = structlog.get_logger(__name__)

REMEMBER_IDLE = timedelta(days=30)
SESSION_IDLE = timedelta(hours=12)
# Two tabs refreshing at the same moment both present the same token; that is not theft.
ROTATION_GRACE = timedelta(seconds=10)
LAST_SEEN_EVERY = timedelta(minutes=5)
SNAPSHOT_TTL = 60.0
REVOKED_CHANNEL = "session.revoked"
"""Bus channel: `{"userId", "sessionId"}` once a session is revoked; `sessionId` null when the
user changed and all their sessions are to be looked at again (notifications/realtime.py)."""


class SessionRevoked(Unauthorized):
    message = "You were signed out. Sign in again."


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a snapshot of the user, cached, never the ORM object."""

    id: uuid.UUID
    username: str
    email: str | None
    role: str
    status: str
    thumb: str | None
    totp_enabled: bool
    requires_password_change: bool
    has_password: bool
    plex_linked: bool
    session_id: uuid.UUID

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True, slots=True)
class IssuedSession:
    session_id: uuid.UUID
    access_token: str
    remember_token: str
    remember: bool


def describe_device(user_agent: str | None) -> str:
    if not user_agent:
        return "Unknown device"
    parsed = parse_user_agent(user_agent)
    browser = parsed.user_agent.family if parsed.user_agent else None
    system = parsed.os.family if parsed.os else None
    if browser and system and browser != "Other" and system != "Other":
        return f"{browser} on {system}"
    return (browser if browser and browser != "Other" else user_agent[:60]) or "Unknown device"


def last_seen_at() -> ScalarSelect[datetime]:
    """When the `User` of the enclosing query last used MediaNest: the latest use of any of their
    device sessions, revoked ones included (a suspended user was still seen). None: never.

    A sign-in is a new session, so this is never earlier than `User.last_login_at`; a remembered
    device keeps it current for weeks without signing in again."""
    return (
        select(func.max(DeviceSession.last_seen_at))
        .where(DeviceSession.user_id == User.id)
        .correlate(User)
        .scalar_subquery()
    )


_PRINCIPAL_PREFIX = "auth:principal:"
_PRINCIPALS_KEPT = 10_000


class _Snapshot(BaseModel):
    """The cached form of a live session (`_load_principal`), read once per cached value."""

    model_config = ConfigDict(frozen=True)

    expires_at: datetime
    last_seen_at: datetime
    user: dict[str, Any]


_SNAPSHOT: TypeAdapter[_Snapshot | None] = TypeAdapter(_Snapshot | None)


def _principal_key(user_id: uuid.UUID, session_id: uuid.UUID | str) -> str:
    return f"{_PRINCIPAL_PREFIX}{user_id}:{session_id}"


def _user_snapshot(user: User) -> dict[str, Any]:
    return {
        "id": str(user.id),
        "username": user.username,
        "email": user.email,
        "role": user.role,
        "status": user.status,
        "thumb": user.thumb,
        "totp_enabled": user.totp_enabled,
        "requires_password_change": user.requires_password_change,
        "has_password": user.password_hash is not None,
        "plex_linked": user.plex_id is not None,
    }


class SessionService:
    def __init__(
        self,
        db: Database,
        cache: CacheService,
        jwt: JwtService,
        hasher: TokenHasher,
        *,
        bus: Bus | None = None,
    ) -> None:
        """`bus` hears of every revoked session (`REVOKED_CHANNEL`) once it is committed."""
        self._db = db
        self._bus = bus
        self._cache = cache
        self._jwt = jwt
        self._hasher = hasher
        self._principals: dict[str, tuple[_Snapshot, Principal]] = {}

    async def create(
        self,
        session: AsyncSession,
        user: User,
        *,
        ip: str | None,
        user_agent: str | None,
        remember: bool,
    ) -> IssuedSession:
        now = utc_now()
        device = DeviceSession(
            user_id=user.id,
            device=describe_device(user_agent)[:200],
            ip=ip,
            remember=remember,
            created_at=now,
            last_seen_at=now,
            expires_at=now + (REMEMBER_IDLE if remember else SESSION_IDLE),
        )
        session.add(device)
        await session.flush()
        remember_token = await self._new_remember_token(session, device.id)
        return IssuedSession(
            device.id, self._jwt.generate_access_token(user.id, device.id), remember_token, remember
        )

    async def refresh(
        self, session: AsyncSession, remember_token: str, *, ip: str | None
    ) -> tuple[User, IssuedSession | None, str]:
        """Rotate a remember token: (user, the new session tokens, access token).

        The issued session is None inside the rotation grace window (a second tab refreshing
        with the same token gets an access token only). A token rotated longer ago than that was
        stolen: the whole device session is revoked and `SessionRevoked` raised.
        """
        now = utc_now()
        row = await session.scalar(
            select(RememberToken).where(
                RememberToken.token_hash == self._hasher.hash(remember_token)
            )
        )
        if row is None:
            raise InvalidToken("Sign in to continue.")
        device = await session.get(DeviceSession, row.session_id)
        if device is None or device.revoked_at is not None or device.expires_at <= now:
            raise SessionRevoked
        user = await session.get(User, device.user_id)
        if user is None or user.status != UserStatus.ACTIVE:
            raise SessionRevoked
        if row.rotated_at is not None:
            if now - row.rotated_at > ROTATION_GRACE:
                stolen, owner = device.id, device.user_id
                log.warning("auth.remember_token_reused", session_id=str(stolen))
                # The request fails, so its transaction rolls back: revoke in one that commits.
                await session.rollback()
                async with self._db.unit_of_work() as own:
                    await self._revoke(own, owner, [stolen], reason="token_reuse")
                raise SessionRevoked(
                    "This sign-in was used from somewhere else, so we signed it out to be safe. "
                    "Sign in again."
                )
            return user, None, self._jwt.generate_access_token(user.id, device.id)
        row.rotated_at = now
        device.last_seen_at = now
        device.ip = ip or device.ip
        device.expires_at = now + (REMEMBER_IDLE if device.remember else SESSION_IDLE)
        new_token = await self._new_remember_token(session, device.id)
        access = self._jwt.generate_access_token(user.id, device.id)
        return user, IssuedSession(device.id, access, new_token, device.remember), access

    async def authenticate(
        self, access_token: str, *, verified: AccessClaims | None = None, fresh: bool = False
    ) -> Principal:
        """The caller behind an access token; raises 401 errors when it is not (any more) valid.

        `verified` is this token's claims when the signature was already checked for this request.
        `fresh` reads the session from the database, not the cache: for a check that must see a
        revocation that was just announced, whatever another request put in the cache meanwhile.
        """
        claims = verified or self._jwt.verify_token(access_token)
        user_id, session_id = claims.user_id, claims.session_id
        # One cache entry per (user, session): one lookup per request. Revoking a session drops
        # its entry; a change to the user drops all of theirs (`forget_user`).
        key = f"{_PRINCIPAL_PREFIX}{claims.user_key}:{claims.session_key}"
        if fresh:
            snapshot = _SNAPSHOT.validate_python(await self._load_principal(user_id, session_id))
        else:
            snapshot = await self._cache.get_or_set_typed(
                key, lambda: self._load_principal(user_id, session_id), _SNAPSHOT, ttl=SNAPSHOT_TTL
            )
        if snapshot is None:
            raise SessionRevoked
        now = utc_now()
        if snapshot.expires_at <= now:
            raise SessionRevoked("Your session has expired. Sign in again.")
        if snapshot.last_seen_at < now - LAST_SEEN_EVERY:
            await self._touch(user_id, session_id)
        # The snapshot object stays the same while its cache entry is unchanged, and so may the
        # principal made from it.
        made = self._principals.get(key)
        if made is not None and made[0] is snapshot:
            return made[1]
        principal = Principal(**{**snapshot.user, "id": user_id, "session_id": session_id})
        if len(self._principals) >= _PRINCIPALS_KEPT:
            self._principals.clear()
        self._principals[key] = (snapshot, principal)
        return principal

    async def list_for_user(self, session: AsyncSession, user_id: uuid.UUID) -> list[DeviceSession]:
        rows = await session.scalars(
            select(DeviceSession)
            .where(
                DeviceSession.user_id == user_id,
                DeviceSession.revoked_at.is_(None),
                DeviceSession.expires_at > utc_now(),
            )
            .order_by(DeviceSession.last_seen_at.desc())
        )
        return list(rows)

    async def revoke_one(
        self, session: AsyncSession, user_id: uuid.UUID, session_id: uuid.UUID, *, reason: str
    ) -> bool:
        """Revoke one of the user's own sessions; False when it is not theirs or not alive."""
        owned = await session.scalar(
            select(DeviceSession.id).where(
                DeviceSession.id == session_id,
                DeviceSession.user_id == user_id,
                DeviceSession.revoked_at.is_(None),
            )
        )
        if owned is None:
            return False
        await self._revoke(session, user_id, [session_id], reason=reason)
        return True

    async def revoke_all(
        self,
        session: AsyncSession,
        user_id: uuid.UUID,
        *,
        reason: str,
        keep: uuid.UUID | None = None,
    ) -> int:
        query = select(DeviceSession.id).where(
            DeviceSession.user_id == user_id, DeviceSession.revoked_at.is_(None)
        )
        if keep is not None:
            query = query.where(DeviceSession.id != keep)
        ids = list(await session.scalars(query))
        await self._revoke(session, user_id, ids, reason=reason)
        return len(ids)

    async def forget_user(self, session: AsyncSession, user_id: uuid.UUID) -> None:
        """Drop the cached snapshots after the user changed (role, status, password, 2FA), now
        and again once `session` commits; then the user's open sockets look at their sessions
        again (`REVOKED_CHANNEL` for all of them), so a role taken away stops reaching them."""
        await self._cache.invalidate_pattern(_principal_key(user_id, "*"))

        async def announce() -> None:
            await self._cache.invalidate_pattern(_principal_key(user_id, "*"))
            await self._announce(user_id, None)

        after_commit(session, announce)

    async def _revoke(
        self, session: AsyncSession, user_id: uuid.UUID, ids: list[uuid.UUID], *, reason: str
    ) -> None:
        if not ids:
            return
        await session.execute(
            update(DeviceSession)
            .where(DeviceSession.id.in_(ids))
            .values(revoked_at=utc_now(), revoked_reason=reason)
        )
        for session_id in ids:
            await self._cache.delete(_principal_key(user_id, session_id))

        async def announce() -> None:
            for session_id in ids:
                # Again once durable: a request between the delete above and the commit may
                # have cached the session as still alive.
                await self._cache.delete(_principal_key(user_id, session_id))
                await self._announce(user_id, session_id)

        after_commit(session, announce)

    async def _announce(self, user_id: uuid.UUID, session_id: uuid.UUID | None) -> None:
        if self._bus is not None:
            message = {"userId": str(user_id), "sessionId": str(session_id) if session_id else None}
            await self._bus.publish(REVOKED_CHANNEL, message)

    async def _new_remember_token(self, session: AsyncSession, session_id: uuid.UUID) -> str:
        token = random_token()
        session.add(RememberToken(session_id=session_id, token_hash=self._hasher.hash(token)))
        await session.flush()
        return token

    async def _load_principal(
        self, user_id: uuid.UUID, session_id: uuid.UUID
    ) -> dict[str, Any] | None:
        """The cached form of a live session and its active user; None when either is gone."""
        async with self._db.sessionmaker() as session:
            device = await session.get(DeviceSession, session_id)
            if device is None or device.revoked_at is not None or device.user_id != user_id:
                return None
            user = await session.get(User, user_id)
        if user is None or user.status != UserStatus.ACTIVE:
            return None
        return {
            "expires_at": device.expires_at.isoformat(),
            "last_seen_at": device.last_seen_at.isoformat(),
            "user": _user_snapshot(user),
        }

    async def _touch(self, user_id: uuid.UUID, session_id: uuid.UUID) -> None:
        now = utc_now()
        async with self._db.unit_of_work() as session:
            device = await session.get(DeviceSession, session_id)
            if device is None:
                return
            device.last_seen_at = now
            device.expires_at = now + (REMEMBER_IDLE if device.remember else SESSION_IDLE)
        await self._cache.delete(_principal_key(user_id, session_id))
