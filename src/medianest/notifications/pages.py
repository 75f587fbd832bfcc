"""The inbox page, and the bell in the header of every signed-in page.

The inbox is rendered on the server, newest first, a page at a time; its script marks a
notification read when it is opened and follows its link, marks all read and deletes, through
the JSON API. The bell (`templates/_layout.html`, a layout part) shows the unread count, which
`static/js/bell.js` asks for when a page opens, when it is shown again and every minute.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from medianest.core.deps import DbSession
from medianest.core.routing import attach
from medianest.notifications.deps import NotificationServiceDep
from medianest.notifications.service import is_site_path
from medianest.notifications.settings_pages import SETTINGS_PATH, install_settings_pages
from medianest.web.extensions import LayoutPart
from medianest.web.shell import PageRoute, Web, WebShell
from medianest.web.viewer import PageRedirect, SignedInViewer

INBOX_PATH = "/notifications"
PAGE_SIZE = 20

# Said after the time in each notification: what it is about.
TOPICS = {
    "request.status": "Request",
    "request.available": "Request",
    "download.completed": "Download",
    "download.failed": "Download",
    "service.down": "Service status",
    "service.up": "Service status",
    "broadcast": "Announcement",
}

router = APIRouter(
    route_class=PageRoute, include_in_schema=False, default_response_class=HTMLResponse
)

Show = Literal["all", "unread"]


def inbox_href(page: int, show: Show) -> str:
    params: dict[str, str] = {"show": show} if show != "all" else {}
    if page > 1:
        params["page"] = str(page)
    return f"{INBOX_PATH}?{urlencode(params)}" if params else INBOX_PATH


@router.get(INBOX_PATH)
async def inbox(
    request: Request,
    viewer: SignedInViewer,
    web: Web,
    session: DbSession,
    notifications: NotificationServiceDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    show: Annotated[str, Query(max_length=20)] = "all",
) -> Response:
    # Any other value (an old bookmark) shows everything rather than failing.
    shown: Show = "unread" if show == "unread" else "all"
    rows, total, unread_count = await notifications.list_notifications(
        session,
        viewer.user.id,
        unread=True if shown == "unread" else None,
        page=page,
        page_size=PAGE_SIZE,
    )
    pages = max(1, math.ceil(total / PAGE_SIZE))
    if page > pages:
        # Past the end (the last ones were deleted or read meanwhile): the last page there is.
        raise PageRedirect(inbox_href(pages, shown), viewer=viewer)
    return web.render(
        request,
        "notifications/inbox.html",
        viewer,
        title="Notifications" + (f" (page {page})" if page > 1 else ""),
        notifications=rows,
        total=total,
        unread_count=unread_count,
        show=shown,
        page=page,
        pages=pages,
        newer_href=inbox_href(page - 1, shown) if page > 1 else None,
        older_href=inbox_href(page + 1, shown) if page < pages else None,
        all_href=inbox_href(1, "all"),
        unread_href=inbox_href(1, "unread"),
        topics=TOPICS,
        safe_link=is_site_path,
        settings_href=SETTINGS_PATH,
    )


def install_notification_pages(app: FastAPI, web: WebShell) -> None:
    """The inbox page, the bell in the header of every signed-in page, and the settings pages
    (`settings_pages`)."""
    web.add_domain("notifications", Path(__file__).parent)
    web.extensions.add_layout_part(LayoutPart("notifications/_layout.html", order=30))
    attach(app, router)
    install_settings_pages(app, web)
