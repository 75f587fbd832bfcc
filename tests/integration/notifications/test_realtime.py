"""The live-updates socket on one MediaNest with nothing but its database (the in-process bus):
who may open one, and that it closes when the session behind it ends or goes quiet."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import httpx
import pytest

from medianest.auth.tokens import JwtService
from tests.conftest import SettingsFactory
from tests.factories.users import PASSWORD, make_user
from tests.integration.auth.conftest import bearer, csrf, finish_first_run, sign_in
from tests.support.sockets import Site, opened, ready, served

SIGNED_OUT, REFUSED, SILENT = 4401, 4403, 4408


@pytest.fixture
def site(make_settings: SettingsFactory, database_url: str) -> Iterator[Site]:
    # A heartbeat a test can wait for; the default is 25 s.
    with served(make_settings(database_url=database_url, realtime_heartbeat_seconds=0.5)) as s:
        yield s


@asynccontextmanager
async def member(site: Site, database_url: str, username: str) -> AsyncIterator[httpx.AsyncClient]:
    """A new member's browser, signed in."""
    await make_user(database_url, username=username)
    async with site.browser() as http:
        answer = await sign_in(http, username, PASSWORD)
        assert answer.status_code == 200, answer.text
        yield http


async def device(site: Site, username: str) -> httpx.AsyncClient:
    """The same member signed in on another device (close it after use)."""
    http = site.browser()
    answer = await sign_in(http, username, PASSWORD)
    assert answer.status_code == 200, answer.text
    return http


class TestOpening:
    async def test_a_page_of_this_site_with_the_cookie_is_listened_to(
        self, site: Site, database_url: str
    ) -> None:
        async with member(site, database_url, "ada") as ada, opened(site, http=ada) as socket:
            first = await socket.next()

        assert first == {"type": "ready", "data": {"heartbeatSeconds": 0.5}}

    async def test_a_token_in_the_query_or_a_bearer_header_needs_no_origin(
        self, site: Site, database_url: str
    ) -> None:
        async with member(site, database_url, "ada") as ada:
            token = ada.cookies["token"]
            async with opened(site, token=token, origin=None) as by_query:
                first = await by_query.next()
            async with opened(site, headers=bearer(token), origin=None) as by_header:
                second = await by_header.next()

        assert (first["type"], second["type"]) == ("ready", "ready")

    async def test_no_cookie_or_token_is_closed_as_signed_out(self, site: Site) -> None:
        async with opened(site) as socket:
            code, reason = await socket.closed()

        assert code == SIGNED_OUT
        assert reason == "Sign in to get live updates."

    async def test_a_token_that_is_not_ours_is_closed_as_signed_out(
        self, site: Site, database_url: str
    ) -> None:
        async with member(site, database_url, "ada") as ada:
            me = (await ada.get("/api/v1/auth/session")).json()["data"]["user"]
            forged = JwtService("another-secret-" + "y" * 40).generate_access_token(
                me["id"], me["id"]
            )
            async with opened(site, token=forged) as socket:
                forged_code, _ = await socket.closed()
            async with opened(site, token="not-a-token") as socket:
                garbage_code, _ = await socket.closed()

        assert (forged_code, garbage_code) == (SIGNED_OUT, SIGNED_OUT)

    async def test_a_signed_out_session_is_closed_as_signed_out(
        self, site: Site, database_url: str
    ) -> None:
        async with member(site, database_url, "ada") as ada:
            token = ada.cookies["token"]
            assert (await ada.post("/api/v1/auth/logout", json={}, headers=csrf(ada))).is_success
            async with opened(site, token=token) as socket:
                code, _ = await socket.closed()

        assert code == SIGNED_OUT

    @pytest.mark.parametrize("origin", ["http://evil.example", None])
    async def test_the_cookie_from_another_site_or_no_page_is_refused(
        self, site: Site, database_url: str, origin: str | None
    ) -> None:
        async with (
            member(site, database_url, "ada") as ada,
            opened(site, http=ada, origin=origin) as socket,
        ):
            code, reason = await socket.closed()

        assert code == REFUSED
        assert reason == "Live updates are for this site's pages."

    async def test_a_password_still_to_change_is_refused(self, site: Site) -> None:
        async with site.browser() as first_admin:
            assert (await sign_in(first_admin, "admin", "admin")).status_code == 200
            async with opened(site, http=first_admin) as socket:
                code, reason = await socket.closed()

        assert code == REFUSED
        assert reason == "Change your password first."


