"""One row per announcement an administrator sent; what each person received is in their inbox
(the notifications table), what every page shows is read from here."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Final, Literal

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from medianest.core.db import Base, UUIDPrimaryKey, utc_now

Severity = Literal["info", "warning", "critical"]
SEVERITIES: Final[tuple[Severity, ...]] = ("info", "warning", "critical")

TITLE_LENGTH: Final = 200
MESSAGE_LENGTH: Final = 2000


class Broadcast(UUIDPrimaryKey, Base):
    __tablename__ = "broadcasts"
    __table_args__ = (
        # The list is read newest first; each process reloads the live ones (not withdrawn).
        Index("ix_broadcasts_created_at", "created_at"),
        Index("ix_broadcasts_withdrawn_at_expires_at", "withdrawn_at", "expires_at"),
    )

    title: Mapped[str] = mapped_column(String(TITLE_LENGTH))
    message: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(20))
    # The announcement outlives the account that sent it; the audit log keeps who it was.
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    # None: shown until withdrawn.
    expires_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]
