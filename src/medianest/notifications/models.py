"""One row per notification a person received (their inbox lists them newest first), what each
person chose to be told of how, their browsers' push subscriptions with the key that signs for
MediaNest, and the administrator's alert channels with the alerts sent to them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Final

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from medianest.core.db import Base, UUIDPrimaryKey, time_ordered_id, utc_now

TYPE_ORDER: Final = (
    "request.status",
    "request.available",
    "download.completed",
    "download.failed",
    "service.down",
    "service.up",
    "broadcast",
)
"""Every type, in the order the settings page lists them."""
TYPES: Final = frozenset(TYPE_ORDER)
SEVERITIES: Final = frozenset({"info", "success", "warning", "critical"})
ADMIN_TYPES: Final = frozenset({"service.down", "service.up"})
"""Only administrators are told of these, so only they are offered a choice about them."""
ALERT_TYPES: Final = ("service.down", "service.up", "broadcast")
"""What the administrator's alert channels (Discord, ntfy, any webhook) can be sent."""

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


class NotificationPreference(Base):
    """How a person wants one type told, kept only where it differs from the default (in the
    inbox and by push): a person who never changed anything has no rows."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    type: Mapped[str] = mapped_column(String(40), primary_key=True)
    in_app: Mapped[bool]
    push: Mapped[bool]


class PushKey(Base):
    """The VAPID key pair MediaNest signs its pushes with, made on first start and kept: every
    browser subscribed with its public key, so a new one would silence them all."""

    __tablename__ = "push_keys"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    public_key: Mapped[str] = mapped_column(String(100))
    private_key_encrypted: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class PushSubscription(UUIDPrimaryKey, Base):
    """One browser that asked to be pushed a person's notifications, while the device session
    it subscribed in lives: signing that browser out ends its pushes."""

    __tablename__ = "push_subscriptions"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("device_sessions.id", ondelete="CASCADE"), index=True
    )
    # The endpoint is found by its hash and kept sealed with the browser's keys: together they
    # are what it takes to post into that browser.
    endpoint_hash: Mapped[str] = mapped_column(String(64), unique=True)
    endpoint_encrypted: Mapped[str] = mapped_column(Text)
    keys_encrypted: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class AlertChannel(UUIDPrimaryKey, Base):
    """Somewhere the administrator's alerts go (an Apprise URL: Discord, ntfy, a webhook)."""

    __tablename__ = "notification_channels"

    name: Mapped[str] = mapped_column(String(100))
    # The URL holds the service's token: sealed, and shown only masked (`url_shown`).
    url_encrypted: Mapped[str] = mapped_column(Text)
    url_shown: Mapped[str] = mapped_column(String(500))
    service: Mapped[str] = mapped_column(String(100))
    types: Mapped[list[str]] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)


class AlertEvent(UUIDPrimaryKey, Base):
    """An alert sent to the channels: one row per event (`dedup_key`), however many
    administrators and processes tell it, so each channel hears of it once."""

    __tablename__ = "notification_alerts"

    type: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(TITLE_LENGTH))
    message: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(LINK_LENGTH))
    severity: Mapped[str] = mapped_column(String(20))
    dedup_key: Mapped[str | None] = mapped_column(String(DEDUP_KEY_LENGTH), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
