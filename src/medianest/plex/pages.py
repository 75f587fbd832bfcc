"""The Plex pages: the library as the signed-in user may see it, rendered on the server, and the
administrators' page that connects the Plex server.

Library pages read through `PlexService`, so a page shows exactly what the JSON API would show
the same user. Scripts make them nicer (endless scrolling, buttons along the recently-added row,
administrators' actions) but every page works without them: "Load more" and the result pages
are links and sorting is a form. With no Plex server connected yet they explain that
(`PlexNotConnected`, rendered by the shell).

The Plex-server page shows what is stored; connecting, testing, linking a Plex account and the
library index panel talk to the JSON API from `static/js/admin_plex.js`.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from medianest.auth.sessions import Principal
from medianest.core.db import utc_now
from medianest.core.deps import DbSession
from medianest.core.errors import UpstreamTimeout, UpstreamUnavailable
from medianest.core.routing import attach
from medianest.integrations.plex.errors import PLEX_SERVER, LibraryNotFound
from medianest.plex.answers import Cached
from medianest.plex.callers import CONNECT_PATH
from medianest.plex.cards import (
    COUNTED,
    KINDS,
    SQUARE_KINDS,
    Card,
    Season,
    album_card,
    card,
    collection_card,
    discs,
    runtime,
    track_time,
)
from medianest.plex.connection_deps import ConnectionServiceDep
from medianest.plex.deps import PlexServiceDep
from medianest.plex.home import setup_steps
from medianest.plex.schemas import ItemDetail, Library, LibraryItem
from medianest.plex.service import MAX_QUERY_LENGTH, ItemOrder, PlexService
from medianest.web.extensions import AdminPage, HomeCard, LayoutPart, NavEntry, NotConnectedPage
from medianest.web.shell import PageRoute, Web, WebShell, opens_plex_window
from medianest.web.viewer import AdminViewer, SignedInViewer, Viewer

PAGE_SIZE = 40
# Plex only lists what was added recently across all libraries; a library's row is picked
# from this many.
RECENT_POOL = 60
RECENT_SHOWN = 12
SEARCH_PAGE_SIZE = 40
PLEX_WEB = (
    "https://app.plex.tv/desktop/#!/server/{server}/details?key=%2Flibrary%2Fmetadata%2F{key}"
)

SORTS: dict[str, str] = {"title": "Title", "addedAt": "Date added", "year": "Year"}
_ORDERS: dict[str, ItemOrder] = {"title": "title", "addedAt": "addedAt", "year": "year"}


@dataclass(frozen=True, slots=True)
class Stale:
    """The library shown is MediaNest's own copy, as it was at `moment`, because Plex is down."""

    moment: datetime | None
    text: str


def stale(*answers: Cached[Any], now: datetime | None = None) -> Stale | None:
    """Whether any answer came from what MediaNest held while Plex is down, and as of when
    (the oldest). Answers say so in `degraded` and `as_of`, read leniently: an answer that
    carries neither is a live one."""
    held = [a for a in answers if getattr(a, "degraded", False)]
    if not held:
        return None
    moments = [m for a in held if isinstance(m := getattr(a, "as_of", None), datetime)]
    if not moments:
        return Stale(None, "")
    moment = min(moments)
    today = (now or utc_now()).date() == moment.date()
    text = f"{moment:%H:%M} UTC" if today else f"{moment.day} {moment:%B}, {moment:%H:%M} UTC"
    return Stale(moment, text)


router = APIRouter(
    route_class=PageRoute, include_in_schema=False, default_response_class=HTMLResponse
)

PageNumber = Annotated[int, Query(ge=1, le=100_000)]
# Any other value (an old bookmark) lists by title rather than failing.
SortParam = Annotated[str, Query(max_length=20)]


def _page_href(path: str, page: int, **query: str) -> str:
    params = {k: v for k, v in query.items() if v}
    if page > 1:
        params["page"] = str(page)
    return f"{path}?{urlencode(params)}" if params else path


def _pages(path: str, page: int, total: int, shown: int, **query: str) -> dict[str, Any]:
    more = (page - 1) * PAGE_SIZE + shown < total
    return {
        "page": page,
        "total": total,
        "next_href": _page_href(path, page + 1, **query) if more else None,
        "prev_href": _page_href(path, page - 1, **query) if page > 1 else None,
        "first_href": _page_href(path, 1, **query),
    }


def _find(libraries: Sequence[Library], key: str) -> Library:
    found = next((library for library in libraries if library.key == key), None)
    if found is None:
        raise LibraryNotFound
    return found


