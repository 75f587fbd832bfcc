"""Liveness, readiness and metrics, as a load balancer, an orchestrator and Prometheus see them."""

from __future__ import annotations

import pytest

from medianest import __version__
from medianest.app import create_app
from tests.conftest import SettingsFactory
from tests.support.app import running
from tests.support.server import free_port


class TestLiveness:
    async def test_health_answers_without_io(
        self, make_settings: SettingsFactory, database_url: str
    ) -> None:
        async with running(create_app(make_settings(database_url=database_url))) as http:
            response = await http.get("/health")
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "ok" and body["version"] == __version__
        assert body["uptime"] >= 0


class TestReadiness:
    @pytest.mark.parametrize("backend", ["embedded", "redis"])
    async def test_ready_when_everything_answers(
        self,
        backend: str,
        make_settings: SettingsFactory,
        database_url: str,
        redis_url: str,
        redis_prefix: str,
    ) -> None:
        extra = {"redis_url": redis_url, "redis_prefix": redis_prefix} if backend == "redis" else {}
        app = create_app(make_settings(database_url=database_url, **extra))
        async with running(app) as http:
            response = await http.get("/health/ready")
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "ready"
        names = [c["name"] for c in body["checks"]]
        expected = ["database", "redis", "queue"] if backend == "redis" else ["database", "queue"]
        assert names == expected
        assert all(c["status"] == "up" and c["latencyMs"] >= 0 for c in body["checks"])

    async def test_not_ready_when_the_database_is_gone(
        self, make_settings: SettingsFactory, pg_database_url: str
    ) -> None:
        missing = pg_database_url.rsplit("/", 1)[0] + "/no_such_database"
        async with running(create_app(make_settings(database_url=missing))) as http:
            response = await http.get("/health/ready")
        assert response.status_code == 503
        checks = {c["name"]: c for c in response.json()["checks"]}
        assert response.json()["status"] == "not_ready"
        assert checks["database"]["status"] == "down"
        assert "no_such_database" not in response.text

    async def test_not_ready_when_redis_is_gone(
        self, make_settings: SettingsFactory, database_url: str
    ) -> None:
        dead = f"redis://127.0.0.1:{free_port()}/0"
        async with running(
            create_app(make_settings(database_url=database_url, redis_url=dead))
        ) as http:
            response = await http.get("/health/ready")
            live = await http.get("/health")
        assert response.status_code == 503
        checks = {c["name"]: c["status"] for c in response.json()["checks"]}
        assert checks == {"database": "up", "redis": "down", "queue": "down"}
        assert live.status_code == 200


class TestMetrics:
    async def test_open_when_no_token_is_set(
        self, make_settings: SettingsFactory, database_url: str
    ) -> None:
        async with running(create_app(make_settings(database_url=database_url))) as http:
            await http.get("/api/v1/nothing-here")
            response = await http.get("/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        text = response.text
        assert (
            'medianest_http_requests_total{method="GET",route="unmatched",status="404"} 1.0' in text
        )
        assert "medianest_queue_depth 0.0" in text

    async def test_token_required_when_set(
        self, make_settings: SettingsFactory, database_url: str
    ) -> None:
        app = create_app(make_settings(database_url=database_url, metrics_token="scrape-me"))
        async with running(app) as http:
            anonymous = await http.get("/metrics")
            wrong = await http.get("/metrics", headers={"Authorization": "Bearer nope"})
            right = await http.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
        assert anonymous.status_code == wrong.status_code == 401
        assert anonymous.json()["error"]["code"] == "UNAUTHORIZED"
        assert right.status_code == 200
        assert "medianest_http_request_duration_seconds_bucket" in right.text

    async def test_route_templates_not_raw_paths_label_requests(
        self, make_settings: SettingsFactory, database_url: str
    ) -> None:
        app = create_app(make_settings(database_url=database_url))

        @app.get("/api/v1/things/{thing_id}")
        async def thing(thing_id: int) -> dict[str, int]:
            return {"id": thing_id}

        async with running(app) as http:
            for n in range(3):
                await http.get(f"/api/v1/things/{n}")
            text = (await http.get("/metrics")).text
        assert 'route="/api/v1/things/{thing_id}",status="200"} 3.0' in text
        assert "/api/v1/things/1" not in text


def test_two_apps_in_one_process_share_no_metrics(
    make_settings: SettingsFactory,
) -> None:
    first = create_app(make_settings())
    second = create_app(make_settings())
    assert first.state.platform.metrics.registry is not second.state.platform.metrics.registry
    assert first.state.platform.cache is not second.state.platform.cache


async def test_probes_are_counted_under_their_own_route(
    make_settings: SettingsFactory, database_url: str
) -> None:
    async with running(create_app(make_settings(database_url=database_url))) as http:
        for _ in range(2):
            await http.get("/health")
        text = (await http.get("/metrics")).text
    assert 'medianest_http_requests_total{method="GET",route="/health",status="200"} 2.0' in text
