"""Page routes: who may see which page, where others are sent, and the session kept alive."""

from __future__ import annotations

import re
import time

import jwt
import pytest

from medianest.auth.sessions import Principal
from medianest.web.extensions import AdminPage, Banner
from tests.integration.web.conftest import (
    ADMIN_PASSWORD,
    MEMBER_PASSWORD,
    AppFactory,
    browse,
)


def _data_next(html: str) -> str:
    found = re.search(r'data-next="([^"]*)"', html)
    assert found, "the sign-in page names where to continue"
    return found.group(1)


class TestSignInFirst:
    @pytest.mark.parametrize(
        ("path", "login"),
        [
            ("/", "/login?next=/"),
            ("/account", "/login?next=/account"),
            ("/admin/audit-log?page=2", "/login?next=/admin/audit-log%3Fpage%3D2"),
            ("/admin/users?search=al", "/login?next=/admin/users%3Fsearch%3Dal"),
            ("/change-password", "/login?next=/change-password"),
        ],
    )
    async def test_an_anonymous_visitor_is_sent_to_sign_in_and_back(
        self, make_app: AppFactory, path: str, login: str
    ) -> None:
        async with browse(make_app()) as browser:
            response = await browser.page(path)

        assert response.status_code == 303
        assert response.headers["location"] == login

    async def test_pages_for_everyone_need_no_sign_in(self, make_app: AppFactory) -> None:
        async with browse(make_app()) as browser:
            statuses = [
                (await browser.page(path)).status_code
                for path in ("/login", "/help", "/forgot-password", "/reset-password")
            ]

        assert statuses == [200, 200, 200, 200]

    async def test_the_first_admin_must_choose_a_password_before_any_page(
        self, make_app: AppFactory
    ) -> None:
        async with browse(make_app()) as browser:
            await browser.sign_in("admin", "admin")
            home = await browser.page("/")
            account = await browser.page("/account")
            login = await browser.page("/login")
            change = await browser.page("/change-password")

        assert home.status_code == account.status_code == login.status_code == 303
        assert home.headers["location"] == "/change-password"
        assert account.headers["location"] == "/change-password"
        assert login.headers["location"] == "/change-password"
        assert change.status_code == 200
        assert "Choose your password" in change.text
        assert "At least 10 characters" in change.text

    async def test_after_choosing_it_home_greets_the_user(self, make_app: AppFactory) -> None:
        async with browse(make_app()) as browser:
            await browser.set_up_admin()
            home = await browser.page("/")
            change = await browser.page("/change-password")

        assert home.status_code == 200
        assert "Hi, admin!" in home.text
        assert change.status_code == 303
        assert change.headers["location"] == "/account#password"

    async def test_a_signed_in_visitor_skips_the_sign_in_page(self, make_app: AppFactory) -> None:
        async with browse(make_app()) as browser:
            await browser.set_up_admin()
            response = await browser.page("/login?next=/help")

        assert response.status_code == 303
        assert response.headers["location"] == "/help"

    @pytest.mark.parametrize(
        "target",
        ["//evil.example/", "https://evil.example/", "/\\evil.example", "/login", "help"],
    )
    async def test_next_never_leads_off_the_site(self, make_app: AppFactory, target: str) -> None:
        async with browse(make_app()) as browser:
            response = await browser.http.get("/login", params={"next": target}, headers={})

        assert _data_next(response.text) == "/"


class TestRoles:
    async def test_a_member_sees_no_admin_entry_and_gets_403_on_admin_pages(
        self, make_app: AppFactory
    ) -> None:
        async with browse(make_app()) as browser:
            await browser.add_member("bob")
            await browser.sign_in("bob", MEMBER_PASSWORD)
            home = await browser.page("/")
            audit = await browser.page("/admin/audit-log")

        assert home.status_code == 200
        assert "/admin/audit-log" not in home.text
        assert audit.status_code == 403
        assert "This page is not for you" in audit.text

    async def test_a_member_gets_403_on_the_users_page(self, make_app: AppFactory) -> None:
        async with browse(make_app()) as browser:
            await browser.add_member("bob")
            await browser.sign_in("bob", MEMBER_PASSWORD)
            users = await browser.page("/admin/users")

        assert users.status_code == 403
        assert "This page is not for you" in users.text
        assert "admin_users.js" not in users.text

    async def test_an_admin_gets_the_users_page_set_as_its_address_says(
        self, make_app: AppFactory
    ) -> None:
        async with browse(make_app()) as browser:
            await browser.set_up_admin()
            users = await browser.page("/admin/users?search=bo&status=suspended&sort=bogus")

        assert users.status_code == 200
        assert 'href="/admin/users" aria-current="page"' in users.text
        assert 'name="search" type="search" value="bo"' in users.text
        assert '<option value="suspended" selected>' in users.text
        # An unknown sort falls back to the default, not an error page.
        assert '<option value="username" selected>' in users.text
        assert "within 1 hour" in users.text

    async def test_an_admin_sees_the_audit_log(self, make_app: AppFactory) -> None:
        async with browse(make_app()) as browser:
            await browser.set_up_admin()
            home = await browser.page("/")
            audit = await browser.page("/admin/audit-log?action=auth.password_changed")

        assert 'href="/admin"' in home.text
        assert 'href="/admin/audit-log" aria-current="page"' in audit.text
        assert audit.status_code == 200
        assert "changed their password" in audit.text
        assert "1 entry" in audit.text


