"""The status page for everyone signed in, the administrators' Status page (Uptime Kuma), the
Home card, and the banner over every page while Plex or Overseerr is down.

Everything here reads the process's board (`StatusService`): a page view never polls. The page
script keeps rows fresh from `medianest:service.status` events and, as a fallback, from the API
every check interval.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup
from starlette.responses import Response

from medianest.auth.sessions import Principal
from medianest.core.db import utc_now
from medianest.core.deps import DbSession
from medianest.core.routing import attach
from medianest.status.connection import CONNECT_PATH
from medianest.status.deps import KumaConnectionDep, StatusServiceDep
from medianest.status.models import ServiceKind, Status
from medianest.status.readings import MEDIANEST_GROUP
from medianest.status.service import Board, ServiceView, StatusService
from medianest.status.views import RowView, history_bar, lasting, row_view, summary
from medianest.web.extensions import AdminPage, Banner, Banners, BannerSeverity, HomeCard, NavEntry
from medianest.web.shell import PageRoute, Web, WebShell
from medianest.web.viewer import AdminViewer, SignedInViewer

STATUS_PATH = "/status"

router = APIRouter(
    route_class=PageRoute, include_in_schema=False, default_response_class=HTMLResponse
)


@router.get(STATUS_PATH)
async def status_page(
    request: Request,
    viewer: SignedInViewer,
    web: Web,
    session: DbSession,
    status: StatusServiceDep,
) -> Response:
    bars = await status.drawn_bars(session, history_bar)
    board = status.board
    now = utc_now()
    admin = viewer.user.is_admin
    refresh_seconds = web.settings.status_interval_seconds or 60

    def draw() -> Markup:
        groups = [
            {
                "key": group.key,
                "title": group.title,
                "own": group.key == MEDIANEST_GROUP,
                "rows": [_row(s, bars, now, admin) for s in group.services],
            }
            for group in board.groups
        ]
        template = web.templates.get_template("status/_board.html")
        # The template escapes what it writes; the page puts it in as it is.
        return Markup(template.render(groups=groups, refresh_seconds=refresh_seconds))  # noqa: S704

    # Rows say how long each state has lasted, to the minute: drawn again once a minute.
    drawn = status.kept(("board", admin), now.replace(second=0, microsecond=0), draw)
    return web.render(
        request,
        "status/status.html",
        viewer,
        title="Status",
        board=drawn,
        summary=summary(board.services),
        kuma_connected=any(g.key != MEDIANEST_GROUP for g in board.groups),
    )


def _row(service: ServiceView, bars: dict[str, Markup], now: datetime, admin: bool) -> RowView:
    # A service the board gained since its bars were drawn has none yet.
    bar = bars.get(service.id) or history_bar(service, ())
    return row_view(service, bar, now, admin=admin)


@router.get(CONNECT_PATH)
async def kuma_page(
    request: Request, viewer: AdminViewer, web: Web, kuma: KumaConnectionDep
) -> Response:
    return web.render(
        request,
        "status/admin_status.html",
        viewer,
        title="Status",
        kuma=await kuma.status(),
        interval=_every(web.settings.status_interval_seconds),
    )


def _every(seconds: int) -> str:
    if seconds <= 0:
        return "never: its checks are turned off (MEDIANEST_STATUS_INTERVAL_SECONDS is 0)"
    if seconds % 60 == 0:
        minutes = seconds // 60
        return "every minute" if minutes == 1 else f"every {minutes} minutes"
    return f"every {seconds} seconds"


STATUS = NavEntry("status", "Status", STATUS_PATH, "status", order=60)
ADMIN_PAGE = AdminPage("Status", CONNECT_PATH, order=50)
STATUS_CARD = HomeCard(
    "status",
    "See what is up",
    "Whether Plex, requests and downloads work right now, and how they did lately.",
    STATUS_PATH,
    "status",
    order=60,
)

# What people cannot do while each service they rely on is down.
_RELIED_ON: dict[ServiceKind, tuple[BannerSeverity, str]] = {
    ServiceKind.PLEX: ("critical", "Plex is down: the library and watching may not work."),
    ServiceKind.OVERSEERR: ("warning", "Overseerr is down: new requests wait until it is back."),
}


def banners_of(service: StatusService) -> Banners:
    def banners(_: Principal) -> Sequence[Banner]:
        return _banners(service.board)

    return banners


def _banners(board: Board) -> list[Banner]:
    shown = []
    for found in board.services:
        relied = _RELIED_ON.get(found.kind)
        if relied is None or found.status is not Status.DOWN:
            continue
        severity, text = relied
        shown.append(
            Banner(
                # A new outage is a new banner, even after the last one was closed.
                key=f"status:{found.id}:{found.since.isoformat(timespec='seconds')}",
                severity=severity,
                text=f"{text} Down {lasting(found.since, utc_now())}.",
                href=STATUS_PATH,
                link="See the status page",
            )
        )
    return shown


def _cards(_: Principal) -> Sequence[HomeCard]:
    return (STATUS_CARD,)


def install_status_pages(app: FastAPI, web: WebShell, service: StatusService) -> None:
    web.add_domain("status", Path(__file__).parent)
    extensions = web.extensions
    extensions.add_nav(STATUS)
    extensions.add_admin_pages(ADMIN_PAGE)
    extensions.add_home_cards(_cards)
    extensions.add_banners(10, banners_of(service))
    attach(app, router)
