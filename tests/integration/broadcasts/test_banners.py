"""The banner of a live announcement over every signed-in page, for everyone, until it ends or is
withdrawn: in the process that sent it at once, in another one at its next reload, or at once
through Redis."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession
from structlog.testing import capture_logs

from medianest.app import create_app
from medianest.broadcasts.board import BroadcastBoard
from medianest.core.bus import MemoryBus
from medianest.core.db import Database, utc_now
from tests.conftest import SettingsFactory
from tests.factories.broadcasts import make_broadcast
from tests.factories.users import PASSWORD, make_user
from tests.integration.auth.conftest import finish_first_run, sign_in
from tests.integration.broadcasts.conftest import broadcasts_of, send, until, withdraw
from tests.integration.web.conftest import PAGE
from tests.support.app import Started, ok_data, started

PAGES = ("/", "/notifications", "/account", "/help")


def _banners(html: str) -> dict[str, tuple[str, str]]:
    """Each banner over the page: its key, with its severity and what it says."""
    found = re.findall(
        r'class="site-banner site-banner-(\w+)" data-banner="([^"]+)"[^>]*>.*?<p>(.*?)</p>',
        html,
        re.S,
    )
    return {key: (severity, text) for severity, key, text in found}


async def _banner_keys(http: httpx.AsyncClient, path: str = "/") -> set[str]:
    page = await http.get(path, headers=PAGE)
    assert page.status_code == 200, page.text
    return set(_banners(page.text))


class TestEveryPage:
    async def test_everyone_sees_it_on_every_page_until_it_is_withdrawn(
        self, admin: httpx.AsyncClient, medianest: Started, database_url: str
    ) -> None:
        await make_user(database_url, username="alice")
        sent = ok_data(
            await send(
                admin,
                title="Maintenance tonight",
                message="Plex restarts at 22:00.",
                severity="warning",
            )
        )
        key = f"broadcast:{sent['id']}"
        async with medianest.client() as alice:
            await sign_in(alice, "alice", PASSWORD)
            for path in PAGES:
                page = await alice.get(path, headers=PAGE)
                assert _banners(page.text)[key] == (
                    "warning",
                    "Maintenance tonight: Plex restarts at 22:00.",
                ), path
            assert key in await _banner_keys(admin)

            await withdraw(admin, sent["id"])

            for path in PAGES:
                assert key not in await _banner_keys(alice, path)
            assert key not in await _banner_keys(admin)

    async def test_the_most_severe_shows_first(self, admin: httpx.AsyncClient) -> None:
        await send(admin, title="Info", message="Nothing to do.")
        await send(admin, title="Urgent", message="Plex is down.", severity="critical")
        page = await admin.get("/", headers=PAGE)
        assert [severity for severity, _ in _banners(page.text).values()] == ["critical", "info"]

    async def test_a_long_message_starts_there_and_leads_to_the_inbox(
        self, admin: httpx.AsyncClient
    ) -> None:
        words = "Plex moves to a new machine this weekend. " * 12
        await send(admin, title="Moving day!", message=words.strip())
        page = await admin.get("/", headers=PAGE)
        ((_, text),) = _banners(page.text).values()
        assert text.startswith("Moving day! Plex moves to a new machine")
        assert '… <a href="/notifications">Read it all</a>' in text
        assert len(text) < len(words)

    async def test_what_it_says_is_escaped(self, admin: httpx.AsyncClient) -> None:
        await send(admin, title="<b>Hi</b>", message="<script>alert(1)</script>")
        page = await admin.get("/", headers=PAGE)
        assert "<script>alert(1)</script>" not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text

    async def test_nobody_signed_out_sees_it(
        self, admin: httpx.AsyncClient, medianest: Started
    ) -> None:
        await send(admin)
        async with medianest.client() as stranger:
            login = await stranger.get("/login", headers=PAGE)
        assert _banners(login.text) == {}


class _Unplugged(Database):
    """A database whose connection can be pulled, as when its server goes away."""

    down = False

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[AsyncSession]:
        if self.down:
            raise ConnectionRefusedError("the database is not answering")
        async with super().unit_of_work() as session:
            yield session


class _Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.close()


class TestEnd:
    async def test_it_goes_when_it_ends_without_reading_again(
        self, db: Database, database_url: str
    ) -> None:
        now = utc_now()
        ending = await make_broadcast(database_url, expires_at=now + timedelta(hours=1))
        lasting = await make_broadcast(database_url)
        clock = _Clock(now)
        board = BroadcastBoard(db, MemoryBus(), clock=clock)
        await board.reload()
        assert {b.id for b in board.live()} == {ending.id, lasting.id}

        clock.now = now + timedelta(hours=1, seconds=1)

        assert [b.id for b in board.live()] == [lasting.id]

    async def test_ended_and_withdrawn_ones_are_never_read(
        self, db: Database, database_url: str
    ) -> None:
        now = utc_now()
        await make_broadcast(database_url, expires_at=now - timedelta(seconds=1))
        await make_broadcast(database_url, withdrawn_at=now)
        board = BroadcastBoard(db, MemoryBus())
        await board.reload()
        assert board.live() == []


class TestOtherProcesses:
    async def test_one_that_hears_nothing_reads_it_within_its_reload_period(
        self, admin: httpx.AsyncClient, db: Database
    ) -> None:
        # Its own in-process bus: like a process the sender's messages never reach.
        elsewhere = BroadcastBoard(db, MemoryBus(), reload_every=0.1)
        await elsewhere.start()
        try:
            sent = ok_data(await send(admin))
            shown = uuid.UUID(sent["id"])
            await until(lambda: [b.id for b in elsewhere.live()] == [shown])

            await withdraw(admin, sent["id"])
            await until(lambda: elsewhere.live() == [])
        finally:
            await elsewhere.stop()

    async def test_a_database_that_does_not_answer_keeps_what_was_read(
        self, database_url: str
    ) -> None:
        shown = await make_broadcast(database_url)
        database = _Unplugged(database_url)
        board = BroadcastBoard(database, MemoryBus())
        await board.reload()
        try:
            database.down = True
            with capture_logs() as logs:
                await board.reload()
                await board.reload()
                assert [b.id for b in board.live()] == [shown.id]
                database.down = False
                await board.reload()
        finally:
            await database.close()
        events = [entry["event"] for entry in logs]
        assert events == ["broadcasts.reload_failed", "broadcasts.reload_recovered"]

    async def test_through_redis_another_app_takes_it_down_at_once(
        self,
        make_settings: SettingsFactory,
        database_url: str,
        redis_url: str,
        redis_prefix: str,
    ) -> None:
        def app() -> FastAPI:
            return create_app(
                make_settings(
                    database_url=database_url, redis_url=redis_url, redis_prefix=redis_prefix
                )
            )

        async with started(app()) as here, started(app()) as there:
            # Far beyond this test: what reaches the other app comes through the bus.
            broadcasts_of(there).board.reload_every = 3600
            async with here.client() as admin, there.client() as alice:
                # After the first start: the first admin is made only in an empty database.
                await finish_first_run(admin)
                await make_user(database_url, username="alice")
                await sign_in(alice, "alice", PASSWORD)
                sent = ok_data(await send(admin))
                key = f"broadcast:{sent['id']}"

                async def shown_there() -> bool:
                    return key in await _banner_keys(alice)

                await until(shown_there)
                await withdraw(admin, sent["id"])

                async def gone_there() -> bool:
                    return key not in await _banner_keys(alice)

                await until(gone_there)
