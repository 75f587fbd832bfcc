"""The administrators' Announcements page, and the banners every signed-in page shows.

The page lists what was sent (rendered here, a page at a time) under the form that sends a new
one; sending and withdrawing go through the JSON API from `static/js/announcements.js`, which
then shows the page again, banner included.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from medianest.broadcasts.board import BroadcastBoard
from medianest.broadcasts.deps import DOMAIN, BroadcastServiceDep
from medianest.broadcasts.models import MESSAGE_LENGTH, TITLE_LENGTH
from medianest.core.deps import DbSession
from medianest.core.routing import attach
from medianest.web.extensions import AdminPage
from medianest.web.shell import PageRoute, Web, WebShell
from medianest.web.viewer import AdminViewer, PageRedirect

ANNOUNCEMENTS_PATH = "/admin/announcements"
PAGE_SIZE = 20
SEVERITIES = {
    "info": "Information",
    "warning": "Warning",
    "critical": "Urgent",
}
STATUSES = {"active": "Showing", "expired": "Ended", "withdrawn": "Withdrawn"}
# Between the other domains' banners (status outages come first by severity, whatever the order).
BANNER_ORDER = 50

router = APIRouter(
    route_class=PageRoute, include_in_schema=False, default_response_class=HTMLResponse
)


def _href(page: int) -> str:
    return f"{ANNOUNCEMENTS_PATH}?page={page}" if page > 1 else ANNOUNCEMENTS_PATH


@router.get(ANNOUNCEMENTS_PATH)
async def announcements(
    request: Request,
    viewer: AdminViewer,
    web: Web,
    session: DbSession,
    broadcasts: BroadcastServiceDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    entries, total = await broadcasts.list_broadcasts(session, page=page, page_size=PAGE_SIZE)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    if page > pages:
        raise PageRedirect(_href(pages), viewer=viewer)
    return web.render(
        request,
        "broadcasts/announcements.html",
        viewer,
        title="Announcements" + (f" (page {page})" if page > 1 else ""),
        entries=entries,
        total=total,
        page=page,
        pages=pages,
        newer_href=_href(page - 1) if page > 1 else None,
        older_href=_href(page + 1) if page < pages else None,
        severities=SEVERITIES,
        statuses=STATUSES,
        title_length=TITLE_LENGTH,
        message_length=MESSAGE_LENGTH,
    )


ANNOUNCEMENTS_PAGE = AdminPage("Announcements", ANNOUNCEMENTS_PATH, order=45)


def broadcast_pages(board: BroadcastBoard) -> Callable[[FastAPI, WebShell], None]:
    def install(app: FastAPI, web: WebShell) -> None:
        """The Announcements page, and the live announcements as banners over every page."""
        web.add_domain(DOMAIN, Path(__file__).parent)
        web.extensions.add_admin_pages(ANNOUNCEMENTS_PAGE)
        web.extensions.add_banners(BANNER_ORDER, board.banners)
        attach(app, router)

    return install
