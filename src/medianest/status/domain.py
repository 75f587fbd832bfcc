"""Status: what the domain adds to MediaNest (see `core.domain`)."""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from medianest.auth.domain import Auth
from medianest.connections.models import PLEX
from medianest.connections.service import ConnectionChanged, Connections
from medianest.core.domain import Domain
from medianest.core.runtime import Platform
from medianest.integrations.overseerr.upstream import OverseerrUpstream
from medianest.integrations.plex.upstream import PlexUpstream
from medianest.integrations.uptime_kuma.upstream import UptimeKumaUpstream
from medianest.notifications.service import NotificationService
from medianest.requests.connection import NAME as OVERSEERR_NAME
from medianest.requests.connection import OverseerrConnectionService
from medianest.status import checks
from medianest.status.admin_router import router as admin_router
from medianest.status.alerts import Alerts
from medianest.status.checks import StatusChecks
from medianest.status.connection import NAME as KUMA_NAME
from medianest.status.connection import KumaConnectionService
from medianest.status.deps import DOMAIN
from medianest.status.kuma import KumaReader
from medianest.status.own import PING_JOB, OverseerrCheck, OwnCheck, PlexCheck, ping
from medianest.status.pages import install_status_pages
from medianest.status.probe import KumaProbe
from medianest.status.recorder import Recorder
from medianest.status.router import router
from medianest.status.service import REFRESH_SECONDS, StatusService

log = structlog.get_logger(__name__)

_POLLER_OF = {PLEX: checks.PLEX, OVERSEERR_NAME: checks.OVERSEERR, KUMA_NAME: checks.KUMA}


@dataclass(kw_only=True)
class StatusDomain(Domain):
    service: StatusService
    checks: StatusChecks
    kuma: KumaConnectionService


def build_status(
    platform: Platform,
    *,
    plex: PlexUpstream,
    overseerr: OverseerrUpstream,
    kuma: UptimeKumaUpstream,
    connections: Connections,
    overseerr_connection: OverseerrConnectionService,
    auth: Auth,
    notifications: NotificationService | None,
) -> StatusDomain:
    """Plex and Overseerr are checked at the addresses their domains connected; alerts go to
    every active administrator through `notifications`."""
    settings = platform.settings
    kuma_connection = KumaConnectionService(
        settings=settings,
        db=platform.db,
        connections=connections,
        probe=KumaProbe(kuma.clients),
        encryption=platform.encryption,
        audit=platform.audit,
    )

    async def overseerr_link() -> tuple[str, str] | None:
        link = await overseerr_connection.link()
        return (link.url, link.api_key) if link is not None else None

    recorder = Recorder(
        db=platform.db,
        bus=platform.bus,
        alerts=Alerts(notifications=notifications, admins=auth.users.active_admin_ids),
    )
    timeout = settings.http_read_timeout
    platform.queue.register(PING_JOB, ping)
    status_checks = StatusChecks(
        db=platform.db,
        recorder=recorder,
        plex=PlexCheck(connections.store.plex, plex.servers, timeout),
        overseerr=OverseerrCheck(overseerr_link, overseerr.clients, timeout),
        own=OwnCheck(platform.db, platform.queue, settings.redis_url),
        kuma=KumaReader(kuma_connection, kuma.clients),
        interval_seconds=settings.status_interval_seconds,
    )
    interval = settings.status_interval_seconds
    service = StatusService(
        db=platform.db,
        bus=platform.bus,
        refresh_seconds=min(REFRESH_SECONDS, interval) if interval else REFRESH_SECONDS,
    )

    async def connection_changed(event: ConnectionChanged) -> None:
        poller = _POLLER_OF.get(event.name)
        if poller is not None:
            status_checks.refresh(poller)

    connections.on_changed(connection_changed)

    async def start() -> None:
        try:
            await kuma_connection.seed_from_settings()
        except Exception:
            log.exception("status.kuma_seed_failed")
        await service.start()
        await status_checks.start()

    async def stop() -> None:
        await status_checks.stop()
        await service.stop()

    return StatusDomain(
        name=DOMAIN,
        routers=(router, admin_router),
        pages=lambda app, web: install_status_pages(app, web, service),
        start=start,
        stop=stop,
        service=service,
        checks=status_checks,
        kuma=kuma_connection,
    )
