"""How the accounts are used, counted for administrators' statistics from the device sessions,
the sign-ins of the audit log and the users' table: a few grouped queries, never a row per
person, so the answer costs the same for five people or five thousand."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from medianest.auth.models import DeviceSession, Role, User, UserStatus
from medianest.core.audit import AuditEntry

SIGN_IN = "auth.login"
UNKNOWN = "Unknown"
OTHER = "Other"


@dataclass(frozen=True, slots=True)
class AccountCounts:
    total: int
    active: int
    suspended: int
    admins: int


@dataclass(frozen=True, slots=True)
class DeviceCount:
    device: str
    """As the person's devices list names it: "Firefox on Ubuntu" (`sessions.describe_device`)."""
    sessions: int


def device_families(device: str) -> tuple[str, str]:
    """(browser, system) of a device as `sessions.describe_device` named it."""
    browser, joint, system = device.rpartition(" on ")
    if joint:
        return browser, system
    if not device or device == "Unknown device":
        return UNKNOWN, UNKNOWN
    # Alone, it is the browser's family when the system was not recognised, or the start of a
    # user agent nothing was recognised in ("curl/8.5.0"): no browser family has a slash.
    return (OTHER if "/" in device else device), OTHER


class AccountActivity:
    async def accounts(self, session: AsyncSession) -> AccountCounts:
        row = (
            await session.execute(
                select(
                    func.count(),
                    func.count(case((User.status == UserStatus.ACTIVE, 1))),
                    func.count(case((User.status == UserStatus.SUSPENDED, 1))),
                    func.count(case((User.role == Role.ADMIN, 1))),
                ).select_from(User)
            )
        ).one()
        return AccountCounts(total=row[0], active=row[1], suspended=row[2], admins=row[3])

    async def active_users(self, session: AsyncSession, since: Sequence[datetime]) -> list[int]:
        """For each moment of `since`, how many people used MediaNest from then on: a session
        of theirs was used, or they signed in (a session since revoked still counts). Accounts
        deleted since are not counted."""
        if not since:
            return []
        earliest = min(since)
        used = select(
            DeviceSession.user_id.label("user_id"), DeviceSession.last_seen_at.label("at")
        ).where(DeviceSession.last_seen_at >= earliest)
        signed_in = select(
            AuditEntry.actor_id.label("user_id"), AuditEntry.created_at.label("at")
        ).where(
            AuditEntry.action == SIGN_IN,
            AuditEntry.created_at >= earliest,
            AuditEntry.actor_id.is_not(None),
        )
        moments = union_all(used, signed_in).subquery()
        latest = (
            select(moments.c.user_id, func.max(moments.c.at).label("at"))
            .join(User, User.id == moments.c.user_id)
            .group_by(moments.c.user_id)
            .subquery()
        )
        row = (
            await session.execute(
                select(*(func.count(case((latest.c.at >= moment, 1))) for moment in since))
            )
        ).one()
        return [int(count) for count in row]

    async def devices(self, session: AsyncSession, since: datetime) -> list[DeviceCount]:
        """The sessions used from `since` on, by the device they were signed in from; the most
        used first."""
        sessions = func.count().label("sessions")
        rows = await session.execute(
            select(DeviceSession.device, sessions)
            .where(DeviceSession.last_seen_at >= since)
            .group_by(DeviceSession.device)
            .order_by(sessions.desc(), DeviceSession.device)
        )
        return [DeviceCount(device, int(count)) for device, count in rows]
