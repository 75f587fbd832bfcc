"""A real Chromium (Debian's, driven by Playwright) against MediaNest under a real uvicorn.

Each test gets its own server on a fresh copy of the migrated SQLite database, so it starts on
first run: only `admin` / `admin` exists and must change its password. Screenshots land in
`test-artifacts/screenshots/` for people to look at.
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    ViewportSize,
    expect,
    sync_playwright,
)

from medianest.app import create_app
from medianest.auth.models import User
from medianest.requests.models import MediaRequest
from tests.conftest import SettingsFactory
from tests.factories.requests import make_request
from tests.factories.users import make_user
from tests.support.plex import plex_fakes
from tests.support.server import serve

# A loaded machine (CI runs two workers beside a busy host) can take longer than Playwright's
# five-second default for an assertion; match the ten seconds every action gets.
expect.set_options(timeout=10_000)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = ViewportSize(width=1280, height=800)
MOBILE = ViewportSize(width=375, height=812)
WIDE = ViewportSize(width=1440, height=900)
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

ADMIN_PASSWORD = "plum-orchard-lantern-42"

# The fake plex.tv and fake Plex server, started once per module.
__all__ = ["plex_fakes"]


@dataclass(frozen=True)
class Site:
    url: str
    # Its own SQLite file, for tests that put accounts in place.
    database_url: str

    def at(self, path: str) -> str:
        return self.url + path


SiteFactory = Callable[..., Site]


@pytest.fixture(scope="module")
def browser(sqlite_template: Path) -> Iterator[Browser]:
    # Playwright's sync API keeps an event loop running in this thread while it is open, which
    # breaks every asyncio test after it in the same process: so it lives for one module only
    # (the next module's tests, on this xdist worker, find no loop running). The template
    # database is migrated with asyncio.run(), so it has to exist first.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def make_site(
    make_settings: SettingsFactory, sqlite_template: Path, tmp_path: Path
) -> Iterator[SiteFactory]:
    """Start MediaNest (settings overrides as keywords); stopped after the test."""
    with ExitStack() as stack:

        def make(**overrides: object) -> Site:
            database = tmp_path / f"medianest-{uuid.uuid4().hex[:8]}.db"
            shutil.copyfile(sqlite_template, database)
            database_url = f"sqlite+aiosqlite:///{database}"
            settings = make_settings(database_url=database_url, log_level="WARNING", **overrides)
            return Site(stack.enter_context(serve(create_app(settings))).url, database_url)

        yield make


@pytest.fixture
def site(make_site: SiteFactory) -> Site:
    return make_site()


ContextFactory = Callable[..., BrowserContext]
_CHROMIUM_OWN = (
    "Failed to load resource",
    "Chrome currently does not support the Push API in incognito mode",
)


@pytest.fixture
def new_context(browser: Browser, site: Site) -> Iterator[ContextFactory]:
    """Browser contexts (separate cookie jars, like separate devices) on `site`.

    A script error or a Content-Security-Policy violation on any page fails the test."""
    contexts: list[BrowserContext] = []
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        # An API answering 4xx is logged by Chromium too; the page shows those itself. So is
        # every push subscription tried in an off-the-record profile, which each test context is
        # (the page says it could not subscribe).
        if message.type == "error" and not message.text.startswith(_CHROMIUM_OWN):
            errors.append(f"{message.page.url if message.page else '?'}: {message.text}")

    def make(viewport: ViewportSize = DESKTOP, **options: Any) -> BrowserContext:
        context = browser.new_context(viewport=viewport, base_url=site.url, **options)
        context.set_default_timeout(10_000)
        context.on("console", on_console)
        context.on("weberror", lambda error: errors.append(str(error.error)))
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
    assert errors == []


@pytest.fixture
def page(new_context: ContextFactory) -> Page:
    return new_context().new_page()


def api(context: BrowserContext, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """Call the JSON API with the context's cookies (and its CSRF token), as the pages do."""
    csrf = next((c["value"] for c in context.cookies() if c.get("name") == "csrf_token"), "")
    response = context.request.fetch(
        "/api/v1" + path,
        method=method,
        data=body if body is not None else None,
        headers={"X-CSRF-Token": csrf} if csrf else {},
    )
    assert response.ok, f"{method} {path}: {response.status} {response.text()}"
    return None if response.status == 204 else response.json()["data"]


def sign_in(
    context: BrowserContext, username: str = "admin", password: str = ADMIN_PASSWORD
) -> None:
    api(context, "POST", "/auth/login", {"username": username, "password": password})


def set_up_admin(context: BrowserContext) -> None:
    """Sign in as the first-run admin and choose its real password (ADMIN_PASSWORD)."""
    sign_in(context, "admin", "admin")
    api(
        context,
        "POST",
        "/auth/change-password",
        {"currentPassword": "admin", "newPassword": ADMIN_PASSWORD},
    )


def add_user(site: Site, **fields: Any) -> User:
    """An account written straight into the site's database (`make_user`'s keywords)."""
    # Playwright's event loop holds this thread, so the database is written from another one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make_user(site.database_url, **fields))).result()


def add_request(site: Site, user_id: uuid.UUID, **fields: Any) -> MediaRequest:
    """A request written straight into the site's database (`make_request`'s keywords)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        made = pool.submit(lambda: asyncio.run(make_request(site.database_url, user_id, **fields)))
        return made.result()


def screenshot(page: Page, name: str) -> Path:
    """The whole page, taken in a window as tall as the page so fixed and sticky bars sit
    where a reader scrolling to the end would see them."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    viewport = page.viewport_size
    assert viewport is not None
    height = int(page.evaluate("document.documentElement.scrollHeight"))
    page.set_viewport_size(
        ViewportSize(width=viewport["width"], height=max(height, viewport["height"]))
    )
    page.screenshot(path=str(path))
    page.set_viewport_size(viewport)
    return path


def horizontal_overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than the viewport (0 when nothing scrolls sideways)."""
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def wait_closed(popup: Page) -> None:
    """Returns once the window is closed; fails the test when it stays open."""
    if not popup.is_closed():
        popup.wait_for_event("close")


def forward_url(auth_url: str) -> str | None:
    """The `forwardUrl` of an app.plex.tv address (its parameters are in the fragment)."""
    fragment = urlsplit(auth_url).fragment.lstrip("!").lstrip("?")
    return parse_qs(fragment).get("forwardUrl", [None])[0]
