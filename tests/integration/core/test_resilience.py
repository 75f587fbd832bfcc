"""Breakers, retries and failure translation against a real flaky upstream over HTTP."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from structlog.testing import capture_logs

from medianest import __version__
from medianest.config import Settings
from medianest.core.errors import UpstreamTimeout, UpstreamUnavailable
from medianest.core.http_client import create_http_client
from medianest.core.metrics import Metrics
from medianest.core.resilience import Breakers, CircuitOpen, Upstream, upstream_deadline
from tests.conftest import SettingsFactory
from tests.fakes.flaky import FlakyUpstream
from tests.support.server import free_port

THRESHOLD = 3
COOLDOWN = 0.3
FAST = {
    "breaker_threshold": THRESHOLD,
    "breaker_cooldown": COOLDOWN,
    "http_connect_timeout": 0.5,
    "http_read_timeout": 0.3,
}


class Rig:
    """What one MediaNest process holds for one upstream: breakers, client, `Upstream`."""

    def __init__(self, settings: Settings, base_url: str) -> None:
        self.settings = settings
        self.metrics = Metrics()
        self.breakers = Breakers(settings, self.metrics)
        self.client = create_http_client(settings, base_url=base_url)
        self.upstream = Upstream("flaky", self.client, self.breakers, self.metrics)

    async def state(self) -> str:
        return (await self.breakers.states())["flaky"]

    def sample(self, name: str, **labels: str) -> float | None:
        text = self.metrics.render().decode()
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name and sample.labels == {"service": "flaky", **labels}:
                    return float(sample.value)
        return None


RigFactory = Callable[..., Awaitable[Rig]]


@pytest.fixture(scope="module")
def flaky_server() -> Iterator[FlakyUpstream]:
    fake = FlakyUpstream().start()
    yield fake
    fake.stop()


@pytest.fixture
def flaky(flaky_server: FlakyUpstream) -> FlakyUpstream:
    flaky_server.reset()
    return flaky_server.start()


@pytest.fixture(params=["memory", "redis"])
def backend(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Settings for the in-memory breakers, or for breakers shared in Redis."""
    if request.param == "memory":
        return {}
    return {
        "redis_url": request.getfixturevalue("redis_url"),
        "redis_prefix": request.getfixturevalue("redis_prefix"),
    }


@pytest.fixture
async def make_rig(
    make_settings: SettingsFactory, flaky: FlakyUpstream
) -> AsyncIterator[RigFactory]:
    rigs: list[Rig] = []

    async def make(*, base_url: str | None = None, **overrides: Any) -> Rig:
        rig = Rig(make_settings(**{**FAST, **overrides}), base_url or flaky.url)
        rigs.append(rig)
        await rig.breakers.start()
        return rig

    yield make
    for rig in rigs:
        await rig.client.aclose()
        await rig.breakers.close()


async def open_breaker(rig: Rig, flaky: FlakyUpstream) -> None:
    flaky.failing(500)
    for _ in range(THRESHOLD):
        with pytest.raises(UpstreamUnavailable):
            await rig.upstream.get("/library")
    assert await rig.state() == "opened"


class TestCircuitBreaker:
    async def test_repeated_failures_open_it_and_calls_then_fail_fast_without_network(
        self, make_rig: RigFactory, flaky: FlakyUpstream, backend: dict[str, Any]
    ) -> None:
        rig = await make_rig(**backend)
        await open_breaker(rig, flaky)
        assert flaky.hits == THRESHOLD

        started = time.perf_counter()
        with pytest.raises(UpstreamUnavailable) as caught:
            await rig.upstream.get("/library")
        elapsed = time.perf_counter() - started

        assert elapsed < 0.05
        assert isinstance(caught.value, CircuitOpen)
        assert caught.value.status == 503
        assert caught.value.code == "SERVICE_UNAVAILABLE"
        assert caught.value.retry_after == 1
        assert not caught.value.misconfigured
        assert flaky.hits == THRESHOLD

    async def test_after_the_cooldown_one_call_is_let_through_and_its_success_closes_it(
        self, make_rig: RigFactory, flaky: FlakyUpstream, backend: dict[str, Any]
    ) -> None:
        rig = await make_rig(**backend)
        await open_breaker(rig, flaky)
        flaky.healthy()
        await asyncio.sleep(COOLDOWN + 0.05)

        response = await rig.upstream.get("/library")

        assert response.status_code == 200
        assert flaky.hits == THRESHOLD + 1
        assert await rig.state() == "closed"
        assert (await rig.upstream.get("/library")).status_code == 200
        assert flaky.hits == THRESHOLD + 2

    async def test_a_failure_while_half_open_opens_it_again(
        self, make_rig: RigFactory, flaky: FlakyUpstream, backend: dict[str, Any]
    ) -> None:
        rig = await make_rig(**backend)
        await open_breaker(rig, flaky)
        await asyncio.sleep(COOLDOWN + 0.05)

        with pytest.raises(UpstreamUnavailable) as trial:
            await rig.upstream.get("/library")
        assert not isinstance(trial.value, CircuitOpen)
        assert flaky.hits == THRESHOLD + 1

        with pytest.raises(CircuitOpen):
            await rig.upstream.get("/library")
        assert flaky.hits == THRESHOLD + 1
        assert await rig.state() == "opened"

    async def test_a_success_between_failures_keeps_it_closed(
        self, make_rig: RigFactory, flaky: FlakyUpstream, backend: dict[str, Any]
    ) -> None:
        rig = await make_rig(**backend)
        for _ in range(3):
            flaky.failing(500, times=THRESHOLD - 1)
            for _ in range(THRESHOLD - 1):
                with pytest.raises(UpstreamUnavailable):
                    await rig.upstream.get("/library")
            assert (await rig.upstream.get("/library")).status_code == 200

        assert await rig.state() == "closed"
        assert flaky.hits == 3 * THRESHOLD


