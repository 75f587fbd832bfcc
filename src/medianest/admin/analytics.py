"""Session analytics for administrators: how many people use MediaNest over the last day, week
and month, how they sign in, and from which browsers and systems.

Everything is read from what MediaNest already keeps (device sessions, the audit log's sign-ins,
the accounts) in a handful of grouped queries, whatever the number of people; nothing is
collected for it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from medianest.auth.activity import (
    OTHER,
    SIGN_IN,
    AccountActivity,
    AccountCounts,
    DeviceCount,
    device_families,
)
from medianest.core.audit import AuditEntry
from medianest.core.db import utc_now

WINDOWS: Final = {
    "h24": timedelta(hours=24),
    "d7": timedelta(days=7),
    "d30": timedelta(days=30),
}
"""The spans every count is given for, by their name in the API (as the status uptimes are)."""
DEVICE_WINDOW: Final = "d30"
# Past this many browsers (or systems) the rest are counted together as "Other".
FAMILIES_SHOWN: Final = 8
# A sign-in recorded before the audit log named its method.
UNKNOWN_METHOD: Final = "unknown"


@dataclass(frozen=True, slots=True)
class Windowed:
    h24: int
    d7: int
    d30: int

    @classmethod
    def of(cls, counts: Sequence[int]) -> Windowed:
        return cls(*counts)


@dataclass(frozen=True, slots=True)
class MethodCount:
    method: str
    """How people signed in, as the audit log records it: `password`, `plex`."""
    counts: Windowed


@dataclass(frozen=True, slots=True)
class FamilyCount:
    name: str
    sessions: int


@dataclass(frozen=True, slots=True)
class Stats:
    as_of: datetime
    accounts: AccountCounts
    active_users: Windowed
    sign_ins: list[MethodCount]
    """The most used first."""
    browsers: list[FamilyCount]
    systems: list[FamilyCount]
    """Both from the sessions used in the last 30 days, the most used first."""


class Analytics:
    def __init__(
        self, activity: AccountActivity, *, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self._activity = activity
        self._clock = clock

    async def stats(self, session: AsyncSession) -> Stats:
        now = self._clock()
        since = [now - span for span in WINDOWS.values()]
        devices = await self._activity.devices(session, now - WINDOWS[DEVICE_WINDOW])
        browsers, systems = _families(devices)
        return Stats(
            as_of=now,
            accounts=await self._activity.accounts(session),
            active_users=Windowed.of(await self._activity.active_users(session, since)),
            sign_ins=await _sign_ins(session, since),
            browsers=browsers,
            systems=systems,
        )


async def _sign_ins(session: AsyncSession, since: Sequence[datetime]) -> list[MethodCount]:
    method = func.coalesce(AuditEntry.details["method"].as_string(), UNKNOWN_METHOD)
    rows = await session.execute(
        select(
            method,
            *(func.count(case((AuditEntry.created_at >= moment, 1))) for moment in since),
        )
        .where(AuditEntry.action == SIGN_IN, AuditEntry.created_at >= min(since))
        .group_by(method)
    )
    counts = [MethodCount(str(row[0]), Windowed.of(row[1:])) for row in rows]
    counts.sort(key=lambda c: (-c.counts.d30, c.method))
    return counts


def _families(devices: Iterable[DeviceCount]) -> tuple[list[FamilyCount], list[FamilyCount]]:
    browsers: Counter[str] = Counter()
    systems: Counter[str] = Counter()
    for device in devices:
        browser, system = device_families(device.device)
        browsers[browser] += device.sessions
        systems[system] += device.sessions
    return _most_used(browsers), _most_used(systems)


def _most_used(counts: Counter[str]) -> list[FamilyCount]:
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    shown = [FamilyCount(name, n) for name, n in ranked[:FAMILIES_SHOWN] if name != OTHER]
    named = {family.name for family in shown}
    rest = sum(n for name, n in ranked if name not in named)
    return [*shown, FamilyCount(OTHER, rest)] if rest else shown
