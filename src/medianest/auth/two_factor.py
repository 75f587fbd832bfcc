"""TOTP (RFC 6238) with replay protection, and single-use backup codes."""

from __future__ import annotations

import hmac
import secrets
import time
import uuid

import pyotp
import segno
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from medianest.auth.models import BackupCode
from medianest.core.db import utc_now
from medianest.core.security import TokenHasher

ISSUER = "MediaNest"
STEP_SECONDS = 30
BACKUP_CODE_COUNT = 10


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, account: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=ISSUER)


def qr_svg_data_uri(uri: str) -> str:
    return str(segno.make(uri, error="m").svg_data_uri(scale=5, dark="#000", light="#fff"))


def matching_step(
    secret: str, code: str, *, after_step: int | None, now: float | None = None
) -> int | None:
    """The time step `code` belongs to (this one or a neighbour, for clock drift), if it is
    newer than `after_step`; None otherwise. Remembering the step makes every code single-use."""
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = int((now if now is not None else time.time()) // STEP_SECONDS)
    for step in (current, current - 1, current + 1):
        if after_step is not None and step <= after_step:
            continue
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def new_backup_codes() -> list[str]:
    """Ten codes like `k7m2-9xqa`: easy to type, 40 bits each."""
    alphabet = "23456789abcdefghjkmnpqrstuvwxyz"
    return [
        "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(2))
        for _ in range(BACKUP_CODE_COUNT)
    ]


def normalise_backup_code(code: str) -> str:
    cleaned = code.strip().lower().replace(" ", "").replace("-", "")
    return f"{cleaned[:4]}-{cleaned[4:]}" if len(cleaned) == 8 else cleaned


async def consume_backup_code(
    session: AsyncSession, hasher: TokenHasher, user_id: uuid.UUID, code: str
) -> bool:
    """Mark one unused backup code used; a conditional update, so it works exactly once."""
    used = await session.execute(
        update(BackupCode)
        .where(
            BackupCode.user_id == user_id,
            BackupCode.code_hash == hasher.hash(normalise_backup_code(code)),
            BackupCode.used_at.is_(None),
        )
        .values(used_at=utc_now())
    )
    return bool(used.rowcount)  # type: ignore[attr-defined]
