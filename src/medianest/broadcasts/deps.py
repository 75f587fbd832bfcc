"""Dependencies of the announcements routes and pages, declared once as named aliases."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, cast

from fastapi import Depends, Request

from medianest.broadcasts.service import BroadcastService

if TYPE_CHECKING:
    from medianest.broadcasts.domain import Broadcasts

DOMAIN = "broadcasts"


def get_broadcasts(request: Request) -> Broadcasts:
    # The builder names the domain DOMAIN; the domain module imports the router, which imports
    # this one, so the type is only named here.
    return cast("Broadcasts", request.state.services.domain(DOMAIN))


async def get_broadcast_service(request: Request) -> BroadcastService:
    return get_broadcasts(request).service


BroadcastServiceDep = Annotated[BroadcastService, Depends(get_broadcast_service)]
