"""`/api/v1/media`: discover, search and details through Overseerr, asking for a title, and the
caller's own and followed requests."""

from __future__ import annotations

import math
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response, status

from medianest.auth.deps import ClientDep, CurrentUser
from medianest.core.deps import DbSession
from medianest.core.errors import Forbidden
from medianest.core.openapi import error_responses
from medianest.core.schemas import Envelope, PageMeta
from medianest.integrations.overseerr.client import DiscoverRow
from medianest.requests.deps import CatalogueDep, MyRequestsDep, RequestServiceDep
from medianest.requests.mine import Scope, Sort
from medianest.requests.schemas import (
    MAX_QUERY,
    MediaType,
    RequestCreate,
    RequestRead,
    TitleDetailsRead,
    TitleRead,
)
from medianest.requests.views import request_read

router = APIRouter(prefix="/api/v1/media", tags=["requests"])

TmdbId = Annotated[int, Path(alias="tmdbId", ge=1, le=2_147_483_647)]
PageNumber = Annotated[int, Query(ge=1, le=50)]
ListPage = Annotated[int, Query(ge=1, le=100_000)]
PageSize = Annotated[int, Query(alias="pageSize", ge=1, le=100)]
StatusFilter = Literal[
    "pending", "approved", "processing", "partially_available", "available", "declined", "failed"
]


def _meta(page: int, page_size: int, total: int) -> PageMeta:
    return PageMeta(
        page=page, page_size=page_size, total=total, total_pages=math.ceil(total / page_size)
    )


@router.get("/search", response_model=Envelope[list[TitleRead]], responses=error_responses(503))
async def search(
    user: CurrentUser,
    session: DbSession,
    catalogue: CatalogueDep,
    query: Annotated[str, Query(max_length=MAX_QUERY)] = "",
    page: PageNumber = 1,
) -> Envelope[list[TitleRead]]:
    titles, total, pages = await catalogue.search(session, user, query, page=page)
    meta = PageMeta(page=page, page_size=20, total=total, total_pages=pages)
    return Envelope(data=titles, meta=meta)


@router.get(
    "/discover/{row}", response_model=Envelope[list[TitleRead]], responses=error_responses(503)
)
async def discover(
    row: DiscoverRow,
    user: CurrentUser,
    session: DbSession,
    catalogue: CatalogueDep,
    page: PageNumber = 1,
) -> Envelope[list[TitleRead]]:
    titles, pages = await catalogue.discover(session, user, row, page=page)
    meta = PageMeta(page=page, page_size=20, total=len(titles), total_pages=pages)
    return Envelope(data=titles, meta=meta)


@router.get(
    "/movie/{tmdbId}",
    response_model=Envelope[TitleDetailsRead],
    responses=error_responses(404, 503),
)
async def movie_details(
    tmdb_id: TmdbId, user: CurrentUser, session: DbSession, catalogue: CatalogueDep
) -> Envelope[TitleDetailsRead]:
    return Envelope(data=await catalogue.details(session, user, "movie", tmdb_id))


@router.get(
    "/tv/{tmdbId}", response_model=Envelope[TitleDetailsRead], responses=error_responses(404, 503)
)
async def tv_details(
    tmdb_id: TmdbId, user: CurrentUser, session: DbSession, catalogue: CatalogueDep
) -> Envelope[TitleDetailsRead]:
    return Envelope(data=await catalogue.details(session, user, "tv", tmdb_id))


@router.post(
    "/request",
    response_model=Envelope[RequestRead],
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(403, 404, 409, 429, 503),
)
async def ask(
    body: RequestCreate, user: CurrentUser, requests: RequestServiceDep, response: Response
) -> Envelope[RequestRead]:
    asked = await requests.ask(
        user,
        media_type=body.media_type,
        tmdb_id=body.tmdb_id,
        seasons=body.seasons,
        is_4k=body.is_4k,
    )
    if asked.following:
        response.status_code = status.HTTP_200_OK
    return Envelope(data=request_read(asked))


@router.get("/requests", response_model=Envelope[list[RequestRead]])
async def list_requests(
    user: CurrentUser,
    session: DbSession,
    mine: MyRequestsDep,
    status: StatusFilter | None = None,
    media_type: Annotated[MediaType | None, Query(alias="mediaType")] = None,
    search: Annotated[str | None, Query(max_length=MAX_QUERY)] = None,
    sort: Sort = "newest",
    scope: Scope | None = None,
    page: ListPage = 1,
    page_size: PageSize = 20,
) -> Envelope[list[RequestRead]]:
    if scope == "all" and not user.is_admin:
        raise Forbidden("Only administrators can list everyone's requests.")
    found, total = await mine.list_requests(
        session,
        user,
        scope=scope,
        status=status,
        media_type=media_type,
        search=search,
        sort=sort,
        page=page,
        page_size=page_size,
    )
    return Envelope(data=[request_read(r) for r in found], meta=_meta(page, page_size, total))


@router.get(
    "/requests/{requestId}", response_model=Envelope[RequestRead], responses=error_responses(404)
)
async def get_request(
    request_id: Annotated[uuid.UUID, Path(alias="requestId")],
    user: CurrentUser,
    session: DbSession,
    mine: MyRequestsDep,
) -> Envelope[RequestRead]:
    listed, history = await mine.get_request(session, user, request_id)
    return Envelope(data=request_read(listed, history))


@router.delete(
    "/requests/{requestId}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(404, 409, 503),
)
async def cancel_request(
    request_id: Annotated[uuid.UUID, Path(alias="requestId")],
    user: CurrentUser,
    requests: RequestServiceDep,
    client: ClientDep,
) -> None:
    await requests.cancel(user, request_id, actor=client.actor(user))


@router.post(
    "/requests/{requestId}/follow",
    response_model=Envelope[RequestRead],
    responses=error_responses(404),
)
async def follow(
    request_id: Annotated[uuid.UUID, Path(alias="requestId")],
    user: CurrentUser,
    session: DbSession,
    mine: MyRequestsDep,
) -> Envelope[RequestRead]:
    return Envelope(data=request_read(await mine.follow(session, user, request_id)))


@router.delete(
    "/requests/{requestId}/follow",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(404),
)
async def unfollow(
    request_id: Annotated[uuid.UUID, Path(alias="requestId")],
    user: CurrentUser,
    session: DbSession,
    mine: MyRequestsDep,
) -> None:
    await mine.unfollow(session, user, request_id)
