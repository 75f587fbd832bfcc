"""Notifications: what the domain adds to MediaNest (see `core.domain`).

Domains that tell people about something take this one as a parameter of their builder and
call `service.notify` in their own unit of work."""

from __future__ import annotations

from dataclasses import dataclass

from medianest.core.domain import Domain
from medianest.core.runtime import Platform
from medianest.notifications.deps import DOMAIN
from medianest.notifications.pages import install_notification_pages
from medianest.notifications.router import router
from medianest.notifications.service import NotificationService


@dataclass(kw_only=True)
class Notifications(Domain):
    service: NotificationService


def build_notifications(platform: Platform) -> Notifications:
    service = NotificationService(bus=platform.bus)
    return Notifications(
        name=DOMAIN, routers=(router,), pages=install_notification_pages, service=service
    )
