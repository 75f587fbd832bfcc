"""The requests pages: finding a movie or show and asking for it, a title's page with its seasons,
the person's own and followed requests, and the administrators' page that connects Overseerr.

Titles and their states come from `Catalogue`, so a page shows what the JSON API would show the
same person; asking, cancelling and following go through the JSON API from the page scripts.
The Requests page works without them: its search is a form, its rows and results are rendered
here. With no Overseerr connected the pages explain that (`OverseerrNotConnected`, rendered by
the shell); while it is down the Requests page says so and still lists the person's requests,
which MediaNest holds itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from pathlib import Path as FolderPath
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Path, Query, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from medianest.auth.sessions import Principal
from medianest.core.deps import DbSession
from medianest.core.errors import NotConnected, UpstreamTimeout, UpstreamUnavailable
from medianest.core.routing import attach
from medianest.integrations.overseerr.client import DiscoverRow
from medianest.integrations.overseerr.errors import OVERSEERR
from medianest.requests.cards import ROWS, details_href, kind_of, poster_url, state_of
from medianest.requests.connection import CONNECT_PATH
from medianest.requests.connection_router import webhook_url
from medianest.requests.deps import CatalogueDep, MyRequestsDep, OverseerrConnectionDep
from medianest.requests.home import setup_steps
from medianest.requests.mine import MyRequests
from medianest.requests.schemas import MAX_QUERY, MediaType, TitleRead
from medianest.requests.views import request_read
from medianest.web.extensions import AdminPage, HomeCard, NavEntry, NotConnectedPage
from medianest.web.shell import PageRoute, Web, WebShell
from medianest.web.viewer import AdminViewer, SignedInViewer, Viewer

T = TypeVar("T")

# What the Requests page lists of the person's requests while Overseerr is down.
RECENT_REQUESTS = 10
ADMIN_REQUESTS_PATH = "/admin/requests"
STATUSES: dict[str, str] = {
    "pending": "Waiting for approval",
    "approved": "Approved",
    "processing": "Processing",
    "partially_available": "Partially available",
    "available": "Available",
    "declined": "Declined",
    "failed": "Failed",
}
MEDIA_TYPES: dict[str, str] = {"movie": "Movies", "tv": "Shows"}
SCOPES: dict[str, str] = {"": "Both", "mine": "Asked by me", "following": "Followed"}

router = APIRouter(
    route_class=PageRoute, include_in_schema=False, default_response_class=HTMLResponse
)

PageNumber = Annotated[int, Query(ge=1, le=50)]
TmdbId = Annotated[int, Path(ge=1, le=2_147_483_647)]


class _Down:
    """Overseerr did not answer (down, or too slow): the page says so instead."""


async def _or_down(call: Awaitable[T]) -> T | _Down:
    try:
        return await call
    except NotConnected:
        raise
    except (UpstreamUnavailable, UpstreamTimeout):
        return _Down()


def _cards(titles: Sequence[TitleRead]) -> list[dict[str, Any]]:
    return [
        {
            "title": t,
            "state": state_of(t),
            "poster": poster_url(t.poster_path),
            "kind": kind_of(t),
            "href": details_href(t),
        }
        for t in titles
    ]


async def _recent(session: DbSession, mine: MyRequests, viewer: Viewer) -> list[Any]:
    found, _ = await mine.list_requests(session, viewer.user, page=1, page_size=RECENT_REQUESTS)
    return [request_read(listed) for listed in found]


@router.get("/requests")
async def requests_home(
    request: Request,
    viewer: SignedInViewer,
    web: Web,
    session: DbSession,
    catalogue: CatalogueDep,
    mine: MyRequestsDep,
    q: Annotated[str, Query(max_length=MAX_QUERY)] = "",
    page: PageNumber = 1,
) -> Response:
    query = " ".join(q.split())
    context: dict[str, Any] = {"query": query, "rows": [], "results": None, "statuses": STATUSES}
    if query:
        found = await _or_down(catalogue.search(session, viewer.user, query, page=page))
        down = isinstance(found, _Down)
        if not isinstance(found, _Down):
            titles, total, pages = found
            context |= {
                "results": _cards(titles),
                "total": total,
                "page": page,
                "pages": pages,
                "prev_href": _href(query, page - 1) if page > 1 else None,
                "next_href": _href(query, page + 1) if page < pages else None,
            }
    else:
        # Sequential on the one session: each row is one cached Overseerr answer and two queries.
        rows = []
        down = False
        for row, label in ROWS.items():
            got = await _or_down(catalogue.discover(session, viewer.user, row))
            if isinstance(got, _Down):
                down = True
                break
            titles, pages = got
            rows.append(
                {"key": row.value, "label": label, "cards": _cards(titles), "more": pages > 1}
            )
        context["rows"] = [] if down else rows
    title = f"Requests: {query}" if query else "Requests"
    if down:
        context["recent"] = await _recent(session, mine, viewer)
    # Its search finds what to ask for: the header's library search would be a second box.
    return web.render(
        request,
        "requests/requests.html",
        viewer,
        title=title,
        own_search=True,
        down=down,
        **context,
    )


def _href(query: str, page: int) -> str:
    params = {"q": query} | ({"page": str(page)} if page > 1 else {})
    return f"/requests?{urlencode(params)}"


@router.get("/requests/discover/{row}")
async def discover_row(
    request: Request,
    viewer: SignedInViewer,
    web: Web,
    session: DbSession,
    catalogue: CatalogueDep,
    row: DiscoverRow,
    page: PageNumber = 1,
) -> Response:
    titles, pages = await catalogue.discover(session, viewer.user, row, page=page)
    path = f"/requests/discover/{row.value}"
    return web.render(
        request,
        "requests/discover.html",
        viewer,
        title=ROWS[row] + (f" (page {page})" if page > 1 else ""),
        heading=ROWS[row],
        cards=_cards(titles),
        page=page,
        pages=pages,
        prev_href=(f"{path}?page={page - 1}" if page > 2 else path) if page > 1 else None,
        next_href=f"{path}?page={page + 1}" if page < pages else None,
    )


async def _title_page(
    request: Request,
    viewer: Viewer,
    web: WebShell,
    session: DbSession,
    catalogue: CatalogueDep,
    media_type: MediaType,
    tmdb_id: int,
) -> Response:
    details = await catalogue.details(session, viewer.user, media_type, tmdb_id)
    return web.render(
        request,
        "requests/title.html",
        viewer,
        title=details.title,
        item=details,
        state=state_of(details),
        poster=poster_url(details.poster_path),
        kind=kind_of(details),
        runtime=_runtime(details.runtime),
        # Seasons nobody has asked for yet, and those another person's request covers.
        free=[s.season_number for s in details.seasons if s.availability == "none"],
        followable=[s.season_number for s in details.seasons if s.availability == "requested"],
    )


def _runtime(minutes: int | None) -> str | None:
    if not minutes:
        return None
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest} min" if hours else f"{rest} min"


@router.get("/requests/movie/{tmdb_id}")
async def movie_page(
    request: Request,
    viewer: SignedInViewer,
    web: Web,
    session: DbSession,
    catalogue: CatalogueDep,
    tmdb_id: TmdbId,
) -> Response:
    return await _title_page(request, viewer, web, session, catalogue, "movie", tmdb_id)


@router.get("/requests/tv/{tmdb_id}")
async def show_page(
    request: Request,
    viewer: SignedInViewer,
    web: Web,
    session: DbSession,
    catalogue: CatalogueDep,
    tmdb_id: TmdbId,
) -> Response:
    return await _title_page(request, viewer, web, session, catalogue, "tv", tmdb_id)


@router.get("/requests/mine")
async def my_requests(request: Request, viewer: SignedInViewer, web: Web) -> Response:
    # The list is fetched by the page script; the address only presets its controls, and a
    # value the list does not know falls back to the default.
    query = request.query_params

    def choice(name: str, allowed: dict[str, str]) -> str:
        value = query.get(name, "")
        return value if value in allowed else ""

    return web.render(
        request,
        "requests/mine.html",
        viewer,
        title="My requests",
        admin_list=False,
        statuses=STATUSES,
        media_types=MEDIA_TYPES,
        scopes=SCOPES,
        status=choice("status", STATUSES),
        media_type=choice("mediaType", MEDIA_TYPES),
        scope=choice("scope", SCOPES),
        search=query.get("search", "")[:MAX_QUERY],
    )


@router.get(ADMIN_REQUESTS_PATH)
async def all_requests(request: Request, viewer: AdminViewer, web: Web) -> Response:
    """Everyone's requests for administrators, pending ones first to decide."""
    query = request.query_params
    status = query.get("status", "pending")
    return web.render(
        request,
        "requests/mine.html",
        viewer,
        title="All requests",
        admin_list=True,
        statuses=STATUSES,
        media_types=MEDIA_TYPES,
        scopes={},
        status=status if status in STATUSES or status == "" else "pending",
        media_type=query.get("mediaType", "") if query.get("mediaType") in MEDIA_TYPES else "",
        scope="",
        search=query.get("search", "")[:MAX_QUERY],
    )


