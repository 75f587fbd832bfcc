"""`/api/v1/status`: every service at a glance and each one's history, for anyone signed in.

Answers come from the process's board (`StatusService`), never from an upstream: a thousand
people looking cost no poll. A monitor's address is in administrators' answers only.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from starlette.responses import Response

from medianest.auth.deps import CurrentUser
from medianest.core.deps import DbSession
from medianest.core.schemas import Envelope
from medianest.status.deps import StatusServiceDep
from medianest.status.history import HistoryRange
from medianest.status.models import ID_LENGTH
from medianest.status.schemas import HistoryRead, ServiceRead

router = APIRouter(prefix="/api/v1/status", tags=["status"])

ServiceId = Annotated[str, Path(min_length=1, max_length=ID_LENGTH)]
Range = Annotated[
    HistoryRange,
    Query(
        alias="range",
        description="24h: the last 24 hours by the hour; 7d and 30d: the last 7 or 30 UTC days "
        "by the day. The current hour or day is the last bucket.",
    ),
]


@router.get("/services", response_model=Envelope[list[ServiceRead]])
async def list_services(principal: CurrentUser, status: StatusServiceDep) -> Response:
    """MediaNest's own services first, then each Uptime Kuma status page's monitors. Uptime
    is a percentage of the checks that did not find the service down."""
    body = status.board.json(admin=principal.is_admin)
    return Response(body, media_type="application/json")


@router.get("/services/{service_id}/history", response_model=Envelope[HistoryRead])
async def service_history(
    service_id: ServiceId,
    _: CurrentUser,
    session: DbSession,
    status: StatusServiceDep,
    range_: Range = "24h",
) -> Envelope[HistoryRead]:
    return Envelope(data=await status.history(session, service_id, range_))
