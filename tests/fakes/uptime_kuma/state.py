"""What the fake Uptime Kuma knows: monitors with their beats, status pages grouping them."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

DOWN, UP, PENDING, MAINTENANCE = 0, 1, 2, 3
STATUSES = (DOWN, UP, PENDING, MAINTENANCE)
WINDOWS = ("1d", "30d", "365d")


@dataclass(frozen=True)
class FakeBeat:
    status: int
    at: datetime
    ping: float | None


@dataclass
class FakeMonitor:
    id: int
    name: str
    type: str = "http"
    url: str | None = None
    hostname: str | None = None
    port: int | None = None
    beats: list[FakeBeat] = field(default_factory=list)
    uptime: dict[str, float] | None = None
    """By window; None: worked out from the beats."""
    cert: tuple[int, bool] | None = None

    def uptime_in(self, window: str) -> float:
        if self.uptime is not None:
            return self.uptime[window]
        if not self.beats:
            return 0.0
        # Kuma counts time under maintenance as up.
        up = sum(1 for beat in self.beats if beat.status in (UP, MAINTENANCE))
        return up / len(self.beats)

    def average_ping(self) -> float:
        pings = [beat.ping for beat in self.beats if beat.ping is not None]
        return sum(pings) / len(pings) if pings else 0.0


@dataclass
class FakeGroup:
    id: int
    name: str
    weight: int
    # monitor id → whether the page shows its URL (Kuma's `sendUrl`)
    monitors: dict[int, bool] = field(default_factory=dict)


@dataclass
class FakePage:
    id: int
    slug: str
    title: str
    description: str | None = None
    groups: list[FakeGroup] = field(default_factory=list)
    incidents: list[dict[str, Any]] = field(default_factory=list)
    maintenance: list[dict[str, Any]] = field(default_factory=list)

    def monitor_ids(self) -> list[int]:
        return list(dict.fromkeys(i for group in self.groups for i in group.monitors))


class KumaState:
    def __init__(self) -> None:
        self.monitors: dict[int, FakeMonitor] = {}
        self.pages: dict[str, FakePage] = {}
        self._ids = {"page": 0, "group": 0, "incident": 0, "maintenance": 0}

    def next_id(self, kind: str) -> int:
        self._ids[kind] += 1
        return self._ids[kind]

    def page(self, slug: str) -> FakePage:
        try:
            return self.pages[slug.lower()]
        except KeyError:
            raise KeyError(f"no status page {slug!r}: add_status_page() it first") from None

    def monitor(self, monitor_id: int) -> FakeMonitor:
        try:
            return self.monitors[monitor_id]
        except KeyError:
            raise KeyError(f"no monitor {monitor_id}: add_monitor() it first") from None

    def group(self, page: FakePage, name: str) -> FakeGroup:
        for group in page.groups:
            if group.name == name:
                return group
        group = FakeGroup(self.next_id("group"), name, weight=len(page.groups) + 1)
        page.groups.append(group)
        return group

    def add_beat(
        self, monitor: FakeMonitor, status: int, ping: float | None, at: datetime | None
    ) -> None:
        if status not in STATUSES:
            raise ValueError(f"Kuma statuses are 0 down, 1 up, 2 pending, 3 maintenance: {status}")
        moment = (at or datetime.now(UTC)).astimezone(UTC)
        # Kept in time order, as Kuma reads them (ORDER BY time).
        bisect.insort(monitor.beats, FakeBeat(status, moment, ping), key=lambda beat: beat.at)

    def populate(self, page: FakePage, group: str, monitors: int, beats: int) -> list[int]:
        """`monitors` new monitors on `page`, `beats` beats each, one a minute up to now: mostly
        up, every 50th down for its last three beats, every 37th pending at the last one."""
        first = max(self.monitors, default=0) + 1
        target = self.group(page, group)
        now = datetime.now(UTC).replace(microsecond=0)
        made: list[int] = []
        for monitor_id in range(first, first + monitors):
            monitor = FakeMonitor(
                monitor_id,
                f"Service {monitor_id}",
                url=f"https://service-{monitor_id}.example.com/health",
            )
            for n in range(beats):
                status, ping = UP, float(20 + (monitor_id * 7 + n * 13) % 180)
                if monitor_id % 50 == 0 and n >= beats - 3:
                    status, ping = DOWN, None
                elif monitor_id % 37 == 0 and n == beats - 1:
                    status = PENDING
                at = now - timedelta(minutes=beats - 1 - n)
                monitor.beats.append(FakeBeat(status, at, ping))
            self.monitors[monitor_id] = monitor
            target.monitors[monitor_id] = True
            made.append(monitor_id)
        return made