class TestSharedBreakers:
    async def test_a_breaker_opened_by_one_process_rejects_calls_in_another(
        self, make_rig: RigFactory, flaky: FlakyUpstream, redis_url: str, redis_prefix: str
    ) -> None:
        first = await make_rig(redis_url=redis_url, redis_prefix=redis_prefix)
        second = await make_rig(redis_url=redis_url, redis_prefix=redis_prefix)
        await open_breaker(first, flaky)

        with pytest.raises(CircuitOpen):
            await second.upstream.get("/library")

        assert flaky.hits == THRESHOLD
        assert await second.state() == "opened"
        assert second.sample("medianest_circuit_breaker_state") == 2.0

    async def test_installs_with_their_own_prefix_keep_their_own_breakers(
        self, make_rig: RigFactory, flaky: FlakyUpstream, redis_url: str, redis_prefix: str
    ) -> None:
        ours = await make_rig(redis_url=redis_url, redis_prefix=redis_prefix)
        theirs = await make_rig(redis_url=redis_url, redis_prefix=f"{redis_prefix}-other")
        await open_breaker(ours, flaky)
        flaky.healthy()

        assert (await theirs.upstream.get("/library")).status_code == 200
        assert await theirs.state() == "closed"

    async def test_an_unreachable_redis_lets_calls_through_unguarded(
        self, make_rig: RigFactory, flaky: FlakyUpstream
    ) -> None:
        with capture_logs() as logs:
            rig = await make_rig(redis_url=f"redis://127.0.0.1:{free_port()}/0")
            for _ in range(THRESHOLD + 1):
                assert (await rig.upstream.get("/library")).status_code == 200
            flaky.failing(500)
            with pytest.raises(UpstreamUnavailable) as caught:
                await rig.upstream.get("/library")

        assert not isinstance(caught.value, CircuitOpen)
        assert flaky.hits == THRESHOLD + 2
        assert [e["event"] for e in logs].count("upstream.breaker_store_down") == 1


class TestRetries:
    async def test_a_read_that_fails_twice_returns_the_third_answer(
        self, make_rig: RigFactory, flaky: FlakyUpstream
    ) -> None:
        rig = await make_rig()
        flaky.failing(503, times=2)

        response = await rig.upstream.get("/library")

        assert response.status_code == 200
        assert response.json()["hit"] == 3
        assert flaky.hits == 3

    async def test_a_write_is_sent_once(self, make_rig: RigFactory, flaky: FlakyUpstream) -> None:
        rig = await make_rig()
        flaky.failing(503, times=2)

        with pytest.raises(UpstreamUnavailable):
            await rig.upstream.post("/request", json={"mediaId": 1})

        assert flaky.hits == 1

    async def test_a_write_declared_idempotent_is_retried(
        self, make_rig: RigFactory, flaky: FlakyUpstream
    ) -> None:
        rig = await make_rig()
        flaky.failing(502, times=2)

        response = await rig.upstream.post("/search", idempotent=True)

        assert response.status_code == 200
        assert flaky.hits == 3

    async def test_an_internal_server_error_is_not_retried(
        self, make_rig: RigFactory, flaky: FlakyUpstream
    ) -> None:
        rig = await make_rig()
        flaky.failing(500, times=1)

        with pytest.raises(UpstreamUnavailable):
            await rig.upstream.get("/library")

        assert flaky.hits == 1

    async def test_a_slow_read_is_tried_twice_then_times_out(
        self, make_rig: RigFactory, flaky: FlakyUpstream
    ) -> None:
        rig = await make_rig()
        flaky.slow(2.0)

        with pytest.raises(UpstreamTimeout):
            await rig.upstream.get("/library")

        assert flaky.hits == 2

    async def test_a_retried_call_counts_once_against_the_breaker(
        self, make_rig: RigFactory, flaky: FlakyUpstream
    ) -> None:
        rig = await make_rig()
        flaky.failing(503)
        for _ in range(THRESHOLD - 1):
            with pytest.raises(UpstreamUnavailable):
                await rig.upstream.get("/library")

        assert flaky.hits == 3 * (THRESHOLD - 1)
        assert await rig.state() == "closed"


