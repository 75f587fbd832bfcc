"""Dependencies of the notifications routes and pages, declared once as named aliases."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, cast

from fastapi import Depends, Request

from medianest.notifications.channels import AlertChannels
from medianest.notifications.preferences import PreferenceService
from medianest.notifications.push import PushService
from medianest.notifications.service import NotificationService

if TYPE_CHECKING:
    from medianest.notifications.domain import Notifications

DOMAIN = "notifications"


def get_notifications(request: Request) -> Notifications:
    # The builder names the domain DOMAIN; the domain module imports the router, which imports
    # this one, so the type is only named here.
    return cast("Notifications", request.state.services.domain(DOMAIN))


async def get_notification_service(request: Request) -> NotificationService:
    return get_notifications(request).service


async def _preferences(request: Request) -> PreferenceService:
    return get_notifications(request).preferences


async def _push(request: Request) -> PushService:
    return get_notifications(request).push


async def _channels(request: Request) -> AlertChannels:
    return get_notifications(request).channels


NotificationServiceDep = Annotated[NotificationService, Depends(get_notification_service)]
PreferenceServiceDep = Annotated[PreferenceService, Depends(_preferences)]
PushServiceDep = Annotated[PushService, Depends(_push)]
AlertChannelsDep = Annotated[AlertChannels, Depends(_channels)]