async def _recently_added(
    plex: PlexService, viewer: Viewer, library_key: str
) -> tuple[list[Card], Cached[list[LibraryItem]]]:
    answer = await plex.get_recently_added(viewer.user, limit=RECENT_POOL)
    mine = [i for i in answer.value if i.library_key in (None, library_key)]
    return [card(i) for i in mine[:RECENT_SHOWN]], answer


async def _machine_identifier(plex: PlexService) -> str | None:
    """Only the "Open in Plex" link needs it: the page is still worth showing without it."""
    try:
        return (await plex.get_server_info()).value.machine_identifier
    except (UpstreamUnavailable, UpstreamTimeout):
        return None


async def _library_page(
    request: Request,
    viewer: Viewer,
    web: WebShell,
    plex: PlexService,
    key: str | None,
    *,
    sort: str,
    page: int,
) -> Response:
    libraries = await plex.get_libraries(viewer.user)
    common: dict[str, Any] = {
        "libraries": libraries.value,
        "view": "titles",
    }
    if key is None:
        if not libraries.value:
            return web.render(
                request,
                "plex/library.html",
                viewer,
                title="Library",
                library=None,
                stale=stale(libraries),
                **common,
            )
        key = libraries.value[0].key
    library = _find(libraries.value, key)
    order = _ORDERS.get(sort, "title")
    listing = plex.get_library_items(
        viewer.user, library.key, page=page, page_size=PAGE_SIZE, sort=order
    )
    if page == 1:
        items, (recent, recent_answer) = await asyncio.gather(
            listing, _recently_added(plex, viewer, library.key)
        )
        answers: tuple[Cached[Any], ...] = (libraries, items, recent_answer)
    else:
        items, recent = await listing, []
        answers = (libraries, items)
    path = f"/library/{library.key}"
    shown = items.value.items
    return web.render(
        request,
        "plex/library.html",
        viewer,
        title=library.title,
        library=library,
        counted=COUNTED.get(library.type, "title"),
        cards=[card(i) for i in shown],
        recent=recent,
        sort=order,
        sorts=SORTS,
        pickable=viewer.user.is_admin,
        stale=stale(*answers),
        **_pages(path, page, items.value.total_size, len(shown), sort=order),
        **common,
    )


@router.get("/library")
async def library_home(
    request: Request,
    viewer: SignedInViewer,
    web: Web,
    plex: PlexServiceDep,
    sort: SortParam = "title",
    page: PageNumber = 1,
) -> Response:
    return await _library_page(request, viewer, web, plex, None, sort=sort, page=page)


@router.get("/library/items/{rating_key}")
async def library_item(
    request: Request, viewer: SignedInViewer, web: Web, plex: PlexServiceDep, rating_key: str
) -> Response:
    found, server = await asyncio.gather(
        plex.get_item(viewer.user, rating_key), _machine_identifier(plex)
    )
    item: ItemDetail = found.value
    answers: list[Cached[Any]] = [found]
    seasons: list[Season] = []
    if item.type == "show" and item.children:
        details = await asyncio.gather(
            *(plex.get_item(viewer.user, child.rating_key) for child in item.children)
        )
        answers.extend(details)
        seasons = [
            Season(child, detail.value.children)
            for child, detail in zip(item.children, details, strict=True)
        ]
    return web.render(
        request,
        "plex/library_item.html",
        viewer,
        title=item.title,
        item=item,
        kind=KINDS.get(item.type, item.type.capitalize()),
        square=item.type in SQUARE_KINDS,
        runtime=runtime,
        track_time=track_time,
        seasons=seasons,
        discs=discs(item.children) if item.type == "album" else [],
        albums=[album_card(child) for child in item.children] if item.type == "artist" else [],
        album_time=runtime(sum(t.duration or 0 for t in item.children)),
        plex_url=PLEX_WEB.format(server=server, key=item.rating_key) if server else None,
        stale=stale(*answers),
    )


@router.get("/library/collections/{key}")
async def collection(
    request: Request,
    viewer: SignedInViewer,
    web: Web,
    plex: PlexServiceDep,
    key: str,
    page: PageNumber = 1,
) -> Response:
    found, libraries = await asyncio.gather(
        plex.get_collection_details(viewer.user, key, page=page, page_size=PAGE_SIZE),
        plex.get_libraries(viewer.user),
    )
    details = found.value
    library = next((lib for lib in libraries.value if lib.key == details.library_key), None)
    return web.render(
        request,
        "plex/collection.html",
        viewer,
        title=details.title,
        collection=details,
        library=library,
        cards=[card(i) for i in details.items],
        stale=stale(found, libraries),
        **_pages(f"/library/collections/{key}", page, details.item_total, len(details.items)),
    )


