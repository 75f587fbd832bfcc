"""The audit log: who did what to what, from where, and when.

Security events (sign-ins, failures, password and 2FA changes, revoked sessions) and every admin
action are recorded in the caller's transaction, so an action and its record commit together.
The log holds names and ids, never a token, password or secret.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from medianest.core.db import Base, UUIDPrimaryKey, utc_now


class AuditEntry(UUIDPrimaryKey, Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_created_at", "created_at"),
        Index("ix_audit_log_action_created_at", "action", "created_at"),
        Index("ix_audit_log_actor_id_created_at", "actor_id", "created_at"),
    )

    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    # No foreign key: the record outlives the user it names.
    actor_id: Mapped[uuid.UUID | None]
    actor_name: Mapped[str | None] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    target_type: Mapped[str | None] = mapped_column(String(50))
    target_id: Mapped[str | None] = mapped_column(String(100))
    ip: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


@dataclass(frozen=True, slots=True)
class Actor:
    id: uuid.UUID | None
    name: str | None
    ip: str | None


class AuditService:
    async def record(
        self,
        session: AsyncSession,
        action: str,
        *,
        actor: Actor,
        target_type: str | None = None,
        target_id: str | uuid.UUID | None = None,
        **details: Any,
    ) -> None:
        session.add(
            AuditEntry(
                actor_id=actor.id,
                actor_name=actor.name,
                action=action,
                target_type=target_type,
                target_id=str(target_id) if target_id is not None else None,
                ip=actor.ip,
                details=details,
            )
        )
        await session.flush()

    async def list_entries(
        self,
        session: AsyncSession,
        *,
        page: int,
        page_size: int,
        actor: str | None = None,
        action: str | None = None,
    ) -> tuple[list[AuditEntry], int]:
        query = select(AuditEntry)
        if actor:
            query = query.where(func.lower(AuditEntry.actor_name) == actor.lower())
        if action:
            query = query.where(AuditEntry.action.startswith(action))
        total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = await session.scalars(
            query.order_by(AuditEntry.created_at.desc(), AuditEntry.id)
            .offset((page - 1) * page_size)
            .limit(page_size)
        )
        return list(rows), total
