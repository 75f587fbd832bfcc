"""`/api/v1/plex`: the Plex library as the signed-in user may see it, and administrators' actions.

Answers that can come from the cache say so in `X-Cache: HIT|MISS`. While Plex cannot be
reached, the library views answer from what MediaNest holds, with `meta.degraded: true` and
`meta.asOf` (when that data was Plex's).
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from pydantic import Field, StringConstraints

from medianest.auth.deps import AdminUser, CurrentUser
from medianest.core.schemas import ApiModel, Envelope, PageMeta, RequestModel
from medianest.plex.answers import Cached, CollectionDetails
from medianest.plex.deps import PlexServiceDep, served
from medianest.plex.images import MAX_SIDE
from medianest.plex.schemas import (
    Collection,
    ItemDetail,
    ItemType,
    Library,
    LibraryItem,
    SearchHit,
    ServerInfo,
)
from medianest.plex.service import MAX_QUERY_LENGTH, CollectionOrder, ItemOrder

router = APIRouter(prefix="/api/v1/plex", tags=["plex"])

# Posters load by the hundred as a person scrolls: they spend an allowance of their own, not the
# general API limit.
IMAGE_PATH = "/api/v1/plex/image"

PLEX_KEY = r"^[0-9]{1,12}$"
MAX_COLLECTION_ITEMS = 1000

Key = Annotated[str, Path(pattern=PLEX_KEY, description="A Plex library key")]
RatingKey = Annotated[str, Path(alias="ratingKey", pattern=PLEX_KEY)]
PageNumber = Annotated[int, Query(ge=1, le=100_000)]
PageSize = Annotated[int, Query(alias="pageSize", ge=1, le=100)]
Limit = Annotated[int, Query(ge=1, le=100)]
Side = Annotated[int | None, Query(ge=1, le=MAX_SIDE)]


class LibraryRead(ApiModel):
    key: str
    type: str
    title: str
    item_count: int | None = None


class CollectionCreate(RequestModel):
    library_key: Annotated[str, StringConstraints(pattern=PLEX_KEY)]
    title: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    rating_keys: list[Annotated[str, StringConstraints(pattern=PLEX_KEY)]] = Field(
        min_length=1, max_length=MAX_COLLECTION_ITEMS
    )


class ScanCreate(RequestModel):
    # As the Plex server sees the folder (inside its container, for a Docker install).
    path: Annotated[str, StringConstraints(max_length=1024)]


class ScanStarted(ApiModel):
    library_key: str
    path: str | None = None


def _meta(page: int, page_size: int, total: int) -> PageMeta:
    return PageMeta(
        page=page, page_size=page_size, total=total, total_pages=math.ceil(total / page_size)
    )


def _held(found: Cached[Any], meta: PageMeta | None = None) -> dict[str, Any] | PageMeta | None:
    """`meta`, saying too when the answer is what was held while Plex is unreachable."""
    if not found.degraded:
        return meta
    page = meta.model_dump(by_alias=True) if meta is not None else {}
    return {**page, "degraded": True, "asOf": found.as_of}


def _library(library: Library) -> LibraryRead:
    # A library's folders stay out of the API: server paths are nobody's business.
    return LibraryRead(
        key=library.key, type=library.type, title=library.title, item_count=library.item_count
    )


@router.get("/server", response_model=Envelope[ServerInfo])
async def server_info(
    _: CurrentUser, plex: PlexServiceDep, response: Response
) -> Envelope[ServerInfo]:
    return Envelope(data=served(response, await plex.get_server_info()))


@router.get("/libraries", response_model=Envelope[list[LibraryRead]])
async def list_libraries(
    principal: CurrentUser, plex: PlexServiceDep, response: Response
) -> Envelope[list[LibraryRead]]:
    found = await plex.get_libraries(principal)
    libraries = served(response, found)
    return Envelope(data=[_library(library) for library in libraries], meta=_held(found))


@router.get("/libraries/{key}/items", response_model=Envelope[list[LibraryItem]])
async def list_library_items(
    key: Key,
    principal: CurrentUser,
    plex: PlexServiceDep,
    response: Response,
    page: PageNumber = 1,
    page_size: PageSize = 20,
    sort: ItemOrder = "title",
    type: ItemType | None = None,
) -> Envelope[list[LibraryItem]]:
    found = await plex.get_library_items(
        principal, key, page=page, page_size=page_size, sort=sort, type=type
    )
    items = served(response, found)
    return Envelope[list[LibraryItem]](
        data=items.items, meta=_held(found, _meta(page, page_size, items.total_size))
    )


@router.get("/items/{ratingKey}", response_model=Envelope[ItemDetail])
async def get_item(
    rating_key: RatingKey, principal: CurrentUser, plex: PlexServiceDep, response: Response
) -> Envelope[ItemDetail]:
    found = await plex.get_item(principal, rating_key)
    return Envelope(data=served(response, found), meta=_held(found))


@router.get("/search", response_model=Envelope[list[SearchHit]])
async def search(
    principal: CurrentUser,
    plex: PlexServiceDep,
    response: Response,
    query: Annotated[str, Query(max_length=MAX_QUERY_LENGTH)] = "",
    page: PageNumber = 1,
    page_size: Annotated[int | None, Query(alias="pageSize", ge=1, le=100)] = None,
    limit: Annotated[
        int | None, Query(ge=1, le=50, description="The page size, by its older name")
    ] = None,
) -> Envelope[list[SearchHit]]:
    size = page_size or limit or 20
    found = await plex.search(principal, query, page=page, page_size=size)
    hits = served(response, found)
    return Envelope[list[SearchHit]](
        data=hits.items, meta=_held(found, _meta(page, size, hits.total_size))
    )


@router.get("/recently-added", response_model=Envelope[list[LibraryItem]])
async def recently_added(
    principal: CurrentUser, plex: PlexServiceDep, response: Response, limit: Limit = 20
) -> Envelope[list[LibraryItem]]:
    found = await plex.get_recently_added(principal, limit=limit)
    return Envelope(data=served(response, found), meta=_held(found))


@router.get("/libraries/{key}/collections", response_model=Envelope[list[Collection]])
async def list_collections(
    key: Key,
    principal: CurrentUser,
    plex: PlexServiceDep,
    response: Response,
    search: Annotated[str | None, Query(max_length=MAX_QUERY_LENGTH)] = None,
    sort: CollectionOrder = "title",
) -> Envelope[list[Collection]]:
    found = await plex.get_collections(principal, key, search=search, sort=sort)
    return Envelope(data=served(response, found))


@router.get("/collections/{key}", response_model=Envelope[CollectionDetails])
async def get_collection(
    key: Key,
    principal: CurrentUser,
    plex: PlexServiceDep,
    response: Response,
    page: PageNumber = 1,
    page_size: PageSize = 50,
) -> Envelope[CollectionDetails]:
    found = await plex.get_collection_details(principal, key, page=page, page_size=page_size)
    details = served(response, found)
    return Envelope(data=details, meta=_meta(page, page_size, details.item_total))


@router.post("/collections", status_code=201, response_model=Envelope[Collection])
async def create_collection(
    body: CollectionCreate, _: AdminUser, plex: PlexServiceDep
) -> Envelope[Collection]:
    created = await plex.create_collection(body.library_key, body.title, body.rating_keys)
    return Envelope(data=created)


@router.post("/libraries/{key}/refresh", status_code=202, response_model=Envelope[ScanStarted])
async def refresh_library(key: Key, _: AdminUser, plex: PlexServiceDep) -> Envelope[ScanStarted]:
    await plex.refresh_library(key)
    return Envelope(data=ScanStarted(library_key=key))


@router.post("/libraries/{key}/scan", status_code=202, response_model=Envelope[ScanStarted])
async def scan_folder(
    key: Key, body: ScanCreate, _: AdminUser, plex: PlexServiceDep
) -> Envelope[ScanStarted]:
    await plex.scan_directory(key, body.path)
    return Envelope(data=ScanStarted(library_key=key, path=body.path))


@router.get(
    "/image",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}, "image/png": {}}, "description": "The image"}},
)
async def image(
    principal: CurrentUser,
    plex: PlexServiceDep,
    # Checked by the service, which names the field: an empty or missing path is refused too.
    path: str = "",
    width: Side = None,
    height: Side = None,
) -> Response:
    found = await plex.get_image(principal, path, width=width, height=height)
    return Response(
        found.value.content,
        media_type=found.value.content_type,
        headers={
            "Cache-Control": "private, max-age=86400",
            "X-Cache": "HIT" if found.hit else "MISS",
        },
    )
