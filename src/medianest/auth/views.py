"""Turning account rows into what the API shows."""

from __future__ import annotations

from medianest.auth.models import User
from medianest.auth.schemas import UserRead
from medianest.auth.sessions import Principal


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


def principal_read(principal: Principal) -> UserRead:
    return UserRead(
        id=principal.id,
        username=principal.username,
        email=principal.email,
        role=principal.role,
        thumb=principal.thumb,
        two_factor_enabled=principal.totp_enabled,
        requires_password_change=principal.requires_password_change,
        has_password=principal.has_password,
        plex_linked=principal.plex_linked,
    )
