"""The Uptime Kuma adapter against a fake Kuma (1.23 and 2.x) over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from medianest.core.errors import UpstreamTimeout, UpstreamUnavailable
from medianest.core.metrics import Metrics
from medianest.core.resilience import Breakers
from medianest.integrations.uptime_kuma.client import UptimeKumaClient
from medianest.integrations.uptime_kuma.errors import (
    UPTIME_KUMA,
    InvalidApiKey,
    InvalidSlug,
    MetricsKeyRefused,
    StatusPageNotFound,
    UptimeKumaFailed,
    UptimeKumaUnexpectedAnswer,
)
from medianest.integrations.uptime_kuma.schemas import DAY, MONTH, MonitorStatus
from medianest.integrations.uptime_kuma.upstream import UptimeKumaClients
from tests.conftest import SettingsFactory
from tests.fakes.flaky import FlakyUpstream
from tests.fakes.uptime_kuma import DOWN, MAINTENANCE, PENDING, UP, FakeUptimeKuma, new_api_key
from tests.fakes.uptime_kuma.wire import TimeFormat

THRESHOLD = 3
FAST = {
    "breaker_threshold": THRESHOLD,
    "breaker_cooldown": 5.0,
    "http_connect_timeout": 0.5,
    "http_read_timeout": 0.5,
}
AT = datetime(2025, 6, 1, 12, 0, 0, 123000, tzinfo=UTC)


@dataclass
class Rig:
    clients: UptimeKumaClients
    client: UptimeKumaClient
    breakers: Breakers

    async def breaker(self) -> str:
        return (await self.breakers.states())[UPTIME_KUMA]


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, FakeUptimeKuma]]:
    fakes = {"v1": FakeUptimeKuma("v1").start(), "v2": FakeUptimeKuma("v2").start()}
    yield fakes
    for fake in fakes.values():
        fake.stop()


@pytest.fixture(params=["v1", "v2"])
def kuma(request: pytest.FixtureRequest, servers: dict[str, FakeUptimeKuma]) -> FakeUptimeKuma:
    """A fake with a page "home": Plex (3, URL hidden) and Overseerr (4, URL shown)."""
    fake = servers[request.param]
    fake.reset()
    fake.healthy()
    fake.add_status_page("home", "Home services")
    fake.add_monitor("home", 3, "Plex", url="http://plex:32400/identity", send_url=False)
    fake.add_monitor("home", 4, "Overseerr", url="https://requests.example.com")
    return fake


@pytest.fixture
async def rig(make_settings: SettingsFactory, kuma: FakeUptimeKuma) -> AsyncIterator[Rig]:
    settings = make_settings(**FAST)
    metrics = Metrics()
    breakers = Breakers(settings, metrics)
    await breakers.start()
    clients = UptimeKumaClients(settings, breakers, metrics)
    yield Rig(clients, clients.client(kuma.url, kuma.api_key), breakers)
    await clients.aclose()
    await breakers.close()


class TestStatusPage:
    async def test_title_groups_and_monitors(self, rig: Rig, kuma: FakeUptimeKuma) -> None:
        page = await rig.client.status_page("home")

        assert page.title == "Home services"
        assert page.generation == (1 if kuma.mode == "v1" else 2)
        assert [(g.name, [m.name for m in g.monitors]) for g in page.groups] == [
            ("Media", ["Plex", "Overseerr"])
        ]
        # A URL only where the page is set to show it.
        assert [m.url for m in page.monitors] == [None, "https://requests.example.com"]

    async def test_incidents_in_either_shape(self, rig: Rig, kuma: FakeUptimeKuma) -> None:
        kuma.add_incident("home", "Disks", "Checking the disks.", style="danger")
        kuma.add_incident("home", "Overseerr", "Restarting.", style="info")

        page = await rig.client.status_page("home")

        # 1.23 pins one incident at a time, the latest; 2.x lists them newest first.
        expected = ["Overseerr"] if kuma.mode == "v1" else ["Overseerr", "Disks"]
        assert [i.title for i in page.incidents] == expected
        assert page.incidents[0].style == "info"
        assert page.incidents[0].created_date is not None

    async def test_no_incident_in_either_shape(self, rig: Rig) -> None:
        assert (await rig.client.status_page("home")).incidents == ()

    async def test_maintenance_in_progress(self, rig: Rig, kuma: FakeUptimeKuma) -> None:
        kuma.add_maintenance("home", "Disk swap", "Plex is off for an hour.")

        page = await rig.client.status_page("home")

        assert [(m.title, m.description) for m in page.maintenance] == [
            ("Disk swap", "Plex is off for an hour.")
        ]

    async def test_the_slug_is_sent_lower_cased(self, rig: Rig, kuma: FakeUptimeKuma) -> None:
        page = await rig.client.status_page(" Home ")

        assert page.config.slug == "home"
        assert kuma.calls == ["/api/status-page/home"]

    async def test_an_invalid_slug_is_refused_before_any_call(
        self, rig: Rig, kuma: FakeUptimeKuma
    ) -> None:
        with pytest.raises(InvalidSlug, match="my page"):
            await rig.client.status_page("my page")

        assert kuma.calls == []

    async def test_an_unknown_slug_is_not_found_naming_it(
        self, rig: Rig, kuma: FakeUptimeKuma
    ) -> None:
        for _ in range(THRESHOLD + 1):
            with pytest.raises(StatusPageNotFound) as missing:
                await rig.client.status_page("nope")

        assert missing.value.slug == "nope"
        assert '"nope"' in missing.value.message
        # Not an outage: the page is simply not there.
        assert await rig.breaker() == "closed"
        if kuma.mode == "v1":
            # 1.23 never answers it; its manifest's 404 tells.
            assert "/api/status-page/nope/manifest.json" in kuma.calls

    async def test_a_page_removed_since_is_not_found(self, rig: Rig, kuma: FakeUptimeKuma) -> None:
        await rig.client.status_page("home")
        kuma.remove_status_page("home")

        with pytest.raises(StatusPageNotFound):
            await rig.client.status_page("home")


class TestHeartbeats:
    async def test_beats_oldest_first_with_their_status_and_ping(
        self, rig: Rig, kuma: FakeUptimeKuma
    ) -> None:
        kuma.beat(3, UP, 42, at=AT)
        kuma.beat(3, PENDING, None, at=AT + timedelta(minutes=1))
        kuma.beat(4, MAINTENANCE, None, at=AT)
        kuma.beat(4, DOWN, None, at=AT - timedelta(minutes=1))

        found = await rig.client.heartbeats("home")

        assert [(b.status, b.ping) for b in found.of(3)] == [
            (MonitorStatus.UP, 42),
            (MonitorStatus.PENDING, None),
        ]
        assert [b.status.state for b in found.of(3)] == ["up", "degraded"]
        latest = found.latest(4)
        assert latest is not None and latest.status.state == "maintenance"
        assert [b.time for b in found.of(4)] == [AT - timedelta(minutes=1), AT]

    @pytest.mark.parametrize(
        ("style", "read"),
        [
            ("millis", AT),
            ("seconds", AT.replace(microsecond=0)),
            ("iso", AT),
        ],
    )
    async def test_times_are_utc_however_kuma_writes_them(
        self, rig: Rig, kuma: FakeUptimeKuma, style: TimeFormat, read: datetime
    ) -> None:
        kuma.set_time_format(style)
        kuma.beat(3, UP, 10, at=AT)

        latest = (await rig.client.heartbeats("home")).latest(3)

        assert latest is not None and latest.time == read

    async def test_uptime_of_each_monitor(self, rig: Rig, kuma: FakeUptimeKuma) -> None:
        kuma.beat(3, UP, 10)
        kuma.set_uptime(3, 0.9987)
        kuma.set_uptime(4, 0.95)

        found = await rig.client.heartbeats("home")

        assert found.uptime_24h == {3: 0.9987, 4: 0.95}

    async def test_the_latest_beats_only(self, rig: Rig, kuma: FakeUptimeKuma) -> None:
        for n in range(120):
            kuma.beat(3, UP, n, at=AT + timedelta(minutes=n))

        beats = (await rig.client.heartbeats("home")).of(3)

        kept = 50 if kuma.mode == "v1" else 100
        assert [b.ping for b in beats] == list(range(120 - kept, 120))

    async def test_a_large_page_is_read_whole(self, rig: Rig, kuma: FakeUptimeKuma) -> None:
        kuma.populate("big", monitors=300, beats=100)

        page = await rig.client.status_page("big")
        found = await rig.client.heartbeats("big")

        assert len(page.monitors) == 300
        assert all(len(found.of(m.id)) == (50 if kuma.mode == "v1" else 100) for m in page.monitors)
        latest = {m.id: found.latest(m.id) for m in page.monitors}
        down = [i for i, beat in latest.items() if beat and beat.status is MonitorStatus.DOWN]
        assert down == [m.id for m in page.monitors if m.id % 50 == 0]


class TestMetrics:
    async def test_every_monitor_with_the_right_key(self, rig: Rig, kuma: FakeUptimeKuma) -> None:
        kuma.beat(3, UP, 42)
        kuma.beat(4, DOWN, None)
        kuma.set_uptime(3, 0.99, month=0.98)
        kuma.set_cert(4, 61)

        snapshot = await rig.client.metrics()

        assert snapshot.version == kuma.version
        plex, overseerr = snapshot.find(3, "Plex"), snapshot.find(4, "Overseerr")
        assert plex is not None and overseerr is not None
        assert (plex.status, plex.response_time_ms) == (MonitorStatus.UP, 42)
        assert (overseerr.status, overseerr.response_time_ms) == (MonitorStatus.DOWN, None)
        assert overseerr.cert_days_remaining == 61
        if kuma.mode == "v2":
            assert (plex.monitor_id, plex.uptime[DAY], plex.uptime[MONTH]) == (3, 0.99, 0.98)
            assert plex.average_response_ms[DAY] == pytest.approx(42)
        else:
            assert (plex.monitor_id, plex.uptime) == (None, {})

    async def test_monitors_on_no_page_are_listed_too(self, rig: Rig, kuma: FakeUptimeKuma) -> None:
        kuma.add_monitor(None, 9, "Backups", type="push")
        kuma.beat(9, UP)

        snapshot = await rig.client.metrics()

        backups = snapshot.by_name("Backups")
        assert backups is not None and (backups.type, backups.status) == ("push", MonitorStatus.UP)

    async def test_a_wrong_key_is_refused_as_misconfiguration(
        self, rig: Rig, kuma: FakeUptimeKuma
    ) -> None:
        wrong = rig.clients.client(kuma.url, new_api_key(2))

        for _ in range(THRESHOLD + 1):
            with pytest.raises(MetricsKeyRefused) as refused:
                await wrong.metrics()

        assert refused.value.misconfigured and refused.value.key_sent
        assert await rig.breaker() == "closed"

    async def test_no_key_where_kuma_asks_for_one(self, rig: Rig, kuma: FakeUptimeKuma) -> None:
        keyless = rig.clients.client(kuma.url)

        with pytest.raises(MetricsKeyRefused) as refused:
            await keyless.metrics()

        assert not refused.value.key_sent
        assert "asks for an API key" in refused.value.message

    async def test_no_key_where_kuma_has_authentication_off(
        self, rig: Rig, kuma: FakeUptimeKuma
    ) -> None:
        kuma.set_api_key(None)
        kuma.beat(3, UP, 5)

        snapshot = await rig.clients.client(kuma.url).metrics()

        assert snapshot.by_name("Plex") is not None

    async def test_a_key_that_cannot_be_kumas_is_refused_before_any_call(
        self, rig: Rig, kuma: FakeUptimeKuma
    ) -> None:
        with pytest.raises(InvalidApiKey):
            rig.clients.client(kuma.url, "my password")

        assert kuma.calls == []


class TestFailures:
    async def test_down_opens_the_breaker_and_then_fails_fast(
        self, rig: Rig, kuma: FakeUptimeKuma
    ) -> None:
        kuma.down()
        for _ in range(THRESHOLD):
            with pytest.raises(UpstreamUnavailable):
                await rig.client.heartbeats("home")

        kuma.healthy()
        with pytest.raises(UpstreamUnavailable):
            await rig.client.heartbeats("home")

        assert await rig.breaker() == "opened"
        assert kuma.calls == []

    async def test_slow_is_a_timeout(self, rig: Rig, kuma: FakeUptimeKuma) -> None:
        kuma.slow(1.5)

        with pytest.raises(UpstreamTimeout):
            await rig.client.heartbeats("home")

    async def test_a_slow_page_that_exists_stays_a_timeout(
        self, rig: Rig, kuma: FakeUptimeKuma
    ) -> None:
        kuma.slow(1.5)

        with pytest.raises(UpstreamTimeout):
            await rig.client.status_page("home")

    async def test_a_busy_database_is_unavailable(self, rig: Rig, kuma: FakeUptimeKuma) -> None:
        kuma.failing(503)

        with pytest.raises(UpstreamUnavailable) as failed:
            await rig.client.status_page("home")

        assert not failed.value.misconfigured

    async def test_kumas_own_error_is_not_a_credentials_problem(
        self, rig: Rig, kuma: FakeUptimeKuma
    ) -> None:
        kuma.failing(403, "Cannot read properties of null")

        with pytest.raises(UptimeKumaFailed) as failed:
            await rig.client.heartbeats("home")

        assert failed.value.reason == "Cannot read properties of null"
        assert not failed.value.misconfigured

    async def test_something_else_at_the_address_is_an_unexpected_answer(self, rig: Rig) -> None:
        other = FlakyUpstream().start()
        try:
            client = rig.clients.client(other.url)
            with pytest.raises(UptimeKumaUnexpectedAnswer) as unexpected:
                await client.status_page("home")
            with pytest.raises(UptimeKumaUnexpectedAnswer):
                await client.metrics()
        finally:
            other.stop()

        assert unexpected.value.misconfigured
