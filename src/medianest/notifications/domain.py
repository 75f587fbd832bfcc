"""Notifications: what the domain adds to MediaNest (see `core.domain`).

Domains that tell people about something take this one as a parameter of their builder and
call `service.notify` in their own unit of work. Live updates need no parameter: a domain
publishes on the platform bus (channels in `realtime.py`) and `realtime` carries them to the
open `/api/v1/ws` sockets."""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from medianest.auth.domain import Auth
from medianest.core.domain import Domain
from medianest.core.runtime import Platform
from medianest.notifications.channel_router import router as channel_router
from medianest.notifications.channels import AlertChannels
from medianest.notifications.deps import DOMAIN
from medianest.notifications.pages import install_notification_pages
from medianest.notifications.preferences import PreferenceService
from medianest.notifications.push import PushService
from medianest.notifications.realtime import RealtimeHub
from medianest.notifications.router import router
from medianest.notifications.service import NotificationService
from medianest.notifications.settings_router import router as settings_router
from medianest.notifications.ws import router as ws_router

log = structlog.get_logger(__name__)


@dataclass(kw_only=True)
class Notifications(Domain):
    service: NotificationService
    preferences: PreferenceService
    push: PushService
    channels: AlertChannels
    realtime: RealtimeHub


def build_notifications(platform: Platform, auth: Auth) -> Notifications:
    """`auth`: a browser gets pushes only while it is signed in; the first administrator's
    address is who push services may write to."""
    push = PushService(
        settings=platform.settings,
        db=platform.db,
        encryption=platform.encryption,
        queue=platform.queue,
        sessions=auth.service.sessions,
        users=auth.users,
    )
    channels = AlertChannels(
        db=platform.db,
        queue=platform.queue,
        encryption=platform.encryption,
        audit=platform.audit,
        public_url=platform.settings.public_url,
    )
    service = NotificationService(bus=platform.bus, push=push, channels=channels)

    realtime = RealtimeHub(
        platform.bus, heartbeat_seconds=platform.settings.realtime_heartbeat_seconds
    )

    async def start() -> None:
        await realtime.start()
        try:
            await push.start()
        except Exception as exc:
            # Made on first use instead; the rest of MediaNest needs no push to start.
            log.warning("notifications.push_key_unavailable", error=type(exc).__name__)

    return Notifications(
        name=DOMAIN,
        routers=(router, settings_router, channel_router, ws_router),
        pages=install_notification_pages,
        start=start,
        stop=realtime.stop,
        service=service,
        preferences=PreferenceService(),
        push=push,
        channels=channels,
        realtime=realtime,
    )
