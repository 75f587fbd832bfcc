"""What every page is made of: no inline script or style (the CSP forbids them), versioned static
files cached for a year, and the help page's links shown safely."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from tests.integration.web.conftest import (
    ADMIN_PASSWORD,
    MEMBER_PASSWORD,
    AppFactory,
    Browser,
    browse,
)


class _Inline(HTMLParser):
    """Collects what a strict Content-Security-Policy would block, and the assets a page uses."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.assets: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        for name, _ in attrs:
            if name == "style" or name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...>")
        if tag == "style":
            self.problems.append("<style> element")
        if tag == "script" and not names.get("src"):
            self.problems.append("inline <script>")
        for name in ("src", "href"):
            value = names.get(name) or ""
            if value.startswith("/static/"):
                self.assets.append(value)
            if value.lower().startswith("javascript:"):
                self.problems.append(f"javascript: URL in <{tag}>")


async def _pages(browser: Browser) -> dict[str, str]:
    pages = {}
    for path in (
        "/login",
        "/forgot-password",
        "/reset-password",
        "/help",
        "/auth/plex/done",
        "/missing",
    ):
        pages[f"anonymous {path}"] = (await browser.page(path)).text
    await browser.sign_in("admin", "admin")
    pages["/change-password"] = (await browser.page("/change-password")).text
    await browser.call(
        "POST",
        "/auth/change-password",
        {"currentPassword": "admin", "newPassword": ADMIN_PASSWORD},
    )
    for path in (
        "/",
        "/account",
        "/help",
        "/admin/audit-log",
        "/admin/users",
        "/notifications",
        "/missing",
    ):
        pages[path] = (await browser.page(path)).text
    return pages


class TestStrictCsp:
    async def test_no_page_has_inline_scripts_styles_or_handlers(
        self, make_app: AppFactory
    ) -> None:
        async with browse(make_app()) as browser:
            pages = await _pages(browser)

        for name, html in pages.items():
            parsed = _Inline()
            parsed.feed(html)
            assert parsed.problems == [], name
            assert parsed.assets, name

    async def test_every_asset_a_page_uses_is_served_and_cached_for_a_year(
        self, make_app: AppFactory
    ) -> None:
        async with browse(make_app()) as browser:
            pages = await _pages(browser)
            assets = set()
            for html in pages.values():
                parsed = _Inline()
                parsed.feed(html)
                assets.update(parsed.assets)
            responses = {url: await browser.http.get(url) for url in sorted(assets)}

        assert any(url.startswith("/static/css/app.css?v=") for url in responses)
        for url, response in responses.items():
            assert response.status_code == 200, url
            assert response.headers["cache-control"] == "public, max-age=31536000, immutable"

    async def test_modules_imported_without_a_version_are_revalidated(
        self, make_app: AppFactory
    ) -> None:
        async with browse(make_app()) as browser:
            first = await browser.http.get("/static/js/api.js")
            again = await browser.http.get(
                "/static/js/api.js", headers={"If-None-Match": first.headers["etag"]}
            )

        assert first.headers["cache-control"] == "no-cache"
        assert first.headers["content-type"].startswith("text/javascript")
        assert again.status_code == 304


class TestHelpLinks:
    LINKS = [
        {
            "name": "Requests <b>now</b>",
            "url": "https://requests.example.com/?a=1&b=2",
            "description": "Ask for <script>alert(1)</script> things",
        },
        {"name": "Tautulli", "url": "http://stats.example.com"},
    ]

    async def test_links_are_shown_to_signed_in_users_escaped(self, make_app: AppFactory) -> None:
        async with browse(make_app(help_links=self.LINKS)) as browser:
            anonymous = (await browser.page("/help")).text
            await browser.set_up_admin()
            signed_in = (await browser.page("/help")).text

        assert "requests.example.com" not in anonymous
        assert "Sign in</a> to see links" in anonymous
        assert "Requests &lt;b&gt;now&lt;/b&gt;" in signed_in
        assert 'href="https://requests.example.com/?a=1&amp;b=2"' in signed_in
        assert "Ask for &lt;script&gt;alert(1)&lt;/script&gt; things" in signed_in
        assert "<script>alert" not in signed_in
        assert re.search(
            r'href="http://stats.example.com"[^>]*rel="noopener noreferrer"', signed_in
        )

    @pytest.mark.parametrize(("admin", "shown"), [(True, True), (False, False)])
    async def test_without_links_an_admin_is_told_how_to_add_them(
        self, make_app: AppFactory, admin: bool, shown: bool
    ) -> None:
        async with browse(make_app()) as browser:
            if admin:
                await browser.set_up_admin()
            else:
                await browser.add_member("bob")
                await browser.sign_in("bob", MEMBER_PASSWORD)
            html = (await browser.page("/help")).text

        assert ("MEDIANEST_HELP_LINKS" in html) is shown
        assert "Getting started" in html
        assert "<details>" in html