def _sub_nav(html: str) -> list[tuple[str, str]]:
    """The administrators' sub-navigation: each entry's label and address, in order."""
    nav = re.search(r'<nav class="sub-nav" aria-label="Administration">(.*?)</nav>', html, re.S)
    assert nav, "the page has the administrators' sub-navigation"
    return [
        (label, href)
        for href, label in re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', nav.group(1))
    ]


class TestAdminSubNavigation:
    async def test_it_lists_the_pages_of_every_domain_in_order(self, make_app: AppFactory) -> None:
        async with browse(make_app()) as browser:
            await browser.set_up_admin()
            users = await browser.page("/admin/users")

        assert _sub_nav(users.text) == [
            ("Audit log", "/admin/audit-log"),
            ("Activity", "/admin/activity"),
            ("Plex server", "/admin/plex"),
            ("Requests", "/admin/requests"),
            ("Requests service", "/admin/requests/service"),
            ("Announcements", "/admin/announcements"),
            ("Status", "/admin/status"),
            ("Alert channels", "/admin/notifications"),
            ("Users", "/admin/users"),
        ]

    async def test_a_page_a_domain_registers_is_listed_where_its_order_puts_it(
        self, make_app: AppFactory
    ) -> None:
        app = make_app()
        app.state.web.extensions.add_admin_pages(AdminPage("Backups", "/admin/backups", order=80))
        async with browse(app) as browser:
            await browser.set_up_admin()
            audit = await browser.page("/admin/audit-log")

        labels = [label for label, _ in _sub_nav(audit.text)]
        assert labels[-2:] == ["Backups", "Users"]
        assert ("Backups", "/admin/backups") in _sub_nav(audit.text)


def _banners(html: str) -> list[tuple[str, str]]:
    """(key, severity) of each banner over the page, in the order shown."""
    return re.findall(r'class="site-banner site-banner-(\w+)" data-banner="([^"]+)"', html)


class TestBanners:
    async def test_a_domains_banners_show_on_every_signed_in_page_most_severe_first(
        self, make_app: AppFactory
    ) -> None:
        app = make_app()

        def offered(user: Principal) -> list[Banner]:
            return [
                Banner("broadcast:1", "info", "Plex restarts tonight at 2."),
                Banner("status:plex", "critical", "Plex is down.", href="/status", link="Status"),
            ]

        app.state.web.extensions.add_banners(50, offered)
        async with browse(app) as browser:
            await browser.set_up_admin()
            home = await browser.page("/")
            account = await browser.page("/account")

        for page in (home, account):
            assert _banners(page.text) == [
                ("critical", "status:plex"),
                ("info", "broadcast:1"),
            ]
        assert 'role="alert"' in home.text
        assert '<a href="/status">Status</a>' in home.text

    async def test_nobody_signed_out_sees_them(self, make_app: AppFactory) -> None:
        app = make_app()
        app.state.web.extensions.add_banners(
            50, lambda user: [Banner("status:plex", "critical", "Plex is down.")]
        )
        async with browse(app) as browser:
            login = await browser.page("/login")

        assert _banners(login.text) == []

    async def test_what_a_banner_says_is_escaped(self, make_app: AppFactory) -> None:
        app = make_app()
        app.state.web.extensions.add_banners(
            50, lambda user: [Banner("broadcast:2", "warning", "<script>alert(1)</script>")]
        )
        async with browse(app) as browser:
            await browser.set_up_admin()
            home = await browser.page("/")

        assert "<script>alert(1)</script>" not in home.text
        assert "&lt;script&gt;" in home.text


class TestSessionRenewal:
    async def test_an_expired_access_token_is_renewed_from_the_remember_token(
        self, make_app: AppFactory
    ) -> None:
        app = make_app()
        async with browse(app) as browser:
            await browser.set_up_admin()
            await browser.sign_in("admin", ADMIN_PASSWORD, remember=True)
            old_remember = browser.http.cookies["remember_token"]
            browser.set_cookie("token", _expired(app, browser.http.cookies["token"]))

            page = await browser.page("/account")
            renewed = browser.http.cookies["token"]
            session = await browser.http.get("/api/v1/auth/session")

        assert page.status_code == 200
        assert "Your account" in page.text
        assert page.headers["cache-control"] == "no-store"
        assert browser.http.cookies["remember_token"] != old_remember
        assert session.status_code == 200
        assert session.json()["data"]["user"]["username"] == "admin"
        assert renewed

    async def test_a_signed_out_session_is_not_renewed(self, make_app: AppFactory) -> None:
        app = make_app()
        async with browse(app) as browser:
            await browser.set_up_admin()
            token = browser.http.cookies["token"]
            remember = browser.http.cookies["remember_token"]
            await browser.call("POST", "/auth/logout", {})
            browser.set_cookie("token", _expired(app, token))
            browser.set_cookie("remember_token", remember)

            response = await browser.page("/account")

        assert response.status_code == 303
        assert response.headers["location"] == "/login?next=/account"
        cleared = response.headers.get_list("set-cookie")
        assert any(c.startswith("remember_token=") and "Max-Age=0" in c for c in cleared)


def _expired(app: object, token: str) -> str:
    """The same access token, but expired a minute ago (signed with the app's own key)."""
    claims = jwt.decode(token, options={"verify_signature": False})
    now = int(time.time())
    claims.update(iat=now - 1000, exp=now - 60)
    secret = app.state.platform.settings.secret_key.get_secret_value()  # type: ignore[attr-defined]
    return jwt.encode(claims, secret, algorithm="HS256")
