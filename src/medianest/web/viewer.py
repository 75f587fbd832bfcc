"""Who is looking at a page, and where to send them when a page is not for them yet.

Pages authenticate with the same cookie and checks as the API (`optional_principal`). One thing
differs: a browser coming back after the 15-minute access token expired still holds its
remember token, so the page refreshes the session on the spot and sets the new cookies on its
own response, instead of bouncing the visitor through the sign-in page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

import structlog
from fastapi import Depends, Request
from starlette.responses import RedirectResponse, Response

from medianest.auth.cookies import (
    ACCESS_COOKIE,
    REMEMBER_COOKIE,
    clear_session_cookies,
    set_session_cookies,
)
from medianest.auth.deps import get_auth_service, get_client, optional_principal
from medianest.auth.sessions import IssuedSession, Principal
from medianest.core.deps import get_platform
from medianest.core.errors import Forbidden, Unauthorized

log = structlog.get_logger(__name__)

LOGIN_PATH = "/login"
CHANGE_PASSWORD_PATH = "/change-password"  # noqa: S105 (a page address, not a secret)


@dataclass(frozen=True, slots=True)
class Refreshed:
    """Session cookies renewed while serving this page, to be set on its response."""

    access_token: str
    issued: IssuedSession | None

    def set_cookies(self, response: Response, request: Request) -> None:
        # Mirrors POST /auth/refresh: inside the rotation grace window only the access token is new.
        set_session_cookies(
            response,
            request,
            access_token=self.access_token,
            remember_token=self.issued.remember_token if self.issued else None,
            remember=self.issued.remember if self.issued else True,
        )


@dataclass(frozen=True, slots=True)
class Viewer:
    user: Principal
    refreshed: Refreshed | None = None

    def apply_cookies(self, response: Response, request: Request) -> None:
        if self.refreshed is not None:
            self.refreshed.set_cookies(response, request)


class PageRedirect(Exception):
    """Raised by page dependencies: answer with a redirect instead of the page."""

    def __init__(
        self, location: str, *, viewer: Viewer | None = None, clear_session: bool = False
    ) -> None:
        super().__init__(location)
        self.location = location
        self.viewer = viewer
        self.clear_session = clear_session


async def page_redirect(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageRedirect)
    response = RedirectResponse(exc.location, status_code=303)
    response.headers["Cache-Control"] = "no-store"
    if exc.clear_session:
        clear_session_cookies(response)
    if exc.viewer is not None:
        exc.viewer.apply_cookies(response, request)
    return response


def safe_next(target: str | None) -> str:
    """A same-site path to continue to after signing in; anything else becomes `/`."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith(("//", "/\\"))
        or any(ord(c) < 32 for c in target)
        or target.split("?", 1)[0] in (LOGIN_PATH, CHANGE_PASSWORD_PATH)
    ):
        return "/"
    return target


def login_url(request: Request) -> str:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"{LOGIN_PATH}?next={quote(here, safe='/')}"


async def _refresh(request: Request, remember_token: str) -> Viewer | None:
    auth = get_auth_service(request)
    try:
        async with get_platform(request).db.unit_of_work() as session:
            issued, access = await auth.refresh(session, remember_token, client=get_client(request))
        user = await auth.sessions.authenticate(access)
    except Unauthorized:
        return None
    log.info("web.session_refreshed", user_id=str(user.id))
    return Viewer(user, Refreshed(access, issued))


async def optional_viewer(request: Request) -> Viewer | None:
    try:
        principal = await optional_principal(request)
    except Unauthorized:
        principal = None
    if principal is not None:
        return Viewer(principal)
    remember_token = request.cookies.get(REMEMBER_COOKIE)
    if remember_token:
        return await _refresh(request, remember_token)
    return None


async def pending_viewer(
    request: Request, viewer: Annotated[Viewer | None, Depends(optional_viewer)]
) -> Viewer:
    if viewer is None:
        stale = ACCESS_COOKIE in request.cookies or REMEMBER_COOKIE in request.cookies
        raise PageRedirect(login_url(request), clear_session=stale)
    return viewer


async def signed_in_viewer(
    request: Request, viewer: Annotated[Viewer, Depends(pending_viewer)]
) -> Viewer:
    if viewer.user.requires_password_change:
        raise PageRedirect(CHANGE_PASSWORD_PATH, viewer=viewer)
    # Kept for the page route, which renders a page of its own for this viewer on some errors.
    request.state.signed_in_viewer = viewer
    return viewer


def viewer_of(request: Request) -> Viewer | None:
    """The signed-in viewer this request's page was being rendered for, if it got that far."""
    viewer: Viewer | None = getattr(request.state, "signed_in_viewer", None)
    return viewer


async def admin_viewer(viewer: Annotated[Viewer, Depends(signed_in_viewer)]) -> Viewer:
    if not viewer.user.is_admin:
        raise Forbidden("This page is for administrators.")
    return viewer


OptionalViewer = Annotated[Viewer | None, Depends(optional_viewer)]
PendingViewer = Annotated[Viewer, Depends(pending_viewer)]
SignedInViewer = Annotated[Viewer, Depends(signed_in_viewer)]
AdminViewer = Annotated[Viewer, Depends(admin_viewer)]
