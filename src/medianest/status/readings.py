"""What one poll found, as the recorder stores it: a `Reading` per service, with the heartbeats
to store, and which stored services the poll speaks for (so a monitor taken off a status page
leaves the list, and one whose watcher did not answer turns unknown rather than disappearing)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from medianest.status.models import ServiceKind, Status

MEDIANEST_GROUP = "medianest"
MEDIANEST_TITLE = "MediaNest"


@dataclass(frozen=True, slots=True)
class Beat:
    at: datetime
    status: Status
    response_ms: float | None = None


@dataclass(frozen=True, slots=True)
class Reading:
    id: str
    name: str
    kind: ServiceKind
    status: Status
    checked_at: datetime
    response_ms: float | None = None
    message: str | None = None
    url: str | None = None
    group_key: str = MEDIANEST_GROUP
    group_title: str = MEDIANEST_TITLE
    position: int = 0
    since: datetime | None = None
    """When the current status began, when the source knows (Kuma's beats); else the first
    check that saw it."""
    beats: tuple[Beat, ...] = ()
    """Heartbeats to store; those not newer than the newest stored one are skipped."""

    @classmethod
    def checked(
        cls,
        id: str,
        name: str,
        kind: ServiceKind,
        status: Status,
        at: datetime,
        *,
        response_ms: float | None = None,
        message: str | None = None,
        position: int = 0,
    ) -> Reading:
        """MediaNest's own check: one heartbeat now, unless nothing could be checked."""
        beats = () if status is Status.UNKNOWN else (Beat(at, status, response_ms),)
        return cls(
            id=id,
            name=name,
            kind=kind,
            status=status,
            checked_at=at,
            response_ms=response_ms,
            message=message,
            position=position,
            beats=beats,
        )


@dataclass(frozen=True, slots=True)
class Poll:
    readings: tuple[Reading, ...]
    owns: tuple[str, ...] = ()
    """Id prefixes this poll speaks for: a stored service under one that it did not read is
    removed (the monitor left its status page, Redis is no longer configured)..."""
    silent: Mapping[str, str] = field(default_factory=dict)
    """...unless it is under one of these prefixes, whose watcher did not answer: those turn
    unknown, with the message given for the prefix."""
