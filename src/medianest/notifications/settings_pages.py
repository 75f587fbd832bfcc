"""The notification settings page, the administrators' alert channels page, and the service
worker (`/sw.js`) that shows pushed notifications.

The settings page renders each person's choices on the server; `static/js/settings.js` saves a
change as it is made and turns notifications on and off in this browser (permission, service
worker, `pushManager.subscribe` with MediaNest's key, then the subscription to the API). The
service worker must be served from the root, so its scope covers every page it opens.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from medianest.core.deps import DbSession
from medianest.core.routing import attach
from medianest.notifications.deps import AlertChannelsDep, PreferenceServiceDep
from medianest.notifications.models import ALERT_TYPES
from medianest.web.extensions import AdminPage
from medianest.web.shell import PageRoute, Web, WebShell
from medianest.web.viewer import AdminViewer, SignedInViewer

SETTINGS_PATH = "/notifications/settings"
CHANNELS_PATH = "/admin/notifications"
WORKER_PATH = "/sw.js"
WORKER_FILE = Path(__file__).parent / "static" / "sw.js"

# (what the type is about, when it comes), as the settings page words each type.
TYPE_LABELS = {
    "request.status": (
        "Request updates",
        "A request of yours is approved, declined or on its way.",
    ),
    "request.available": ("Ready to watch", "Something you asked for is in Plex."),
    "download.completed": ("Downloads finished", "A YouTube download of yours is done."),
    "download.failed": ("Downloads failed", "A YouTube download of yours could not finish."),
    "service.down": (
        "A service is down",
        "Plex, Overseerr or a monitored service stops answering.",
    ),
    "service.up": ("A service is back", "A service that was down answers again."),
    "broadcast": ("Announcements", "Messages to everyone from whoever runs this server."),
}

router = APIRouter(
    route_class=PageRoute, include_in_schema=False, default_response_class=HTMLResponse
)


@router.get(SETTINGS_PATH)
async def notification_settings(
    request: Request,
    viewer: SignedInViewer,
    web: Web,
    session: DbSession,
    preferences: PreferenceServiceDep,
) -> Response:
    return web.render(
        request,
        "notifications/settings.html",
        viewer,
        title="Notification settings",
        choices=await preferences.choices(session, viewer.user),
        labels=TYPE_LABELS,
    )


@router.get(CHANNELS_PATH)
async def alert_channels(
    request: Request, viewer: AdminViewer, web: Web, session: DbSession, channels: AlertChannelsDep
) -> Response:
    return web.render(
        request,
        "notifications/admin_channels.html",
        viewer,
        title="Alert channels",
        channels=await channels.list_channels(session),
        alert_types=ALERT_TYPES,
        labels=TYPE_LABELS,
    )


def _worker_route(script: bytes) -> APIRouter:
    worker = APIRouter(include_in_schema=False)

    @worker.get(WORKER_PATH)
    async def service_worker() -> Response:
        # Revalidated on every use: a browser checks for a new worker whenever a page loads it.
        return Response(
            script,
            media_type="text/javascript",
            headers={"Service-Worker-Allowed": "/", "Cache-Control": "no-cache"},
        )

    return worker


def install_settings_pages(app: FastAPI, web: WebShell) -> None:
    web.extensions.add_admin_pages(AdminPage("Alert channels", CHANNELS_PATH, order=60))
    attach(app, router)
    attach(app, _worker_route(WORKER_FILE.read_bytes()))
