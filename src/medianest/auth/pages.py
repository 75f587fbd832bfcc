"""The pages of signing in and of one's own account: sign-in, the Plex window's last page, a
forgotten or first password, and the account page.

Their forms talk to the JSON API from `static/js`; the pages themselves only read.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from medianest.auth.deps import AuthServiceDep
from medianest.auth.plex_return import DONE_PATH
from medianest.auth.sessions import Principal
from medianest.core.deps import DbSession
from medianest.core.routing import attach
from medianest.web.extensions import HomeCard, HomeContext, NavEntry, SetupStep
from medianest.web.shell import PageRoute, Web, WebShell, opens_plex_window
from medianest.web.viewer import (
    CHANGE_PASSWORD_PATH,
    OptionalViewer,
    PageRedirect,
    PendingViewer,
    SignedInViewer,
    safe_next,
)

router = APIRouter(
    route_class=PageRoute, include_in_schema=False, default_response_class=HTMLResponse
)

NextPath = Annotated[str | None, Query(alias="next", max_length=2000)]


@router.get("/login")
async def login(
    request: Request, viewer: OptionalViewer, web: Web, next_path: NextPath = None
) -> Response:
    target = safe_next(next_path)
    if viewer is not None:
        pending = viewer.user.requires_password_change
        raise PageRedirect(CHANGE_PASSWORD_PATH if pending else target, viewer=viewer)
    return opens_plex_window(
        web.render(request, "auth/login.html", None, title="Sign in", next=target)
    )


@router.get(DONE_PATH)
async def plex_done(request: Request, web: Web) -> Response:
    """Where plex.tv sends its sign-in window after approval (`plex_return`): no session needed,
    and nothing from the request is shown."""
    return web.render(request, "auth/plex_done.html", None, title="Plex approved MediaNest")


@router.get("/forgot-password")
async def forgot_password(request: Request, web: Web) -> Response:
    return web.render(request, "auth/forgot_password.html", None, title="Forgot your password?")


@router.get("/reset-password")
async def reset_password(request: Request, web: Web) -> Response:
    return web.render(request, "auth/reset_password.html", None, title="Choose a new password")


@router.get(CHANGE_PASSWORD_PATH)
async def change_password(request: Request, viewer: PendingViewer, web: Web) -> Response:
    if not viewer.user.requires_password_change:
        raise PageRedirect("/account#password", viewer=viewer)
    return web.render(
        request, "auth/change_password.html", viewer, title="Choose your password", plain=True
    )


@router.get("/account")
async def account(
    request: Request,
    viewer: SignedInViewer,
    web: Web,
    session: DbSession,
    auth: AuthServiceDep,
) -> Response:
    devices = await auth.sessions.list_for_user(session, viewer.user.id)
    return web.render(request, "auth/account.html", viewer, title="Your account", devices=devices)


ACCOUNT = NavEntry("account", "Account", "/account", "account", order=90)
ACCOUNT_CARD = HomeCard(
    "account",
    "Your account",
    "Change your password, turn on two-factor sign-in and see your devices.",
    "/account",
    "account",
    order=90,
)
# Signed in with Plex: there is no password here to change, nor a second factor.
ACCOUNT_FOR_PLEX = HomeCard(
    "account",
    "Your account",
    "See the devices you are signed in on, and sign out the ones you no longer use.",
    "/account",
    "account",
    order=90,
)


def _cards(user: Principal) -> Sequence[HomeCard]:
    return (ACCOUNT_CARD if user.has_password else ACCOUNT_FOR_PLEX,)


async def _setup_steps(home: HomeContext) -> Sequence[SetupStep]:
    return (
        SetupStep(
            "Choose your own password",
            "The first sign-in's password is replaced by one only you know.",
            "todo" if home.user.requires_password_change else "done",
            CHANGE_PASSWORD_PATH,
            "Change the password",
        ),
    )


def install_auth_pages(app: FastAPI, web: WebShell) -> None:
    """The sign-in and account pages, and what they add to the shell."""
    web.add_domain("auth", Path(__file__).parent)
    web.extensions.add_nav(ACCOUNT)
    web.extensions.add_home_cards(_cards)
    web.extensions.add_setup_steps(10, _setup_steps)
    attach(app, router)