class TestFailureTranslation:
    async def test_a_timeout_becomes_upstream_timeout(
        self, make_rig: RigFactory, flaky: FlakyUpstream
    ) -> None:
        rig = await make_rig()
        flaky.slow(2.0)

        with pytest.raises(UpstreamTimeout) as caught:
            await rig.upstream.post("/request")

        assert caught.value.status == 504
        assert caught.value.service == "flaky"
        assert flaky.hits == 1

    @pytest.mark.parametrize("status", [401, 403])
    async def test_rejected_credentials_are_misconfigured_and_never_open_the_breaker(
        self, make_rig: RigFactory, flaky: FlakyUpstream, status: int
    ) -> None:
        rig = await make_rig()
        flaky.unauthorised(status)

        for _ in range(THRESHOLD + 2):
            with pytest.raises(UpstreamUnavailable) as caught:
                await rig.upstream.get("/library")
            assert caught.value.misconfigured
            assert "credentials" in caught.value.message

        assert flaky.hits == THRESHOLD + 2
        assert await rig.state() == "closed"

    async def test_a_refused_connection_becomes_upstream_unavailable(
        self, make_rig: RigFactory
    ) -> None:
        rig = await make_rig(base_url=f"http://127.0.0.1:{free_port()}")

        with pytest.raises(UpstreamUnavailable) as caught:
            await rig.upstream.get("/library")

        assert caught.value.status == 503
        assert not caught.value.misconfigured

    async def test_an_upstream_that_goes_down_and_comes_back_is_used_again(
        self, make_rig: RigFactory, flaky: FlakyUpstream
    ) -> None:
        rig = await make_rig()
        assert (await rig.upstream.get("/library")).status_code == 200

        flaky.down()
        with pytest.raises(UpstreamUnavailable):
            await rig.upstream.get("/library")
        flaky.healthy()

        assert (await rig.upstream.get("/library")).status_code == 200

    async def test_other_client_errors_are_returned_to_the_adapter(
        self, make_rig: RigFactory, flaky: FlakyUpstream
    ) -> None:
        rig = await make_rig()
        flaky.failing(404)

        for _ in range(THRESHOLD + 1):
            assert (await rig.upstream.get("/library/metadata/999")).status_code == 404

        assert await rig.state() == "closed"


class TestDeadline:
    """The calls made within one deadline (one web request) wait on the upstream together at most
    that long; the read timeout is set far above it, so only the deadline can end them in time."""

    DEADLINE = 0.5
    # Room for the failure to be recorded: a behaviour bound, not a benchmark.
    MARGIN = 1.0

    async def test_a_slow_read_and_its_retry_wait_no_longer_than_the_deadline(
        self, make_rig: RigFactory, flaky: FlakyUpstream, backend: dict[str, Any]
    ) -> None:
        rig = await make_rig(http_read_timeout=5.0, **backend)
        flaky.slow(30.0)

        started = time.perf_counter()
        with upstream_deadline(self.DEADLINE), pytest.raises(UpstreamTimeout) as caught:
            await rig.upstream.get("/library")
        elapsed = time.perf_counter() - started

        assert elapsed < self.DEADLINE + self.MARGIN
        assert caught.value.status == 504
        assert caught.value.code == "UPSTREAM_TIMEOUT"
        assert flaky.hits == 1

    async def test_running_out_of_time_counts_against_the_breaker(
        self, make_rig: RigFactory, flaky: FlakyUpstream, backend: dict[str, Any]
    ) -> None:
        rig = await make_rig(http_read_timeout=5.0, **backend)
        flaky.slow(30.0)

        for _ in range(THRESHOLD):
            with upstream_deadline(self.DEADLINE), pytest.raises(UpstreamTimeout):
                await rig.upstream.get("/library")

        assert await rig.state() == "opened"
        with upstream_deadline(self.DEADLINE), pytest.raises(CircuitOpen):
            await rig.upstream.get("/library")
        assert flaky.hits == THRESHOLD
        assert rig.sample("medianest_upstream_calls_total", outcome="timeout") == THRESHOLD

    async def test_once_the_time_is_spent_further_calls_are_not_sent_nor_counted(
        self, make_rig: RigFactory, flaky: FlakyUpstream
    ) -> None:
        rig = await make_rig(http_read_timeout=5.0)
        flaky.slow(30.0)

        with upstream_deadline(self.DEADLINE):
            for _ in range(THRESHOLD + 1):
                with pytest.raises(UpstreamTimeout):
                    await rig.upstream.get("/library")

        assert flaky.hits == 1
        assert await rig.state() == "closed"

    async def test_a_block_without_a_deadline_waits_the_read_timeout(
        self, make_rig: RigFactory, flaky: FlakyUpstream
    ) -> None:
        rig = await make_rig(http_read_timeout=5.0)
        flaky.slow(2 * self.DEADLINE)

        with upstream_deadline(self.DEADLINE), upstream_deadline(None):
            response = await rig.upstream.get("/library")

        assert response.status_code == 200


