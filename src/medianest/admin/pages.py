"""The administrators' pages: users (with the columns other domains add, `admin.facts`), the
audit log and the activity statistics (`analytics`), the Admin entry and the administrators'
sub-navigation (listing the pages every domain registered as `AdminPage`).

The users page lists and manages accounts through the JSON API from `static/js/users.js`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from medianest.admin.service import AdminService
from medianest.auth.account import RESET_TTL
from medianest.auth.sessions import Principal
from medianest.core.deps import DbSession
from medianest.core.routing import attach
from medianest.web.extensions import (
    AdminPage,
    HomeCard,
    HomeContext,
    LayoutPart,
    NavEntry,
    SetupStep,
)
from medianest.web.humanize import duration
from medianest.web.shell import PageRoute, Web, WebShell
from medianest.web.viewer import AdminViewer, PageRedirect

# Connecting Plex is what a new installation needs first: /admin opens on the Plex-server page.
ADMIN_HOME = "/admin/plex"
AUDIT_PAGE_SIZE = 25
USER_ROLES = ("admin", "user")
USER_STATUSES = ("active", "suspended")
USER_SORTS = ("username", "-username", "-lastSeenAt", "lastSeenAt", "-createdAt", "createdAt")

# Read after the actor's name: "alice signed in".
AUDIT_ACTIONS = {
    "auth.login": "signed in",
    "auth.login_failed": "failed to sign in",
    "auth.logout": "signed out",
    "auth.session_revoked": "signed out one of their devices",
    "auth.password_changed": "changed their password",
    "auth.password_reset": "reset their password",
    "auth.password_reset_requested": "asked for a password reset",
    "auth.2fa_enabled": "turned on two-factor sign-in",
    "auth.2fa_disabled": "turned off two-factor sign-in",
    "admin.user_updated": "changed a user",
    "admin.user_deleted": "deleted a user",
    "admin.password_reset_link": "made a password reset link",
    "admin.plex_connected": "connected the Plex server",
    "admin.plex_account_linked": "linked their Plex account",
    "admin.broadcast_sent": "sent an announcement",
    "admin.broadcast_withdrawn": "withdrew an announcement",
}
# How people signed in, as the audit log names it.
SIGN_IN_METHODS = {"password": "Password", "plex": "Plex", "unknown": "Not recorded"}

router = APIRouter(
    route_class=PageRoute, include_in_schema=False, default_response_class=HTMLResponse
)


async def _admin_service(request: Request) -> AdminService:
    service: AdminService = request.state.services.admin
    return service


AdminServiceDep = Annotated[AdminService, Depends(_admin_service)]


@router.get("/admin")
async def admin_home(viewer: AdminViewer) -> Response:
    # Connecting Plex is what a new installation needs first; the sub-navigation leads on.
    raise PageRedirect(ADMIN_HOME, viewer=viewer)


@router.get("/admin/users")
async def users(
    request: Request, viewer: AdminViewer, web: Web, admin: AdminServiceDep
) -> Response:
    # The list itself is fetched by the page script; the address only presets its controls, and
    # a value the list does not know falls back to the default.
    query = request.query_params

    def choice(name: str, allowed: tuple[str, ...]) -> str:
        value = query.get(name, "")
        return value if value in allowed else ""

    return web.render(
        request,
        "admin/users.html",
        viewer,
        title="Users",
        search=query.get("search", "")[:100],
        role=choice("role", USER_ROLES),
        status=choice("status", USER_STATUSES),
        sort=choice("sort", USER_SORTS) or USER_SORTS[0],
        reset_valid=duration(RESET_TTL),
        # The columns other domains add; the script fills them from each user's `facts`.
        fact_columns=admin.user_facts,
    )


@router.get("/admin/audit-log")
async def audit_log(
    request: Request,
    viewer: AdminViewer,
    web: Web,
    session: DbSession,
    admin: AdminServiceDep,
    page: Annotated[int, Query(ge=1)] = 1,
    action: Annotated[str | None, Query(max_length=100)] = None,
    actor: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    entries, total = await admin.audit_log(
        session, page=page, page_size=AUDIT_PAGE_SIZE, actor=actor or None, action=action or None
    )
    return web.render(
        request,
        "admin/audit_log.html",
        viewer,
        title="Audit log",
        entries=entries,
        total=total,
        page=page,
        pages=max(1, math.ceil(total / AUDIT_PAGE_SIZE)),
        action=action or "",
        actor=actor or "",
        actions=AUDIT_ACTIONS,
    )


@router.get("/admin/activity")
async def activity(
    request: Request, viewer: AdminViewer, web: Web, session: DbSession, admin: AdminServiceDep
) -> Response:
    return web.render(
        request,
        "admin/activity.html",
        viewer,
        title="Activity",
        stats=await admin.stats(session),
        methods=SIGN_IN_METHODS,
    )


ADMIN = NavEntry("admin", "Admin", "/admin", "admin", order=100, admin_only=True)
AUDIT_LOG_PAGE = AdminPage("Audit log", "/admin/audit-log", order=10)
ACTIVITY_PAGE = AdminPage("Activity", "/admin/activity", order=15)
USERS_PAGE = AdminPage("Users", "/admin/users", order=90)
ADMIN_CARD = HomeCard(
    "admin",
    "Administration",
    "Connect the Plex server, and see who signed in and what changed.",
    "/admin",
    "admin",
    order=100,
    admin_only=True,
)


def _cards(_: Principal) -> Sequence[HomeCard]:
    return (ADMIN_CARD,)


async def _setup_steps(home: HomeContext) -> Sequence[SetupStep]:
    admin: AdminService = home.request.state.services.admin
    _, people = await admin.users.list_users(home.session, page=1, page_size=1)
    return (
        SetupStep(
            "Invite people",
            "In Plex, share your libraries with their Plex accounts (Settings, then Users &"
            " Sharing). Then send them this address; they choose Sign in with Plex, and the"
            " Help page walks them through the rest.",
            "done" if people > 1 else "todo",
            "/help#getting-started",
            "Read what they will see",
            home.address,
        ),
    )


def install_admin_pages(app: FastAPI, web: WebShell) -> None:
    """The users, audit-log and activity pages, and what administration adds to the shell."""
    web.add_domain("admin", Path(__file__).parent)
    web.extensions.add_nav(ADMIN)
    web.extensions.add_admin_pages(AUDIT_LOG_PAGE, ACTIVITY_PAGE, USERS_PAGE)
    web.extensions.add_home_cards(_cards)
    web.extensions.add_setup_steps(30, _setup_steps)
    # The administrators' sub-navigation on every /admin/ page.
    web.extensions.add_layout_part(LayoutPart("admin/_layout.html", order=20, admin_only=True))
    attach(app, router)
