"""What administrators do to accounts, and reading the audit log.

The accounts themselves are auth's: this goes through its directory and account services."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from medianest.auth.account import AccountService, ResetLink
from medianest.auth.directory import ManagedUser, UserDirectory, UserSort
from medianest.core.audit import Actor, AuditEntry, AuditService

__all__ = ["AdminService", "ManagedUser", "UserSort"]


class AdminService:
    def __init__(
        self, *, audit: AuditService, users: UserDirectory, account: AccountService
    ) -> None:
        self._audit = audit
        self.users = users
        """Finding, changing and deleting accounts: auth's directory, used as it is."""
        self._account = account

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