class TestMetrics:
    async def test_call_outcomes_and_breaker_state_are_exported(
        self, make_rig: RigFactory, flaky: FlakyUpstream
    ) -> None:
        rig = await make_rig()
        calls = "medianest_upstream_calls_total"
        state = "medianest_circuit_breaker_state"
        assert rig.sample(state) == 0.0

        assert (await rig.upstream.get("/library")).status_code == 200
        flaky.slow(2.0)
        with pytest.raises(UpstreamTimeout):
            await rig.upstream.post("/request")
        flaky.failing(500)
        for _ in range(THRESHOLD - 1):
            with pytest.raises(UpstreamUnavailable):
                await rig.upstream.get("/library")
        with pytest.raises(CircuitOpen):
            await rig.upstream.get("/library")

        assert rig.sample(calls, outcome="ok") == 1.0
        assert rig.sample(calls, outcome="timeout") == 1.0
        assert rig.sample(calls, outcome="error") == THRESHOLD - 1
        assert rig.sample(calls, outcome="rejected") == 1.0
        assert rig.sample(state) == 2.0

        flaky.healthy()
        await asyncio.sleep(COOLDOWN + 0.05)
        assert (await rig.upstream.get("/library")).status_code == 200
        assert rig.sample(state) == 0.0
        assert rig.sample(calls, outcome="ok") == 2.0


class TestLogs:
    async def test_an_outage_logs_one_line_when_it_starts_and_one_when_it_ends(
        self, make_rig: RigFactory, flaky: FlakyUpstream, backend: dict[str, Any]
    ) -> None:
        rig = await make_rig(**backend)
        with capture_logs() as logs:
            await open_breaker(rig, flaky)
            with pytest.raises(CircuitOpen):
                await rig.upstream.get("/library")
            await asyncio.sleep(COOLDOWN + 0.05)
            with pytest.raises(UpstreamUnavailable):
                await rig.upstream.get("/library")
            flaky.healthy()
            await asyncio.sleep(COOLDOWN + 0.05)
            await rig.upstream.get("/library")

        events = [e["event"] for e in logs if e["event"].startswith("upstream.circuit_")]
        assert [e for e in events if e != "upstream.circuit_changed"] == [
            "upstream.circuit_opened",
            "upstream.circuit_closed",
        ]
        opened = next(e for e in logs if e["event"] == "upstream.circuit_opened")
        assert opened["service"] == "flaky"
        assert opened["log_level"] == "warning"

    async def test_tokens_in_query_strings_never_reach_the_logs(
        self, make_rig: RigFactory, flaky: FlakyUpstream
    ) -> None:
        rig = await make_rig()
        flaky.failing(503)

        with capture_logs() as logs, pytest.raises(UpstreamUnavailable):
            await rig.upstream.get(
                "/library/sections?X-Plex-Token=plex-secret", params={"apikey": "kuma-secret"}
            )

        assert {"upstream.retrying", "upstream.request_failed"} <= {e["event"] for e in logs}
        assert all(e.get("path") == "/library/sections" for e in logs if "path" in e)
        assert "secret" not in repr(logs)


class TestClient:
    async def test_the_upstream_sees_medianest_and_its_version(
        self, make_rig: RigFactory, flaky: FlakyUpstream
    ) -> None:
        rig = await make_rig()

        await rig.upstream.get("/identity")

        assert flaky.last_headers["user-agent"].startswith(f"MediaNest/{__version__} ")

    async def test_connections_are_kept_alive_between_calls(
        self, make_rig: RigFactory, flaky: FlakyUpstream
    ) -> None:
        rig = await make_rig()
        peers = set()
        for _ in range(3):
            response = await rig.upstream.get("/library")
            stream = response.extensions["network_stream"]
            peers.add(stream.get_extra_info("client_addr"))

        assert len(peers) == 1
        assert response.http_version == "HTTP/1.1"
