"""Reading the connected Uptime Kuma's status pages into readings: one service per monitor of
each page (`kuma:<slug>:<monitorId>`), its status from its latest beat (Kuma's pending is
degraded), since when from the run of beats with that status, and the beats MediaNest has not
stored yet.

Kuma answers a page's last 100 beats per monitor each time (1.23: 50); the reader remembers the
newest beat of each monitor it handed over and recorded, so only newer ones are made into
heartbeats (the recorder checks against what is stored too, for a reader that just started). A
page that does not answer leaves its monitors `unknown`, with why; a slug no longer configured
takes its monitors off the list.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import structlog

from medianest.core.db import utc_now
from medianest.core.errors import MediaNestError
from medianest.integrations.uptime_kuma import schemas as kuma
from medianest.integrations.uptime_kuma.client import UptimeKumaClient
from medianest.integrations.uptime_kuma.errors import StatusPageNotFound
from medianest.integrations.uptime_kuma.upstream import UptimeKumaClients
from medianest.status.connection import KumaConnectionService
from medianest.status.models import ServiceKind, Status
from medianest.status.readings import Beat, Poll, Reading

log = structlog.get_logger(__name__)

PREFIX = "kuma:"

_MESSAGES = {
    Status.DOWN: "Uptime Kuma finds it down.",
    Status.DEGRADED: "Uptime Kuma is checking it again after a failed check.",
    Status.MAINTENANCE: "Under maintenance, as Uptime Kuma says.",
}


def service_id(slug: str, monitor_id: int) -> str:
    return f"{PREFIX}{slug}:{monitor_id}"


class KumaReader:
    def __init__(self, connection: KumaConnectionService, clients: UptimeKumaClients) -> None:
        self._connection = connection
        self._clients = clients
        self._newest: dict[str, datetime] = {}
        self._metrics_failing = False

    async def poll(self) -> Poll:
        link = await self._connection.link()
        if link is None:
            # Not connected (or disconnected): no monitor stays on the list.
            self._newest.clear()
            return Poll((), owns=(PREFIX,))
        client = self._clients.client(link.url, link.api_key)
        now = utc_now()
        metrics = await self._metrics(client) if link.api_key is not None else None
        readings: list[Reading] = []
        silent: dict[str, str] = {}
        for slug in link.status_pages:
            try:
                page = await client.status_page(slug)
                beats = await client.heartbeats(slug)
            except StatusPageNotFound:
                silent[f"{PREFIX}{slug}:"] = (
                    f'Uptime Kuma no longer has the status page "{slug}": an administrator '
                    "needs to check Admin → Status."
                )
                continue
            except MediaNestError as exc:
                log.info("status.kuma_page_unread", slug=slug, error=type(exc).__name__)
                silent[f"{PREFIX}{slug}:"] = "Uptime Kuma is not answering: not known now."
                continue
            readings += self._page(slug, page, beats, metrics, now)
        return Poll(tuple(readings), owns=(PREFIX,), silent=silent)

    def recorded(self, poll: Poll) -> None:
        """`poll` is stored: its beats need not be made again."""
        for reading in poll.readings:
            if reading.beats:
                self._newest[reading.id] = reading.beats[-1].at

    def forget(self) -> None:
        """Make every beat again next time (this process just became the one that polls)."""
        self._newest.clear()

    async def _metrics(self, client: UptimeKumaClient) -> kuma.MetricsSnapshot | None:
        """Kuma's gauges, for the monitors' addresses a page does not publish; None when they
        cannot be read (said once)."""
        try:
            found = await client.metrics()
        except MediaNestError as exc:
            if not self._metrics_failing:
                self._metrics_failing = True
                log.warning("status.kuma_metrics_unread", error=type(exc).__name__)
            return None
        self._metrics_failing = False
        return found

    def _page(
        self,
        slug: str,
        page: kuma.StatusPage,
        heartbeats: kuma.Heartbeats,
        metrics: kuma.MetricsSnapshot | None,
        now: datetime,
    ) -> list[Reading]:
        readings = []
        for position, monitor in enumerate(page.monitors):
            id = service_id(slug, monitor.id)
            beats = heartbeats.of(monitor.id)
            latest = beats[-1] if beats else None
            status = Status(latest.status.state) if latest is not None else Status.UNKNOWN
            url = monitor.url
            if url is None and metrics is not None:
                gauges = metrics.find(monitor.id, monitor.name)
                url = gauges.url if gauges is not None else None
            readings.append(
                Reading(
                    id=id,
                    name=monitor.name,
                    kind=ServiceKind.KUMA,
                    status=status,
                    checked_at=now,
                    response_ms=latest.ping if latest is not None else None,
                    message=_MESSAGES.get(status)
                    if latest is not None
                    else "Uptime Kuma has no checks of this monitor yet.",
                    url=url,
                    group_key=f"{PREFIX}{slug}",
                    group_title=page.title,
                    position=position,
                    since=_run_began(beats),
                    beats=_new_beats(beats, self._newest.get(id)),
                )
            )
        return readings


def _run_began(beats: Sequence[kuma.Beat]) -> datetime | None:
    """When the latest beat's status began, as far as the beats go back."""
    if not beats:
        return None
    state = beats[-1].status.state
    first = beats[-1]
    for beat in reversed(beats):
        if beat.status.state != state:
            break
        first = beat
    return first.time


def _new_beats(beats: Sequence[kuma.Beat], known: datetime | None) -> tuple[Beat, ...]:
    """The beats newer than `known`, oldest first (walked from the newest: most are known)."""
    fresh: list[Beat] = []
    for beat in reversed(beats):
        at = beat.time
        if known is not None and at <= known:
            break
        fresh.append(Beat(at, Status(beat.status.state), beat.ping))
    fresh.reverse()
    return tuple(fresh)
