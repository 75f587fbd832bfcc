"""One row per notification a person received; their inbox lists them newest first."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Final

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from medianest.core.db import Base, time_ordered_id, utc_now

TYPES: Final = frozenset(
    {
        "request.status",
        "request.available",
        "download.completed",
        "download.failed",
        "service.down",
        "service.up",
        "broadcast",
    }
)
SEVERITIES: Final = frozenset({"info", "success", "warning", "critical"})

TITLE_LENGTH: Final = 200
LINK_LENGTH: Final = 500
DEDUP_KEY_LENGTH: Final = 200


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        # The same event never reaches a person twice, even told by two processes at once.
        # Rows without a key never clash: NULLs are distinct on both engines. The key comes
        # first so that an event's rows (one per person) share the index's pages.
        UniqueConstraint("dedup_key", "user_id"),
        Index("ix_notifications_user_id_created_at", "user_id", "created_at"),
        # The bell counts a person's unread rows on every page.
        Index("ix_notifications_user_id_read_at", "user_id", "read_at"),
    )

    # Time-ordered: they are written by the thousand and read newest first.
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=time_ordered_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(TITLE_LENGTH))
    message: Mapped[str] = mapped_column(Text)
    # A path on this site ("/requests/…"), never an address elsewhere.
    link: Mapped[str | None] = mapped_column(String(LINK_LENGTH))
    severity: Mapped[str] = mapped_column(String(20))
    read_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    dedup_key: Mapped[str | None] = mapped_column(String(DEDUP_KEY_LENGTH))

    @property
    def read(self) -> bool:
        return self.read_at is not None
