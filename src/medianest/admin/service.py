"""What administrators do to accounts, and reading the audit log.

The accounts themselves are auth's: this goes through its directory and account services. What
other domains say about each user comes from the `UserFacts` they register (`facts.py`)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from medianest.admin.analytics import Analytics, Stats
from medianest.admin.facts import UserEntry, UserFacts
from medianest.auth.account import AccountService, ResetLink
from medianest.auth.directory import ManagedUser, UserDirectory, UserSort
from medianest.auth.sessions import Principal
from medianest.core.audit import Actor, AuditEntry, AuditService

__all__ = ["AdminService", "ManagedUser", "Stats", "UserEntry", "UserSort"]


class AdminService:
    def __init__(
        self,
        *,
        audit: AuditService,
        users: UserDirectory,
        account: AccountService,
        analytics: Analytics,
    ) -> None:
        self._audit = audit
        self._analytics = analytics
        self.users = users
        """Finding, changing and deleting accounts: auth's directory, used as it is."""
        self._account = account
        self._facts: list[UserFacts] = []

    def add_user_facts(self, facts: UserFacts) -> None:
        """Raises `ValueError` when another domain took its key already."""
        if any(known.key == facts.key for known in self._facts):
            raise ValueError(f"User facts {facts.key!r} are registered already.")
        self._facts.append(facts)
        self._facts.sort(key=lambda f: f.order)

    @property
    def user_facts(self) -> list[UserFacts]:
        """The columns the domains add to the users page, in order."""
        return list(self._facts)

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
    ) -> tuple[list[UserEntry], int]:
        found, total = await self.users.list_users(
            session,
            page=page,
            page_size=page_size,
            search=search,
            role=role,
            status=status,
            sort=sort,
        )
        return await self._entries(session, found), total

    async def update_user(
        self,
        session: AsyncSession,
        admin: Principal,
        user_id: uuid.UUID,
        *,
        role: str | None,
        status: str | None,
        actor: Actor,
    ) -> UserEntry:
        """See `UserDirectory.update_user`; the answer carries the user's facts, as listed."""
        changed = await self.users.update_user(
            session, admin, user_id, role=role, status=status, actor=actor
        )
        (entry,) = await self._entries(session, [changed])
        return entry

    async def _entries(
        self, session: AsyncSession, users: Sequence[ManagedUser]
    ) -> list[UserEntry]:
        if not users:
            return []
        ids = [managed.user.id for managed in users]
        # One after the other: the readers share the page's session.
        read = [(facts.key, await facts.read(session, ids)) for facts in self._facts]
        return [
            UserEntry(
                managed,
                {key: found[managed.user.id] for key, found in read if managed.user.id in found},
            )
            for managed in users
        ]

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

    async def stats(self, session: AsyncSession) -> Stats:
        """Who uses MediaNest over the last day, week and month, how they sign in, and from
        which browsers and systems (`analytics`)."""
        return await self._analytics.stats(session)
