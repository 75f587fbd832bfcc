"""The page plex.tv sends its sign-in window back to (`/auth/plex/done`): open to anyone, the
same for everyone, and closed by a script file the Content-Security-Policy allows."""

from __future__ import annotations

from html.parser import HTMLParser

from medianest.core.middleware import DEFAULT_CSP
from tests.integration.web.conftest import AppFactory, browse

DONE = "/auth/plex/done"


class _Scripts(HTMLParser):
    """The page's scripts, and anything a strict Content-Security-Policy would block."""

    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []
        self.blocked: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        self.blocked += [f"<{tag} {n}>" for n, _ in attrs if n == "style" or n.startswith("on")]
        if tag == "script":
            self._in_script = True
            if names.get("src"):
                self.sources.append(str(names["src"]))
            else:
                self.blocked.append("inline <script>")

    def handle_endtag(self, tag: str) -> None:
        self._in_script = self._in_script and tag != "script"

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.blocked.append("script with a body")


class TestPlexDonePage:
    async def test_anyone_gets_it_without_a_session(self, make_app: AppFactory) -> None:
        async with browse(make_app()) as browser:
            response = await browser.page(DONE)

        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert "set-cookie" not in response.headers
        assert response.headers["cache-control"] == "no-store"
        assert "<h1>You can close this window</h1>" in response.text
        assert "data-signed-in" not in response.text

    async def test_it_closes_itself_with_a_script_file_the_csp_allows(
        self, make_app: AppFactory
    ) -> None:
        async with browse(make_app()) as browser:
            response = await browser.page(DONE)
            parsed = _Scripts()
            parsed.feed(response.text)
            closer = next(
                s for s in parsed.sources if s.startswith("/static/auth/js/plex_done.js?v=")
            )
            script = await browser.http.get(closer)

        assert response.headers["content-security-policy"] == DEFAULT_CSP
        assert "script-src 'self'" in DEFAULT_CSP and "unsafe-inline" not in DEFAULT_CSP
        assert parsed.blocked == []
        assert script.status_code == 200
        assert script.headers["content-type"].startswith("text/javascript")
        assert "window.close()" in script.text

    async def test_nothing_from_the_address_is_shown_or_followed(
        self, make_app: AppFactory
    ) -> None:
        hostile = (
            "?forwardUrl=https%3A%2F%2Fevil.example%2F&next=https://evil.example/"
            "&message=%3Cscript%3Ealert(1)%3C%2Fscript%3E&code=%22onmouseover%3D%22x"
        )
        async with browse(make_app()) as browser:
            plain = await browser.page(DONE)
            attacked = await browser.page(DONE + hostile)

        assert attacked.status_code == 200
        assert "location" not in attacked.headers
        assert attacked.text == plain.text
        for reflected in ("evil.example", "alert(1)", "onmouseover"):
            assert reflected not in attacked.text

    async def test_a_signed_in_browser_gets_the_same_page_even_before_a_new_password(
        self, make_app: AppFactory
    ) -> None:
        async with browse(make_app()) as browser:
            anonymous = await browser.page(DONE)
            # The first-run admin must choose a password before any other page.
            await browser.sign_in("admin", "admin")
            pending = await browser.page(DONE)
            await browser.set_up_admin()
            signed_in = await browser.page(DONE)

        assert pending.status_code == signed_in.status_code == 200
        assert pending.text == signed_in.text == anonymous.text


class TestWhoKeepsAHandleOnThePlexWindow:
    async def test_only_the_pages_that_open_it_let_their_popups_keep_the_opener(
        self, make_app: AppFactory
    ) -> None:
        async with browse(make_app()) as browser:
            login = await browser.page("/login")
            done = await browser.page(DONE)
            await browser.set_up_admin()
            admin_plex = await browser.page("/admin/plex")
            home = await browser.page("/")

        policy = "cross-origin-opener-policy"
        assert login.headers[policy] == admin_plex.headers[policy] == "same-origin-allow-popups"
        assert done.headers[policy] == home.headers[policy] == "same-origin"
