"""Dependencies of the requests routes and pages, declared once as named aliases."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, cast

from fastapi import Depends, Request

from medianest.requests.connection import OverseerrConnectionService

if TYPE_CHECKING:
    from medianest.requests.domain import Requests

DOMAIN = "requests"


def get_requests(request: Request) -> Requests:
    # The builder names the domain DOMAIN; the domain module imports the routers, which import
    # this one, so the type is only named here.
    return cast("Requests", request.state.services.domain(DOMAIN))


async def get_connection_service(request: Request) -> OverseerrConnectionService:
    return get_requests(request).connection


OverseerrConnectionDep = Annotated[OverseerrConnectionService, Depends(get_connection_service)]
