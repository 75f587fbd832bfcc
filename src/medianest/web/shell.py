"""The renderer every page goes through, and the HTML error pages."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any

import jinja2
import structlog
from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from medianest.auth.deps import optional_principal
from medianest.config import Settings
from medianest.core.context import correlation_id
from medianest.core.errors import MediaNestError, NotConnected
from medianest.web import humanize
from medianest.web.assets import AssetManifest, StaticAssets
from medianest.web.extensions import Extensions
from medianest.web.viewer import (
    CHANGE_PASSWORD_PATH,
    PageRedirect,
    Viewer,
    login_url,
    viewer_of,
)

log = structlog.get_logger(__name__)

TEMPLATES_DIR = Path(__file__).parent / "templates"
THEME_COOKIE = "theme"
THEMES = ("dark", "light")

ERROR_TITLES = {
    400: "That did not work",
    403: "This page is not for you",
    404: "We could not find that page",
    429: "Slow down a little",
    500: "Something went wrong on our side",
    503: "A service is not available right now",
    504: "A service is taking too long to answer",
}


def theme_of(request: Request) -> str:
    chosen = request.cookies.get(THEME_COOKIE)
    return chosen if chosen in THEMES else THEMES[0]


# The pages that open the Plex sign-in window keep a handle on it, so they can close it once the
# PIN is approved: with `same-origin` the browser cuts the tie as soon as the window moves to
# plex.tv. Windows opened by others still get no handle on these pages.
PLEX_WINDOW_OPENER_POLICY = "same-origin-allow-popups"


def opens_plex_window(response: Response) -> Response:
    """`response`, a page that opens the Plex sign-in window (see PLEX_WINDOW_OPENER_POLICY)."""
    response.headers["Cross-Origin-Opener-Policy"] = PLEX_WINDOW_OPENER_POLICY
    return response


class WebShell:
    """Templates and static URLs of one app, and the layout data every page shares."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.assets = AssetManifest()
        self.static = StaticAssets()
        self.extensions = Extensions()
        self._domain_templates: dict[str, jinja2.BaseLoader] = {}
        env = jinja2.Environment(
            # The shell's own templates by their name, a domain's as "<domain>/<name>".
            loader=jinja2.ChoiceLoader(
                [
                    jinja2.FileSystemLoader(TEMPLATES_DIR),
                    jinja2.PrefixLoader(self._domain_templates),
                ]
            ),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            # Templates change only with a release, except while developing.
            auto_reload=settings.env == "development",
        )
        env.globals["static"] = self.assets.url
        env.globals["ready"] = self.extensions.has_pages
        env.globals["admin_pages"] = self.extensions.admin_pages
        env.filters["relative_time"] = humanize.relative_time
        env.filters["initials"] = humanize.initials
        env.filters["avatar_colour"] = humanize.avatar_colour
        self.templates = Jinja2Templates(env=env)

    def add_domain(self, name: str, folder: Path) -> None:
        """Serve the `templates/` of a domain's `folder` as "<name>/<template>", and its
        `static/` under /static/<name>/ (versioned as `static("<name>/<path>")`)."""
        templates, static = folder / "templates", folder / "static"
        if templates.is_dir():
            self._domain_templates[name] = jinja2.FileSystemLoader(templates)
        if static.is_dir():
            self.assets.add(name, static)
            self.static.add(name, static)

    def render(
        self,
        request: Request,
        template: str,
        viewer: Viewer | None,
        *,
        title: str,
        status_code: int = 200,
        own_search: bool = False,
        **context: Any,
    ) -> Response:
        """`own_search`: the page has a search box of its own, so the layout leaves out the one
        of every page (the header's library search and its skip link): one box to type in."""
        user = viewer.user if viewer else None
        response = self.templates.TemplateResponse(
            request,
            template,
            {
                "title": title,
                "user": user,
                "nav": self.extensions.navigation(user),
                "layout_parts": self.extensions.layout_parts(user),
                "banners": self.extensions.banners(user),
                "theme": theme_of(request),
                "path": request.url.path,
                "own_search": own_search,
                **context,
            },
            status_code=status_code,
        )
        # Pages show one person's data: never kept by a shared cache or shown from history.
        response.headers["Cache-Control"] = "no-store"
        if viewer is not None:
            viewer.apply_cookies(response, request)
        return response

    def render_not_connected(
        self, request: Request, viewer: Viewer, error: NotConnected
    ) -> Response:
        """The page a signed-in person gets when what they opened needs a service nobody
        connected yet: the full layout (they did nothing wrong and an administrator can fix
        it), with where to connect it, rather than the outage page."""
        page = self.extensions.not_connected_page(error.service)
        return self.render(
            request,
            "not_connected.html",
            viewer,
            title=page.title,
            status_code=error.status,
            page=page,
            connect_at=error.connect_at,
        )

    async def render_error(
        self, request: Request, status: int, code: str, message: str
    ) -> Response:
        """The `PageRenderer` of `install_error_handlers`: a browser gets a page, not JSON.

        A signed-in person keeps the navigation on it, so a missing or forbidden page is never
        a dead end."""
        if status == 401:
            return RedirectResponse(login_url(request), status_code=303)
        if code == "PASSWORD_CHANGE_REQUIRED":
            return RedirectResponse(CHANGE_PASSWORD_PATH, status_code=303)
        title = ERROR_TITLES.get(status) or ERROR_TITLES[500 if status >= 500 else 400]
        return self.render(
            request,
            "error.html",
            await _signed_in(request),
            title=title,
            status_code=status,
            status=status,
            message=message,
            reference=correlation_id() if status >= 500 else None,
        )


_PASSED_ON = (MediaNestError, StarletteHTTPException, RequestValidationError, PageRedirect)


class PageRoute(APIRoute):
    """A page route whose unexpected failure is answered with the 500 page, not JSON.

    A service not connected yet is explained to a signed-in person on a page of its own
    (`WebShell.render_not_connected`). Other errors with a meaning of their own are passed on
    to the app's handlers as usual."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            shell: WebShell = request.app.state.web
            try:
                return await handler(request)
            except NotConnected as exc:
                viewer = viewer_of(request)
                if viewer is None:
                    raise
                return shell.render_not_connected(request, viewer, exc)
            except _PASSED_ON:
                raise
            except Exception:
                log.exception("web.page_failed", path=request.url.path)
                return await shell.render_error(
                    request, 500, "INTERNAL_ERROR", MediaNestError.message
                )

        return guarded


async def _signed_in(request: Request) -> Viewer | None:
    """Who is looking at an error page, when that can be told without failing again."""
    try:
        principal = await optional_principal(request)
    except Exception:
        # An error page must render whatever else failed (the session store included).
        return None
    if principal is None or principal.requires_password_change:
        return None
    return Viewer(principal)


async def _web(request: Request) -> WebShell:
    shell: WebShell = request.app.state.web
    return shell


Web = Annotated[WebShell, Depends(_web)]
"""The app's web shell, for a page route to render with."""
