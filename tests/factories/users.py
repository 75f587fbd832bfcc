"""Accounts made directly in the database, for tests that need more than the first admin."""

from __future__ import annotations

import uuid

import pyotp

from medianest.auth.models import Role, User, UserStatus
from medianest.auth.passwords import PasswordHasher
from medianest.core.db import Database
from medianest.core.security import EncryptionService

PASSWORD = "a-sturdy-test-passphrase"
_hasher = PasswordHasher()


async def make_user(
    database_url: str,
    *,
    username: str | None = None,
    password: str | None = PASSWORD,
    email: str | None = None,
    role: Role = Role.USER,
    status: UserStatus = UserStatus.ACTIVE,
    plex_id: int | None = None,
    totp_secret: str | None = None,
    encryption: EncryptionService | None = None,
) -> User:
    name = username or f"user-{uuid.uuid4().hex[:8]}"
    user = User(
        username=name,
        username_key=name.lower(),
        email=email,
        email_key=email.lower() if email else None,
        role=role,
        status=status,
        password_hash=_hasher.hash(password) if password else None,
        plex_id=plex_id,
    )
    if totp_secret is not None:
        assert encryption is not None
        user.totp_secret_encrypted = encryption.encrypt(totp_secret)
        user.totp_enabled = True
    db = Database(database_url)
    try:
        async with db.unit_of_work() as session:
            session.add(user)
    finally:
        await db.close()
    return user


def totp_now(secret: str) -> str:
    return pyotp.TOTP(secret).now()
