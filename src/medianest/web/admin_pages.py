"""The administrators' pages beyond the audit log: connecting the Plex server, and users.

The Plex page shows what is stored; connecting, testing, linking a Plex account and the library
index panel talk to the JSON API from `static/js/admin_plex.js`. The users page lists and manages
accounts through the JSON API from `static/js/admin_users.js`.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from medianest.auth.account import RESET_TTL
from medianest.core.routing import attach
from medianest.web.humanize import duration
from medianest.web.shell import PageRoute, Web, WebShell
from medianest.web.viewer import AdminViewer, PageRedirect

ADMIN_HOME = "/admin/plex"
USER_ROLES = ("admin", "user")
USER_STATUSES = ("active", "suspended")
USER_SORTS = ("username", "-username", "-lastSeenAt", "lastSeenAt", "-createdAt", "createdAt")

router = APIRouter(
    route_class=PageRoute, include_in_schema=False, default_response_class=HTMLResponse
)


@router.get("/admin")
async def admin_home(viewer: AdminViewer) -> Response:
    # Connecting Plex is what a new installation needs first; the sub-navigation leads on.
    raise PageRedirect(ADMIN_HOME, viewer=viewer)


@router.get("/admin/users")
async def users(request: Request, viewer: AdminViewer, web: Web) -> Response:
    # The list itself is fetched by the page script; the address only presets its controls, and
    # a value the list does not know falls back to the default.
    query = request.query_params

    def choice(name: str, allowed: tuple[str, ...]) -> str:
        value = query.get(name, "")
        return value if value in allowed else ""

    return web.render(
        request,
        "admin_users.html",
        viewer,
        title="Users",
        search=query.get("search", "")[:100],
        role=choice("role", USER_ROLES),
        status=choice("status", USER_STATUSES),
        sort=choice("sort", USER_SORTS) or USER_SORTS[0],
        reset_valid=duration(RESET_TTL),
    )


def install_admin_pages(app: FastAPI, web: WebShell) -> None:
    attach(app, router)
