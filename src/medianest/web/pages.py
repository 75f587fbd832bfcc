"""The shell's own pages: Home, built from what the domains registered, and Help."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from medianest.auth.sessions import Principal
from medianest.config import Settings
from medianest.core.deps import DbSession
from medianest.core.routing import attach
from medianest.web.assets import STATIC_PREFIX
from medianest.web.extensions import HomeCard, HomeContext, NavEntry
from medianest.web.shell import PageRoute, Web, WebShell
from medianest.web.viewer import OptionalViewer, PageRedirect, SignedInViewer, page_redirect

HOME = NavEntry("home", "Home", "/", "home", order=0)
HELP = NavEntry("help", "Help", "/help", "help", order=80)
HELP_CARD = HomeCard(
    "help",
    "Get help",
    "A getting-started guide, answers to common questions and useful links.",
    "/help",
    "help",
    order=80,
)

router = APIRouter(
    route_class=PageRoute, include_in_schema=False, default_response_class=HTMLResponse
)


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


def _cards(_: Principal) -> Sequence[HomeCard]:
    return (HELP_CARD,)


def install_web(app: FastAPI, settings: Settings) -> WebShell:
    """Add the shell to `app`: its static files, Home and Help, and the extension points the
    domains' page installers then register with. Its `render_error` is the error page renderer
    for `install_error_handlers`."""
    shell = WebShell(settings)
    shell.extensions.add_nav(HOME, HELP)
    shell.extensions.add_home_cards(_cards)
    app.state.web = shell
    app.mount(STATIC_PREFIX, shell.static, name="static")
    attach(app, router)
    app.add_exception_handler(PageRedirect, page_redirect)
    return shell
