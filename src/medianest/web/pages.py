"""The HTML pages: each reads what it shows through the domain services and renders a template.

Forms on these pages talk to the JSON API from `static/js`; pages themselves only read.
"""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from medianest.admin.service import AdminService
from medianest.config import Settings
from medianest.core.deps import DbSession
from medianest.core.routing import attach
from medianest.web import features
from medianest.web.assets import STATIC_PREFIX
from medianest.web.extensions import HomeContext
from medianest.web.humanize import AUDIT_ACTIONS
from medianest.web.setup import setup_steps
from medianest.web.shell import PageRoute, Web, WebShell
from medianest.web.viewer import (
    AdminViewer,
    OptionalViewer,
    PageRedirect,
    SignedInViewer,
    page_redirect,
)

AUDIT_PAGE_SIZE = 25

router = APIRouter(
    route_class=PageRoute, include_in_schema=False, default_response_class=HTMLResponse
)


async def _admin_service(request: Request) -> AdminService:
    service: AdminService = request.state.services.admin
    return service


AdminServiceDep = Annotated[AdminService, Depends(_admin_service)]


@router.get("/")
async def home(request: Request, viewer: SignedInViewer, web: Web, session: DbSession) -> Response:
    extensions = web.extensions
    checklist, notes = None, []
    if viewer.user.is_admin:
        address = web.settings.public_url or str(request.base_url).rstrip("/")
        checklist = await extensions.setup_checklist(
            HomeContext(request, session, viewer.user, address)
        )
        notes = [s.holds_up for s in checklist.steps if s.holds_up and s.state != "done"]
    return web.render(
        request,
        "home.html",
        viewer,
        title="Home",
        cards=extensions.home_cards(viewer.user, notes),
        checklist=None if checklist is None or checklist.complete else checklist,
    )


@router.get("/help")
async def help_page(request: Request, viewer: OptionalViewer, web: Web) -> Response:
    return web.render(request, "help.html", viewer, title="Help", links=web.settings.help_links)


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
        "audit_log.html",
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


def install_web(app: FastAPI, settings: Settings) -> WebShell:
    """Add the shell to `app`: its static files, its own pages and its extension points, which
    the domains' page installers then register with. Its `render_error` is the error page
    renderer for `install_error_handlers`."""
    shell = WebShell(settings)
    features.register(shell.extensions)
    shell.extensions.add_setup_steps(20, setup_steps)
    app.state.web = shell
    app.mount(STATIC_PREFIX, shell.static, name="static")
    attach(app, router)
    app.add_exception_handler(PageRedirect, page_redirect)
    return shell