@router.get("/library/{key}/collections")
async def collections(
    request: Request, viewer: SignedInViewer, web: Web, plex: PlexServiceDep, key: str
) -> Response:
    libraries = await plex.get_libraries(viewer.user)
    library = _find(libraries.value, key)
    found = await plex.get_collections(viewer.user, library.key)
    return web.render(
        request,
        "plex/collections.html",
        viewer,
        title=f"{library.title}: collections",
        libraries=libraries.value,
        library=library,
        view="collections",
        cards=[collection_card(c) for c in found.value],
        stale=stale(libraries, found),
    )


@router.get("/library/{key}")
async def library_section(
    request: Request,
    viewer: SignedInViewer,
    web: Web,
    plex: PlexServiceDep,
    key: str,
    sort: SortParam = "title",
    page: PageNumber = 1,
) -> Response:
    return await _library_page(request, viewer, web, plex, key, sort=sort, page=page)


@router.get("/search")
async def search(
    request: Request,
    viewer: SignedInViewer,
    web: Web,
    plex: PlexServiceDep,
    q: Annotated[str, Query(max_length=MAX_QUERY_LENGTH)] = "",
    page: PageNumber = 1,
) -> Response:
    query = " ".join(q.split())
    if not query:
        return web.render(
            request,
            "plex/search.html",
            viewer,
            title="Search",
            own_search=True,
            query="",
            stale=None,
        )
    found = await plex.search(viewer.user, query, page=page, page_size=SEARCH_PAGE_SIZE)
    results = found.value
    pages = math.ceil(results.total_size / SEARCH_PAGE_SIZE)
    return web.render(
        request,
        "plex/search.html",
        viewer,
        title=f"Search: {query}" + (f" (page {page})" if page > 1 else ""),
        own_search=True,
        query=query,
        cards=[card(i, with_kind=True) for i in results.items],
        total=results.total_size,
        page=page,
        pages=pages,
        first_shown=results.offset + 1,
        last_shown=results.offset + len(results.items),
        next_href=_page_href("/search", page + 1, q=query) if page < pages else None,
        prev_href=_page_href("/search", min(page, pages + 1) - 1, q=query) if page > 1 else None,
        first_href=_page_href("/search", 1, q=query),
        stale=stale(found),
    )


@router.get(CONNECT_PATH)
async def plex_connection(
    request: Request,
    viewer: AdminViewer,
    web: Web,
    session: DbSession,
    connections: ConnectionServiceDep,
) -> Response:
    status = await connections.plex_status(session, viewer.user)
    return opens_plex_window(
        web.render(request, "plex/admin_plex.html", viewer, title="Plex server", status=status)
    )


LIBRARY = NavEntry("library", "Library", "/library", "library", order=10)
PLEX_SERVER_PAGE = AdminPage("Plex server", CONNECT_PATH, order=20)
LIBRARY_CARD = HomeCard(
    "library",
    "Browse the library",
    "See everything on the Plex server and find something to watch.",
    "/library",
    "library",
    order=10,
)
NOT_CONNECTED = NotConnectedPage(
    title="Library",
    subject="a Plex server",
    for_admins="Connect your Plex server and everyone you share it with can browse it here.",
    action="Connect a Plex server",
    for_others="The library shows up here once the person who runs this server connects Plex."
    " Nothing to do on your side.",
    icon="library",
)


def _cards(_: Principal) -> Sequence[HomeCard]:
    return (LIBRARY_CARD,)


def install_plex_pages(app: FastAPI, web: WebShell) -> None:
    """The library pages, the Plex-server page, and what Plex adds to the shell."""
    web.add_domain("plex", Path(__file__).parent)
    extensions = web.extensions
    extensions.add_nav(LIBRARY)
    extensions.add_admin_pages(PLEX_SERVER_PAGE)
    extensions.add_home_cards(_cards)
    extensions.add_setup_steps(20, setup_steps)
    # The library search in every signed-in page's header.
    extensions.add_layout_part(LayoutPart("plex/_layout.html", order=10))
    extensions.add_not_connected_page(PLEX_SERVER, NOT_CONNECTED)
    attach(app, router)