@router.get(CONNECT_PATH)
async def overseerr_connection(
    request: Request,
    viewer: AdminViewer,
    web: Web,
    session: DbSession,
    connection: OverseerrConnectionDep,
) -> Response:
    status = await connection.status(session)
    return web.render(
        request,
        "requests/admin_service.html",
        viewer,
        title="Requests service",
        status=status,
        webhook_url=webhook_url(request),
    )


REQUESTS = NavEntry("requests", "Requests", "/requests", "requests", order=20)
ADMIN_PAGES = (
    AdminPage("Requests", ADMIN_REQUESTS_PATH, order=30),
    AdminPage("Requests service", CONNECT_PATH, order=40),
)
REQUESTS_CARD = HomeCard(
    "requests",
    "Request a movie or show",
    "Ask for something that is not in the library yet, and follow it until it is.",
    "/requests",
    "requests",
    order=20,
)
NOT_CONNECTED = NotConnectedPage(
    title="Requests",
    subject="Overseerr",
    for_admins="Connect Overseerr (or Seerr) and everyone can ask for movies and shows here,"
    " and follow them until they are in Plex.",
    action="Connect Overseerr",
    for_others="Requests show up here once the person who runs this server connects Overseerr."
    " Nothing to do on your side.",
    icon="requests",
)


def _home_cards(_: Principal) -> Sequence[HomeCard]:
    return (REQUESTS_CARD,)


def install_requests_pages(app: FastAPI, web: WebShell) -> None:
    """The requests pages, the Requests-service page, and what requests add to the shell."""
    web.add_domain("requests", FolderPath(__file__).parent)
    extensions = web.extensions
    extensions.add_nav(REQUESTS)
    extensions.add_admin_pages(*ADMIN_PAGES)
    extensions.add_home_cards(_home_cards)
    # After Plex's steps: requests are asked for as the people Plex signs in.
    extensions.add_setup_steps(25, setup_steps)
    extensions.add_not_connected_page(OVERSEERR, NOT_CONNECTED)
    attach(app, router)
