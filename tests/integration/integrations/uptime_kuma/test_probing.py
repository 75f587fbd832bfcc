"""Trying an Uptime Kuma address, slugs and key before they are saved: each failure named."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from medianest.core.metrics import Metrics
from medianest.core.resilience import Breakers
from medianest.integrations.uptime_kuma.client import UptimeKumaClient
from medianest.integrations.uptime_kuma.errors import ProbeFailure, UptimeKumaProbeFailed
from medianest.integrations.uptime_kuma.upstream import UptimeKumaClients
from tests.conftest import SettingsFactory
from tests.fakes.flaky import FlakyUpstream
from tests.fakes.uptime_kuma import UP, FakeUptimeKuma, new_api_key
from tests.support.server import free_port, serve

FAST = {"http_connect_timeout": 0.5, "http_read_timeout": 0.5, "breaker_threshold": 2}


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, FakeUptimeKuma]]:
    fakes = {"v1": FakeUptimeKuma("v1").start(), "v2": FakeUptimeKuma("v2").start()}
    yield fakes
    for fake in fakes.values():
        fake.stop()


@pytest.fixture(params=["v1", "v2"])
def kuma(request: pytest.FixtureRequest, servers: dict[str, FakeUptimeKuma]) -> FakeUptimeKuma:
    fake = servers[request.param]
    fake.reset()
    fake.healthy()
    fake.add_status_page("home", "Home services")
    fake.add_monitor("home", 3, "Plex")
    fake.beat(3, UP, 12)
    return fake


@pytest.fixture
async def clients(make_settings: SettingsFactory) -> AsyncIterator[UptimeKumaClients]:
    settings = make_settings(**FAST)
    metrics = Metrics()
    breakers = Breakers(settings, metrics)
    await breakers.start()
    found = UptimeKumaClients(settings, breakers, metrics)
    yield found
    await found.aclose()
    await breakers.close()


async def _everything(probe: UptimeKumaClient, slug: str = "home") -> None:
    await probe.status_page(slug)
    await probe.heartbeats(slug)
    await probe.metrics()


async def failure(
    clients: UptimeKumaClients, url: str, key: str | None, slug: str = "home"
) -> UptimeKumaProbeFailed:
    async with clients.probing(url, key) as probe:
        with pytest.raises(UptimeKumaProbeFailed) as failed:
            await _everything(probe, slug)
    return failed.value


class TestProbing:
    async def test_a_working_kuma_answers_every_call(
        self, clients: UptimeKumaClients, kuma: FakeUptimeKuma
    ) -> None:
        async with clients.probing(kuma.url, kuma.api_key) as probe:
            page = await probe.status_page("home")
            beats = await probe.heartbeats("home")
            snapshot = await probe.metrics()

        assert (page.title, page.generation) == ("Home services", int(kuma.mode[1]))
        assert beats.latest(3) is not None
        assert snapshot.version == kuma.version

    async def test_nothing_listening_is_unreachable(
        self, clients: UptimeKumaClients, kuma: FakeUptimeKuma
    ) -> None:
        found = await failure(clients, f"http://127.0.0.1:{free_port()}", kuma.api_key)

        assert (found.failure, found.failure.answered) == (ProbeFailure.UNREACHABLE, False)
        assert "3001" in found.message

    async def test_no_answer_in_time_is_a_timeout(
        self, clients: UptimeKumaClients, kuma: FakeUptimeKuma
    ) -> None:
        kuma.slow(1.5)

        found = await failure(clients, kuma.url, kuma.api_key)

        assert found.failure is ProbeFailure.TIMEOUT

    async def test_an_unknown_status_page_is_named(
        self, clients: UptimeKumaClients, kuma: FakeUptimeKuma
    ) -> None:
        found = await failure(clients, kuma.url, kuma.api_key, slug="Lab")

        assert (found.failure, found.slug, found.http_status) == (
            ProbeFailure.STATUS_PAGE_NOT_FOUND,
            "lab",
            404,
        )
        assert 'no status page "lab"' in found.message

    async def test_a_wrong_key_is_refused(
        self, clients: UptimeKumaClients, kuma: FakeUptimeKuma
    ) -> None:
        found = await failure(clients, kuma.url, new_api_key(7))

        assert (found.failure, found.http_status) == (ProbeFailure.KEY_REFUSED, 401)

    async def test_a_missing_key_is_asked_for(
        self, clients: UptimeKumaClients, kuma: FakeUptimeKuma
    ) -> None:
        found = await failure(clients, kuma.url, None)

        assert found.failure is ProbeFailure.KEY_REQUIRED

    async def test_kuma_failing_is_a_server_error(
        self, clients: UptimeKumaClients, kuma: FakeUptimeKuma
    ) -> None:
        kuma.failing(503)

        found = await failure(clients, kuma.url, kuma.api_key)

        assert (found.failure, found.http_status) == (ProbeFailure.SERVER_ERROR, 503)

    async def test_probing_leaves_the_breaker_alone(
        self, clients: UptimeKumaClients, kuma: FakeUptimeKuma
    ) -> None:
        working = clients.client(kuma.url, kuma.api_key)
        kuma.down()
        for _ in range(FAST["breaker_threshold"] + 1):
            await failure(clients, kuma.url, kuma.api_key)
        kuma.healthy()

        assert (await working.status_page("home")).title == "Home services"


class TestSomethingElse:
    @pytest.fixture
    def other(self) -> Iterator[FlakyUpstream]:
        server = FlakyUpstream().start()
        yield server
        server.stop()

    async def test_a_json_answer_that_is_not_kumas(
        self, clients: UptimeKumaClients, other: FlakyUpstream
    ) -> None:
        found = await failure(clients, other.url, None)

        assert (found.failure, found.failure.answered) == (ProbeFailure.NOT_UPTIME_KUMA, True)

    async def test_a_foreign_not_found(
        self, clients: UptimeKumaClients, other: FlakyUpstream
    ) -> None:
        other.failing(404)

        found = await failure(clients, other.url, None)

        assert (found.failure, found.http_status) == (ProbeFailure.NOT_UPTIME_KUMA, 404)

    async def test_a_redirect_to_a_login_page(self, clients: UptimeKumaClients) -> None:
        async def to_login(request: Request) -> Response:
            return RedirectResponse("/login?next=/", status_code=302)

        app = Starlette(routes=[Route("/{path:path}", to_login)])
        with serve(app) as server:
            found = await failure(clients, server.url, None)

        assert (found.failure, found.http_status) == (ProbeFailure.REDIRECTED, 302)
