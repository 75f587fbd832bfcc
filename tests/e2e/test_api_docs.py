"""/api/docs on a server without internet access: everything it needs comes from MediaNest."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import ConsoleMessage, Route, expect

from tests.e2e.conftest import DESKTOP, MOBILE, ContextFactory, Site, screenshot

pytestmark = pytest.mark.browser


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@pytest.mark.parametrize(("name", "viewport"), [("desktop", DESKTOP), ("mobile", MOBILE)])
def test_the_api_docs_render_with_every_other_origin_cut_off(
    new_context: ContextFactory, site: Site, name: str, viewport: object
) -> None:
    context = new_context(viewport)
    elsewhere: list[str] = []
    console_errors: list[str] = []

    def only_medianest(route: Route) -> None:
        if _origin(route.request.url) == _origin(site.url):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            console_errors.append(message.text)

    context.route("**/*", only_medianest)
    page = context.new_page()
    page.on("console", on_console)
    page.goto("/api/docs")

    # Swagger UI lays out every operation of the document in the page's one thread: on a busy
    # machine that takes longer than an ordinary page, so these waits are longer too.
    slow = 30_000
    login = page.locator('.opblock-summary-path[data-path="/api/v1/auth/login"]')
    expect(login).to_be_visible(timeout=slow)
    expect(page.locator(".opblock-tag").first).to_be_visible(timeout=slow)
    login.click(timeout=slow)
    opened = page.locator(".opblock.is-open")
    expect(opened.get_by_text("Request body", exact=True)).to_be_visible(timeout=slow)
    expect(opened.get_by_role("button", name="Try it out")).to_be_visible(timeout=slow)
    screenshot(page, f"api-docs-{name}")
    assert elsewhere == []
    assert console_errors == []
