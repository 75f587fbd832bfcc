"""The accounts as administrators see them: finding, changing and deleting users.

Auth owns the users' table; other domains (admin's pages and API) go through this."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from medianest.auth.models import Role, User, UserStatus
from medianest.auth.sessions import Principal, SessionService, last_seen_at
from medianest.core.audit import Actor, AuditService
from medianest.core.errors import Conflict, NotFound

UserSort = Literal[
    "username",
    "-username",
    "createdAt",
    "-createdAt",
    "lastLoginAt",
    "-lastLoginAt",
    "lastSeenAt",
    "-lastSeenAt",
]


@dataclass(frozen=True, slots=True)
class ManagedUser:
    user: User
    last_seen_at: datetime | None


def _order(sort: UserSort, last_seen: ColumnElement[Any]) -> ColumnElement[Any]:
    """Never (NULL) sorts as the earliest moment, on SQLite and PostgreSQL alike."""
    key = sort.lstrip("-")
    descending = sort.startswith("-")
    if key == "username":
        return User.username_key.desc() if descending else User.username_key.asc()
    column = {"createdAt": User.created_at, "lastLoginAt": User.last_login_at}.get(key, last_seen)
    return column.desc().nulls_last() if descending else column.asc().nulls_first()


class UserDirectory:
    def __init__(self, *, audit: AuditService, sessions: SessionService) -> None:
        self._audit = audit
        self._sessions = sessions

    async def list_users(
        self,
        session: AsyncSession,
        *,
        page: int,
        page_size: int,
        search: str | None = None,
        role: str | None = None,
        status: str | None = None,
        sort: UserSort = "username",
    ) -> tuple[list[ManagedUser], int]:
        conditions: list[ColumnElement[bool]] = []
        if search:
            # autoescape: a `%` or `_` typed in the search box is a character, not a wildcard.
            needle = search.strip().lower()
            conditions.append(
                or_(
                    User.username_key.contains(needle, autoescape=True),
                    User.email_key.contains(needle, autoescape=True),
                )
            )
        if role:
            conditions.append(User.role == role)
        if status:
            conditions.append(User.status == status)
        total = await session.scalar(select(func.count()).select_from(User).where(*conditions))
        last_seen = last_seen_at().label("last_seen_at")
        rows = await session.execute(
            select(User, last_seen)
            .where(*conditions)
            .order_by(_order(sort, last_seen), User.id)
            .offset((page - 1) * page_size)
            .limit(page_size)
        )
        return [ManagedUser(user, seen) for user, seen in rows], total or 0

    async def plex_id(self, session: AsyncSession, user_id: uuid.UUID) -> int | None:
        """The Plex account id a user signs in with; None for a local-only account."""
        found: int | None = await session.scalar(select(User.plex_id).where(User.id == user_id))
        return found

    async def active_admin_ids(self, session: AsyncSession) -> list[uuid.UUID]:
        """Every administrator who may sign in (not suspended), for alerts meant for them."""
        rows = await session.scalars(
            select(User.id).where(User.role == Role.ADMIN, User.status == UserStatus.ACTIVE)
        )
        return list(rows)

    async def active_user_ids(self, session: AsyncSession) -> list[uuid.UUID]:
        """Everyone who may sign in now (suspended accounts left out): who an announcement
        reaches."""
        rows = await session.scalars(
            select(User.id).where(User.status == UserStatus.ACTIVE).order_by(User.id)
        )
        return list(rows)

    async def usernames(
        self, session: AsyncSession, user_ids: Iterable[uuid.UUID]
    ) -> dict[uuid.UUID, str]:
        """Each user's name, for lists of things people did; one query."""
        ids = set(user_ids)
        if not ids:
            return {}
        rows = await session.execute(select(User.id, User.username).where(User.id.in_(ids)))
        return dict(rows.all())

    async def update_user(
        self,
        session: AsyncSession,
        admin: Principal,
        user_id: uuid.UUID,
        *,
        role: str | None,
        status: str | None,
        actor: Actor,
    ) -> ManagedUser:
        """Suspending signs the user out everywhere at once. Nobody demotes or suspends themself."""
        user = await self._user(session, user_id)
        if user.id == admin.id and (
            (role is not None and role != Role.ADMIN)
            or (status is not None and status != UserStatus.ACTIVE)
        ):
            raise Conflict("You cannot demote or suspend your own account.")
        changes: dict[str, str] = {}
        if role is not None and role != user.role:
            changes["role"] = role
            user.role = role
        if status is not None and status != user.status:
            changes["status"] = status
            user.status = status
            if status == UserStatus.SUSPENDED:
                await self._sessions.revoke_all(session, user.id, reason="suspended")
        if changes:
            await self._audit.record(
                session,
                "admin.user_updated",
                actor=actor,
                target_type="user",
                target_id=user.id,
                **changes,
            )
            await self._sessions.forget_user(session, user.id)
        seen = await session.scalar(select(last_seen_at()).where(User.id == user.id))
        return ManagedUser(user, seen)

    async def delete_user(
        self, session: AsyncSession, admin: Principal, user_id: uuid.UUID, *, actor: Actor
    ) -> None:
        user = await self._user(session, user_id)
        if user.id == admin.id:
            raise Conflict("You cannot delete your own account.")
        await self._sessions.revoke_all(session, user.id, reason="deleted")
        await self._audit.record(
            session,
            "admin.user_deleted",
            actor=actor,
            target_type="user",
            target_id=user.id,
            username=user.username,
        )
        await session.delete(user)
        await session.flush()
        await self._sessions.forget_user(session, user_id)

    async def _user(self, session: AsyncSession, user_id: uuid.UUID) -> User:
        user = await session.get(User, user_id)
        if user is None:
            raise NotFound("That user does not exist.")
        return user
