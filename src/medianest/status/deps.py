"""Dependencies of the status routes and pages, declared once as named aliases."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, cast

from fastapi import Depends, Request

from medianest.status.connection import KumaConnectionService
from medianest.status.service import StatusService

if TYPE_CHECKING:
    from medianest.status.domain import StatusDomain

DOMAIN = "status"


def get_status(request: Request) -> StatusDomain:
    # The builder names the domain DOMAIN; the domain module imports the routers, which import
    # this one, so the type is only named here.
    return cast("StatusDomain", request.state.services.domain(DOMAIN))


async def get_status_service(request: Request) -> StatusService:
    return get_status(request).service


async def get_kuma_connection(request: Request) -> KumaConnectionService:
    return get_status(request).kuma


StatusServiceDep = Annotated[StatusService, Depends(get_status_service)]
KumaConnectionDep = Annotated[KumaConnectionService, Depends(get_kuma_connection)]
