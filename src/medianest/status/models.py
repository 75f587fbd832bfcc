"""What the status domain stores: each service's current state, its raw heartbeats (kept ~48
hours) and their hourly rollups (kept ~90 days), from which uptime and history are read.

A service is one row of `service_states` whatever watches it: MediaNest's own checks (`plex`,
`overseerr`, `database`, `redis`, `workers`) or an Uptime Kuma monitor on a status page
(`kuma:<slug>:<monitorId>`; a monitor shown on two pages is two services). Heartbeats and
rollups name a service by that id and carry no foreign key: history outlives a monitor taken
off a page, until it is pruned.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Final

from sqlalchemy import Float, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from medianest.core.db import Base, utc_now

ID_LENGTH: Final = 200
NAME_LENGTH: Final = 200
URL_LENGTH: Final = 2000


class ServiceKind(enum.StrEnum):
    PLEX = "plex"
    OVERSEERR = "overseerr"
    MEDIANEST = "medianest"
    WORKERS = "workers"
    KUMA = "kuma"


class Status(enum.StrEnum):
    UP = "up"
    DOWN = "down"
    DEGRADED = "degraded"
    MAINTENANCE = "maintenance"
    # Not checked (not connected, not configured) or its watcher did not answer: never an alert.
    UNKNOWN = "unknown"


class ServiceState(Base):
    __tablename__ = "service_states"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    kind: Mapped[str] = mapped_column(String(20))
    # Where the status page lists it: "medianest", or "kuma:<slug>" with the page's title.
    group_key: Mapped[str] = mapped_column(String(ID_LENGTH))
    group_title: Mapped[str] = mapped_column(String(NAME_LENGTH))
    position: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(20))
    # When the current status began.
    since: Mapped[datetime]
    last_check_at: Mapped[datetime | None]
    response_ms: Mapped[float | None] = mapped_column(Float)
    message: Mapped[str | None] = mapped_column(Text)
    # Shown to administrators only.
    url: Mapped[str | None] = mapped_column(String(URL_LENGTH))
    # Ratios 0..1 over the last 24 hours, 7 and 30 days, from the rollups; None: no checks yet.
    uptime_24h: Mapped[float | None] = mapped_column(Float)
    uptime_7d: Mapped[float | None] = mapped_column(Float)
    uptime_30d: Mapped[float | None] = mapped_column(Float)
    uptime_at: Mapped[datetime | None]
    # When the outage administrators were told about began; None while there is none. Kept
    # through "unknown", so an outage that outlasts its watcher's silence is told once.
    down_since: Mapped[datetime | None]
    # The newest heartbeat stored: Uptime Kuma answers its last 100 each time, only newer ones
    # are new.
    last_beat_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)


class Heartbeat(Base):
    __tablename__ = "service_heartbeats"
    # Pruning deletes by time across every service.
    __table_args__ = (Index("ix_service_heartbeats_at", "at"),)

    service_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    at: Mapped[datetime] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(20))
    response_ms: Mapped[float | None] = mapped_column(Float)


class Rollup(Base):
    """A service's heartbeats of one hour (`hour`: its start), counted by status."""

    __tablename__ = "service_rollups"
    # The status page reads every service's last hours in one range scan; pruning, by time.
    __table_args__ = (Index("ix_service_rollups_hour", "hour"),)

    service_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    hour: Mapped[datetime] = mapped_column(primary_key=True)
    up: Mapped[int] = mapped_column(default=0)
    down: Mapped[int] = mapped_column(default=0)
    degraded: Mapped[int] = mapped_column(default=0)
    maintenance: Mapped[int] = mapped_column(default=0)
    # Over the heartbeats that had a response time.
    response_sum: Mapped[float] = mapped_column(Float, default=0.0)
    response_count: Mapped[int] = mapped_column(default=0)
