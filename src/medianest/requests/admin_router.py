"""`/api/v1/admin/requests`: everyone's requests, approving and declining them, and the sync."""

from __future__ import annotations

import math
import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from medianest.auth.deps import AdminUser, ClientDep
from medianest.core.deps import DbSession
from medianest.core.openapi import error_responses
from medianest.core.schemas import Envelope, PageMeta
from medianest.requests.deps import MyRequestsDep, RequestServiceDep, RequestSyncDep
from medianest.requests.mine import Sort
from medianest.requests.router import ListPage, PageSize, StatusFilter
from medianest.requests.schemas import MAX_QUERY, DeclineBody, MediaType, RequestRead
from medianest.requests.views import request_read

router = APIRouter(prefix="/api/v1/admin/requests", tags=["admin"])

RequestId = Annotated[uuid.UUID, Path(alias="requestId")]


@router.get("", response_model=Envelope[list[RequestRead]])
async def all_requests(
    admin: AdminUser,
    session: DbSession,
    mine: MyRequestsDep,
    status: StatusFilter | None = None,
    media_type: Annotated[MediaType | None, Query(alias="mediaType")] = None,
    search: Annotated[str | None, Query(max_length=MAX_QUERY)] = None,
    sort: Sort = "newest",
    page: ListPage = 1,
    page_size: PageSize = 20,
) -> Envelope[list[RequestRead]]:
    found, total = await mine.list_requests(
        session,
        admin,
        scope="all",
        status=status,
        media_type=media_type,
        search=search,
        sort=sort,
        page=page,
        page_size=page_size,
    )
    meta = PageMeta(
        page=page, page_size=page_size, total=total, total_pages=math.ceil(total / page_size)
    )
    return Envelope(data=[request_read(r) for r in found], meta=meta)


@router.post(
    "/{requestId}/approve",
    response_model=Envelope[RequestRead],
    responses=error_responses(404, 409, 503),
)
async def approve(
    request_id: RequestId, admin: AdminUser, requests: RequestServiceDep, client: ClientDep
) -> Envelope[RequestRead]:
    decided = await requests.decide(admin, request_id, approve=True, actor=client.actor(admin))
    return Envelope(data=request_read(decided))


@router.post(
    "/{requestId}/decline",
    response_model=Envelope[RequestRead],
    responses=error_responses(404, 409, 503),
)
async def decline(
    request_id: RequestId,
    admin: AdminUser,
    requests: RequestServiceDep,
    client: ClientDep,
    body: DeclineBody | None = None,
) -> Envelope[RequestRead]:
    decided = await requests.decide(
        admin,
        request_id,
        approve=False,
        reason=body.reason if body is not None else None,
        actor=client.actor(admin),
    )
    return Envelope(data=request_read(decided))


@router.post("/sync", status_code=status.HTTP_202_ACCEPTED, responses=error_responses(503))
async def sync_now(_: AdminUser, sync: RequestSyncDep) -> Envelope[dict[str, int]]:
    """Ask Overseerr now for what changed; answers how many requests it looked at and moved on."""
    result = await sync.run()
    return Envelope(data={"seen": result.seen, "moved": result.moved})
