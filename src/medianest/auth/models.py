"""Accounts, device sessions and the one-time tokens that belong to them."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from medianest.core.db import Base, Timestamps, UUIDPrimaryKey, utc_now


class Role(enum.StrEnum):
    ADMIN = "admin"
    USER = "user"


class UserStatus(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class User(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(100))
    # Lower-cased copies keep sign-in and uniqueness case-insensitive on both engines.
    username_key: Mapped[str] = mapped_column(String(100), unique=True)
    email: Mapped[str | None] = mapped_column(String(320))
    email_key: Mapped[str | None] = mapped_column(String(320), index=True)
    role: Mapped[str] = mapped_column(String(20), default=Role.USER)
    status: Mapped[str] = mapped_column(String(20), default=UserStatus.ACTIVE)
    thumb: Mapped[str | None] = mapped_column(String(500))
    password_hash: Mapped[str | None] = mapped_column(String(300))
    requires_password_change: Mapped[bool] = mapped_column(default=False)
    plex_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    plex_token_encrypted: Mapped[str | None] = mapped_column(Text)
    totp_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    totp_enabled: Mapped[bool] = mapped_column(default=False)
    # The last TOTP time step accepted: a code is good once, even inside its 30-second window.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    last_login_at: Mapped[datetime | None]


class BackupCode(UUIDPrimaryKey, Base):
    __tablename__ = "backup_codes"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None]


class DeviceSession(UUIDPrimaryKey, Base):
    """One signed-in browser or app; access tokens name it, so revoking it signs that device out."""

    __tablename__ = "device_sessions"
    __table_args__ = (Index("ix_device_sessions_user_id_revoked_at", "user_id", "revoked_at"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    device: Mapped[str] = mapped_column(String(200))
    ip: Mapped[str | None] = mapped_column(String(64))
    remember: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    last_seen_at: Mapped[datetime] = mapped_column(default=utc_now)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(50))


class RememberToken(UUIDPrimaryKey, Base):
    """Every remember-me token a session was ever given; a used one presented again is theft."""

    __tablename__ = "remember_tokens"

    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("device_sessions.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    rotated_at: Mapped[datetime | None]


class PasswordResetToken(UUIDPrimaryKey, Base):
    __tablename__ = "password_reset_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