class TestSessionEnding:
    async def test_signing_a_device_out_closes_its_socket_and_no_other(
        self, site: Site, database_url: str
    ) -> None:
        async with member(site, database_url, "ada") as laptop:
            phone = await device(site, "ada")
            async with (
                ready(site, http=phone) as phone_socket,
                ready(site, http=laptop) as laptop_socket,
            ):
                listed = (await laptop.get("/api/v1/auth/sessions")).json()["data"]
                (phone_session,) = [s["id"] for s in listed if not s["current"]]
                revoked = await laptop.delete(
                    f"/api/v1/auth/sessions/{phone_session}", headers=csrf(laptop)
                )
                code, reason = await phone_socket.closed()
                # The laptop's socket is still answered: its next heartbeat comes.
                await laptop_socket.ping()
            await phone.aclose()

        assert revoked.status_code == 200
        assert (code, reason) == (SIGNED_OUT, "You were signed out.")

    async def test_signing_out_closes_the_socket(self, site: Site, database_url: str) -> None:
        async with member(site, database_url, "ada") as ada, ready(site, http=ada) as socket:
            await ada.post("/api/v1/auth/logout", json={}, headers=csrf(ada))
            code, _ = await socket.closed()

        assert code == SIGNED_OUT

    async def test_signing_out_everywhere_closes_every_device(
        self, site: Site, database_url: str
    ) -> None:
        async with member(site, database_url, "ada") as laptop:
            phone = await device(site, "ada")
            async with ready(site, http=phone) as on_phone, ready(site, http=laptop) as on_laptop:
                await laptop.post(
                    "/api/v1/auth/logout", json={"allSessions": True}, headers=csrf(laptop)
                )
                codes = [(await on_phone.closed())[0], (await on_laptop.closed())[0]]
            await phone.aclose()

        assert codes == [SIGNED_OUT, SIGNED_OUT]

    async def test_a_new_password_closes_the_other_devices_but_not_this_one(
        self, site: Site, database_url: str
    ) -> None:
        async with member(site, database_url, "ada") as laptop:
            phone = await device(site, "ada")
            async with ready(site, http=phone) as on_phone, ready(site, http=laptop) as on_laptop:
                changed = await laptop.post(
                    "/api/v1/auth/change-password",
                    json={"currentPassword": PASSWORD, "newPassword": "a-brand-new-passphrase-9"},
                    headers=csrf(laptop),
                )
                code, _ = await on_phone.closed()
                await on_laptop.ping()
            await phone.aclose()

        assert changed.status_code == 200
        assert code == SIGNED_OUT

    @pytest.mark.parametrize("how", ["suspend", "delete"])
    async def test_an_administrator_suspending_or_deleting_someone_closes_their_socket(
        self, site: Site, database_url: str, how: str
    ) -> None:
        async with site.browser() as admin:
            await finish_first_run(admin)
            async with member(site, database_url, "ada") as ada, ready(site, http=ada) as socket:
                me = (await ada.get("/api/v1/auth/session")).json()["data"]["user"]
                address = f"/api/v1/admin/users/{me['id']}"
                if how == "suspend":
                    done = await admin.patch(
                        address, json={"status": "suspended"}, headers=csrf(admin)
                    )
                else:
                    done = await admin.delete(address, headers=csrf(admin))
                code, _ = await socket.closed()

        assert done.is_success, done.text
        assert code == SIGNED_OUT


class TestHeartbeat:
    async def test_a_tab_that_answers_stays_and_one_that_stops_is_closed(
        self, site: Site, database_url: str
    ) -> None:
        async with member(site, database_url, "ada") as ada, ready(site, http=ada) as socket:
            for _ in range(5):
                await socket.ping()
            socket.answer_pings = False
            code, reason = await socket.closed()

        assert socket.pings >= 5
        assert (code, reason) == (SILENT, "Nothing heard from this tab for too long.")
