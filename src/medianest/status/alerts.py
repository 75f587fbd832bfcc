"""Telling administrators that a service went down or came back: one notification each, to every
active administrator (types `service.down` and `service.up`, linking to the status page).

Degraded, maintenance and unknown tell nothing. Uptime Kuma monitors are told one by one while
few change in one poll; past `SUMMARY_AFTER`, one summary tells them all (a Kuma page coming
back after an outage of its own turns hundreds of monitors up at once).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from medianest.notifications.service import Notice, NotificationService
from medianest.status.models import ServiceKind, Status

STATUS_PAGE = "/status"
SUMMARY_AFTER = 3
_NAMED_IN_SUMMARY = 5
# The longest dedup key the inbox keeps.
_DEDUP_LENGTH = 200

Alert = Literal["down", "up"]

# What people cannot do while each of MediaNest's own services is down.
_IMPACT = {
    ServiceKind.PLEX: "People cannot browse the library or watch until it is back.",
    ServiceKind.OVERSEERR: "Requests are paused until it is back.",
    ServiceKind.WORKERS: "Downloads wait until a worker runs again.",
}


@dataclass(frozen=True, slots=True)
class Change:
    """A service whose status this process changed."""

    id: str
    name: str
    kind: ServiceKind
    status: Status
    was: Status | None
    """None: seen for the first time."""
    since: datetime
    response_ms: float | None = None
    message: str | None = None
    alert: Alert | None = None
    outage_began: datetime | None = None
    """For an alert: when the outage it is about began (it names the alert)."""

    def message_for_bus(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "status": str(self.status),
            "responseTimeMs": _rounded(self.response_ms),
            "since": self.since.isoformat(),
        }


AdminIds = Callable[[AsyncSession], Awaitable[list[uuid.UUID]]]


class Alerts:
    def __init__(self, *, notifications: NotificationService | None, admins: AdminIds) -> None:
        """`admins` lists the active administrators' ids."""
        self._notifications = notifications
        self._admins = admins

    async def tell(self, session: AsyncSession, changes: Sequence[Change]) -> int:
        """Notify about `changes` in the caller's transaction; how many notifications."""
        alerting = [c for c in changes if c.alert is not None]
        if self._notifications is None or not alerting:
            return 0
        admins = await self._admins(session)
        if not admins:
            return 0
        notices: list[Notice] = []
        for alert in ("down", "up"):
            own = [c for c in alerting if c.alert == alert and c.kind is not ServiceKind.KUMA]
            kuma = [c for c in alerting if c.alert == alert and c.kind is ServiceKind.KUMA]
            notices += [self._one(admins, change) for change in own]
            if len(kuma) > SUMMARY_AFTER:
                notices.append(self._summary(admins, alert, kuma))
            else:
                notices += [self._one(admins, change) for change in kuma]
        return await self._notifications.notify_many(session, notices)

    def _one(self, admins: list[uuid.UUID], change: Change) -> Notice:
        began = change.outage_began or change.since
        if change.alert == "down":
            reason = change.message or f"{change.name} stopped answering."
            impact = _IMPACT.get(change.kind, "")
            return Notice(
                user_ids=admins,
                type="service.down",
                title=f"{change.name} is down",
                message=f"{reason} {impact}".strip(),
                link=STATUS_PAGE,
                severity="critical",
                dedup_key=dedup_key(change.id, "down", began),
            )
        return Notice(
            user_ids=admins,
            type="service.up",
            title=f"{change.name} is back up",
            message=f"{change.name} is answering again, after {_duration(began, change.since)}"
            " down.",
            link=STATUS_PAGE,
            severity="success",
            dedup_key=dedup_key(change.id, "up", began),
        )

    def _summary(self, admins: list[uuid.UUID], alert: Alert, changes: list[Change]) -> Notice:
        names = [c.name for c in changes[:_NAMED_IN_SUMMARY]]
        more = len(changes) - len(names)
        listed = ", ".join(names) + (f" and {more} more" if more else "")
        moment = max(c.since for c in changes)
        if alert == "down":
            return Notice(
                user_ids=admins,
                type="service.down",
                title=f"{len(changes)} monitors in Uptime Kuma are down",
                message=f"{listed}. The status page lists them all.",
                link=STATUS_PAGE,
                severity="critical",
                dedup_key=dedup_key("kuma-summary", "down", moment),
            )
        return Notice(
            user_ids=admins,
            type="service.up",
            title=f"{len(changes)} monitors in Uptime Kuma are back up",
            message=f"{listed}.",
            link=STATUS_PAGE,
            severity="success",
            dedup_key=dedup_key("kuma-summary", "up", moment),
        )


def dedup_key(service_id: str, alert: Alert, began: datetime) -> str:
    """Names the service and the moment its outage began (to the microsecond, as stored: two
    outages within a second are two alerts): told once, by whoever tells it."""
    moment = began.isoformat(timespec="microseconds")
    key = f"status:{service_id}:{alert}:{moment}"
    if len(key) <= _DEDUP_LENGTH:
        return key
    digest = hashlib.sha256(service_id.encode()).hexdigest()[:24]
    return f"status:{digest}:{alert}:{moment}"


def _duration(began: datetime, ended: datetime) -> str:
    minutes = max(1, round((ended - began).total_seconds() / 60))
    if minutes < 60:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours, rest = divmod(minutes, 60)
    if hours < 24:
        text = f"{hours} hour{'s' if hours != 1 else ''}"
        return text + (f" {rest} min" if rest else "")
    days, hours = divmod(hours, 24)
    return f"{days} day{'s' if days != 1 else ''}" + (f" {hours} h" if hours else "")


def _rounded(value: float | None) -> int | None:
    return None if value is None else round(value)
