"""Home and Help as a new installation shows them: the first administrator's setup checklist, which
goes away once everything is done, and no part that is not built yet."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator

import pytest

from medianest.core.job_queue import JobQueue
from medianest.core.jobs import JobStatus
from tests.conftest import SettingsFactory
from tests.fakes.overseerr import FakeOverseerr
from tests.fakes.plex_server import FakePlexServer
from tests.integration.web.conftest import MEMBER_PASSWORD, AppFactory, Browser, browse


def steps(html: str) -> list[tuple[str, str]]:
    """(title, state) of each checklist step."""
    found = re.findall(r'<li class="setup-step is-(\w+)">.*?<h3>([^<]+?) <span', html, re.S)
    return [(title, state) for state, title in found]


async def sync_library(browser: Browser) -> None:
    started = await browser.call("POST", "/admin/plex/sync", {"full": True})
    queue: JobQueue = browser.app.state.platform.queue
    job_id = uuid.UUID(started["jobId"])
    async with asyncio.timeout(30):
        while True:
            job = await queue.get(job_id)
            if job is not None and job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
                break
            await asyncio.sleep(0.05)
    assert job.status == JobStatus.SUCCEEDED, job.error


@pytest.fixture
def fake(plex_server: FakePlexServer) -> FakePlexServer:
    return plex_server


@pytest.fixture
def overseerr() -> Iterator[FakeOverseerr]:
    fake = FakeOverseerr().start()
    yield fake
    fake.stop()


class TestSetupChecklist:
    async def test_the_first_admin_is_shown_what_is_left_and_where_to_do_it(
        self, make_app: AppFactory
    ) -> None:
        async with browse(make_app()) as browser:
            await browser.set_up_admin()
            home = await browser.page("/")

        assert steps(home.text) == [
            ("Choose your own password", "done"),
            ("Connect your Plex server", "todo"),
            ("Index the library", "todo"),
            ("Connect Overseerr for requests", "todo"),
            ("Invite people", "todo"),
        ]
        assert "1 of 5 done" in home.text
        assert re.search(
            r'<a class="button button-primary" href="/admin/plex">Connect Plex', home.text
        )
        assert "Waiting for the Plex server" in home.text
        assert "<code>http://testserver</code>" in home.text  # the address to send people
        assert "Coming soon" not in home.text

    async def test_it_goes_away_once_plex_and_overseerr_are_connected_and_someone_joined(
        self, plex_settings: SettingsFactory, fake: FakePlexServer, overseerr: FakeOverseerr
    ) -> None:
        from medianest.app import create_app

        settings = plex_settings(overseerr_url=overseerr.url, overseerr_api_key=overseerr.api_key)
        async with browse(create_app(settings)) as browser:
            await browser.set_up_admin()
            connected = await browser.page("/")
            await sync_library(browser)
            synced = await browser.page("/")
            await browser.add_member("bob")
            done = await browser.page("/")

        assert [state for _, state in steps(connected.text)] == [
            "done",
            "done",
            "todo",
            "done",
            "todo",
        ]
        assert "Waiting for the Plex server" not in connected.text
        assert [state for _, state in steps(synced.text)] == [
            "done",
            "done",
            "done",
            "done",
            "todo",
        ]
        assert steps(done.text) == []
        assert "Set up MediaNest" not in done.text
        assert "What would you like to do?" in done.text

    async def test_a_member_never_sees_it(self, make_app: AppFactory) -> None:
        async with browse(make_app()) as browser:
            await browser.add_member("bob")
            await browser.sign_in("bob", MEMBER_PASSWORD)
            home = await browser.page("/")

        assert home.status_code == 200
        assert steps(home.text) == []
        assert "Waiting for the Plex server" not in home.text


class TestNothingUnbuilt:
    @pytest.mark.parametrize("path", ["/", "/help"])
    async def test_parts_not_built_yet_are_not_shown(self, make_app: AppFactory, path: str) -> None:
        async with browse(make_app()) as browser:
            await browser.set_up_admin()
            page = await browser.page(path)

        assert page.status_code == 200
        assert "Coming soon" not in page.text
        assert "Download a YouTube playlist" not in page.text
