"""What administrators do to accounts, and reading the audit log.

The accounts themselves are auth's: this goes through its directory and account services."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from medianest.auth.account import AccountService, ResetLink
from medianest.auth.directory import ManagedUser, UserDirectory, UserSort
from medianest.auth.sessions import Principal
from medianest.core.audit import Actor, AuditEntry, AuditService

__all__ = ["AdminService", "ManagedUser", "UserSort"]


class AdminService:
    def __init__(
        self, *, audit: AuditService, users: UserDirectory, account: AccountService
    ) -> None:
        self._audit = audit
        self._users = users
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
    ) -> tuple[list[ManagedUser], int]:
        return await self._users.list_users(
            session,
            page=page,
            page_size=page_size,
            search=search,
            role=role,
            status=status,
            sort=sort,
        )

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
        return await self._users.update_user(
            session, admin, user_id, role=role, status=status, actor=actor
        )

    async def delete_user(
        self, session: AsyncSession, admin: Principal, user_id: uuid.UUID, *, actor: Actor
    ) -> None:
        await self._users.delete_user(session, admin, user_id, actor=actor)

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
