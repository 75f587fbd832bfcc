"""Turning account rows into what the API shows."""

from __future__ import annotations

from medianest.auth.models import User
from medianest.auth.schemas import UserRead


def user_read(user: User) -> UserRead:
    return UserRead(
        id=user.id,
        username=user.username,
        email=user.email,
        role=user.role,
        thumb=user.thumb,
        two_factor_enabled=user.totp_enabled,
        requires_password_change=user.requires_password_change,
        has_password=user.password_hash is not None,
        plex_linked=user.plex_id is not None,
    )
