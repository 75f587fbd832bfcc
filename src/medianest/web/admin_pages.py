"""The administrators' pages beyond the audit log: connecting the Plex server.

The page shows what is stored; connecting, testing, linking a Plex account and the library index
panel talk to the JSON API from `static/js/admin_plex.js`.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from medianest.connections.deps import ConnectionServiceDep
from medianest.core.deps import DbSession
from medianest.core.routing import attach
from medianest.web.shell import PageRoute, Web
from medianest.web.viewer import AdminViewer, PageRedirect

ADMIN_HOME = "/admin/plex"

router = APIRouter(
    route_class=PageRoute, include_in_schema=False, default_response_class=HTMLResponse
)


@router.get("/admin")
async def admin_home(viewer: AdminViewer) -> Response:
    # Connecting Plex is what a new installation needs first; the sub-navigation leads on.
    raise PageRedirect(ADMIN_HOME, viewer=viewer)


@router.get(ADMIN_HOME)
async def plex_connection(
    request: Request,
    viewer: AdminViewer,
    web: Web,
    session: DbSession,
    connections: ConnectionServiceDep,
) -> Response:
    status = await connections.plex_status(session, viewer.user)
    return web.render(request, "admin_plex.html", viewer, title="Plex server", status=status)


def install_admin_pages(app: FastAPI) -> None:
    attach(app, router)
