"""The fake Uptime Kuma answers as reference/upstream-apis.md §4 and Kuma's code say a real one
does (plain httpx)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.fakes.uptime_kuma import DOWN, UP, FakeUptimeKuma

AT = datetime(2025, 6, 1, 12, 0, 5, 456000, tzinfo=UTC)


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
    fake.add_monitor("home", 4, "Overseerr", url="https://requests.example.com")
    return fake


@pytest.fixture
def http(kuma: FakeUptimeKuma) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=kuma.url, timeout=5) as client:
        yield client


def metrics(
    kuma: FakeUptimeKuma, http: httpx.Client
) -> dict[str, list[tuple[dict[str, str], float]]]:
    answer = http.get("/metrics", auth=("anyone", kuma.api_key or ""))
    assert answer.status_code == 200
    return {
        family.name: [(s.labels, s.value) for s in family.samples]
        for family in text_string_to_metric_families(answer.text)
    }


class TestStatusPage:
    def test_v1_carries_incident_and_v2_incidents(
        self, kuma: FakeUptimeKuma, http: httpx.Client
    ) -> None:
        kuma.add_incident("home", "Disks", "Checking.")

        body = http.get("/api/status-page/home").json()

        if kuma.mode == "v1":
            assert "incidents" not in body
            assert body["incident"]["title"] == "Disks"
        else:
            assert "incident" not in body
            assert [i["title"] for i in body["incidents"]] == ["Disks"]
        assert body["config"]["title"] == "Home services"

    def test_a_monitors_url_is_sent_only_when_the_page_shows_it(
        self, kuma: FakeUptimeKuma, http: httpx.Client
    ) -> None:
        body = http.get("/api/status-page/home").json()

        assert body["publicGroupList"][0]["monitorList"] == [
            {"id": 3, "name": "Plex", "sendUrl": 0, "type": "http"},
            {
                "id": 4,
                "name": "Overseerr",
                "sendUrl": 1,
                "type": "http",
                "url": "https://requests.example.com",
            },
        ]

    def test_v2_answers_an_unknown_slug_with_its_failure(
        self, kuma: FakeUptimeKuma, http: httpx.Client
    ) -> None:
        if kuma.mode == "v1":
            # 1.23 leaves the request waiting: the client gives up.
            with pytest.raises(httpx.ReadTimeout):
                http.get("/api/status-page/nope", timeout=0.5)
        else:
            answer = http.get("/api/status-page/nope")
            assert answer.status_code == 404
            assert answer.json() == {"status": "fail", "msg": "Status Page Not Found"}

    def test_both_answer_an_unknown_manifest_with_a_404(self, http: httpx.Client) -> None:
        missing = http.get("/api/status-page/nope/manifest.json")
        found = http.get("/api/status-page/home/manifest.json")

        assert (missing.status_code, missing.json()) == (
            404,
            {"status": "fail", "msg": "Not Found"},
        )
        assert found.json()["start_url"] == "/status/home"

    def test_only_v2_lower_cases_the_slug_it_is_asked_for(
        self, kuma: FakeUptimeKuma, http: httpx.Client
    ) -> None:
        answer = http.get("/api/status-page/HOME/manifest.json")

        assert answer.status_code == (404 if kuma.mode == "v1" else 200)


class TestHeartbeats:
    def test_beats_oldest_first_with_uptime_by_id_and_24(
        self, kuma: FakeUptimeKuma, http: httpx.Client
    ) -> None:
        kuma.beat(4, DOWN, None, at=AT)
        kuma.beat(4, UP, 42, at=AT.replace(second=0))
        kuma.set_uptime(4, 0.95)

        body = http.get("/api/status-page/heartbeat/home").json()

        assert body["heartbeatList"]["4"] == [
            {"status": 1, "time": "2025-06-01 12:00:00.456", "msg": "", "ping": 42},
            {"status": 0, "time": "2025-06-01 12:00:05.456", "msg": "", "ping": None},
        ]
        assert body["heartbeatList"]["3"] == []
        assert body["uptimeList"]["4_24"] == 0.95

    def test_an_unknown_slug_has_no_monitors(self, http: httpx.Client) -> None:
        answer = http.get("/api/status-page/heartbeat/nope")

        assert answer.json() == {"heartbeatList": {}, "uptimeList": {}}

    def test_a_populated_page_is_large(self, kuma: FakeUptimeKuma, http: httpx.Client) -> None:
        made = kuma.populate("big", monitors=200, beats=100)

        body = http.get("/api/status-page/heartbeat/big").json()

        assert len(made) == 200 and set(body["heartbeatList"]) == {str(i) for i in made}
        kept = 50 if kuma.mode == "v1" else 100
        assert all(len(beats) == kept for beats in body["heartbeatList"].values())


class TestMetrics:
    def test_needs_the_key_as_basic_password(
        self, kuma: FakeUptimeKuma, http: httpx.Client
    ) -> None:
        without = http.get("/metrics")
        wrong = http.get("/metrics", auth=("admin", "uk1_wrong"))
        right = http.get("/metrics", auth=("ignored", kuma.api_key or ""))

        assert (without.status_code, without.headers["www-authenticate"], without.text) == (
            401,
            "Basic",
            "",
        )
        assert wrong.status_code == 401
        assert right.status_code == 200

    def test_authentication_off_opens_it(self, kuma: FakeUptimeKuma, http: httpx.Client) -> None:
        kuma.set_api_key(None)

        assert http.get("/metrics").status_code == 200

    def test_gauges_by_generation(self, kuma: FakeUptimeKuma, http: httpx.Client) -> None:
        kuma.beat(3, UP, None)

        found = metrics(kuma, http)

        [(labels, value)] = found["monitor_response_time"]
        assert value == -1
        assert (labels["monitor_hostname"], labels["monitor_port"]) == ("null", "null")
        assert ("monitor_id" in labels) is (kuma.mode == "v2")
        windows = {labels["window"] for labels, _ in found.get("monitor_uptime_ratio", [])}
        assert windows == (set() if kuma.mode == "v1" else {"1d", "30d", "365d"})
        [(version, _)] = found["app_version"]
        assert version["version"] == kuma.version

    def test_a_monitor_without_beats_has_no_status_yet(
        self, kuma: FakeUptimeKuma, http: httpx.Client
    ) -> None:
        assert metrics(kuma, http)["monitor_status"] == []


class TestSwitches:
    def test_down_refuses_and_healthy_listens_again(
        self, kuma: FakeUptimeKuma, http: httpx.Client
    ) -> None:
        kuma.down()
        with pytest.raises(httpx.ConnectError):
            http.get("/api/status-page/home")

        kuma.healthy()
        assert http.get("/api/status-page/home").status_code == 200

    def test_failing_answers_kumas_failure_then_recovers(
        self, kuma: FakeUptimeKuma, http: httpx.Client
    ) -> None:
        kuma.failing(403, "boom", times=1)

        first = http.get("/api/status-page/home")
        second = http.get("/api/status-page/home")

        assert (first.status_code, first.json()) == (403, {"status": "fail", "msg": "boom"})
        assert second.status_code == 200

    def test_calls_lists_each_path_and_reset_forgets(
        self, kuma: FakeUptimeKuma, http: httpx.Client
    ) -> None:
        http.get("/api/status-page/home")
        http.get("/api/status-page/heartbeat/home")

        assert kuma.calls == ["/api/status-page/home", "/api/status-page/heartbeat/home"]
        kuma.reset()
        assert kuma.calls == []
        assert http.get("/api/status-page/heartbeat/home").json()["heartbeatList"] == {}

    def test_any_other_address_is_the_single_page_app(self, http: httpx.Client) -> None:
        answer = http.get("/dashboard")

        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/html")
