"""What administrators do to accounts, and reading the audit log."""

from __future__ import annotations

import uuid
from typing import Literal

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from medianest.auth.account import AccountService, ResetLink
from medianest.auth.models import Role, User, UserStatus
from medianest.auth.sessions import Principal, SessionService
from medianest.core.audit import Actor, AuditEntry, AuditService
from medianest.core.errors import Conflict, NotFound

UserSort = Literal[
    "username", "-username", "createdAt", "-createdAt", "lastLoginAt", "-lastLoginAt"
]

_SORT_COLUMNS = {
    "username": User.username_key,
    "createdAt": User.created_at,
    "lastLoginAt": User.last_login_at,
}


class AdminService:
    def __init__(
        self, *, audit: AuditService, sessions: SessionService, account: AccountService
    ) -> None:
        self._audit = audit
        self._sessions = sessions
        self._account = account

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
    ) -> tuple[list[User], int]:
        query = select(User)
        if search:
            needle = f"%{search.strip().lower()}%"
            query = query.where(or_(User.username_key.like(needle), User.email_key.like(needle)))
        if role:
            query = query.where(User.role == role)
        if status:
            query = query.where(User.status == status)
        total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
        column = _SORT_COLUMNS[sort.lstrip("-")]
        order = column.desc() if sort.startswith("-") else column.asc()
        rows = await session.scalars(
            query.order_by(order, User.id).offset((page - 1) * page_size).limit(page_size)
        )
        return list(rows), total

    async def update_user(
        self,
        session: AsyncSession,
        admin: Principal,
        user_id: uuid.UUID,
        *,
        role: str | None,
        status: str | None,
        actor: Actor,
    ) -> User:
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
            await self._sessions.forget_user(user.id)
        return user

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
        await self._sessions.forget_user(user_id)

    async def reset_link(
        self, session: AsyncSession, user_id: uuid.UUID, *, actor: Actor
    ) -> ResetLink:
        return await self._account.create_reset_link(session, user_id, actor=actor)

    async def audit_log(
        self,
        session: AsyncSession,
        *,
        page: int,
        page_size: int,
        actor: str | None,
        action: str | None,
    ) -> tuple[list[AuditEntry], int]:
        return await self._audit.list_entries(
            session, page=page, page_size=page_size, actor=actor, action=action
        )

    async def _user(self, session: AsyncSession, user_id: uuid.UUID) -> User:
        user = await session.get(User, user_id)
        if user is None:
            raise NotFound("That user does not exist.")
        return user
