"""The platform as API routes use it: one unit of work per request, the general rate limit, and a
Redis outage in the middle of a run."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from medianest.app import create_app
from medianest.core.deps import CacheDep, DbSession, QueueDep
from medianest.core.jobs import Job
from tests.conftest import SettingsFactory
from tests.support.app import running
from tests.support.tcp_proxy import tcp_proxy


def _add_routes(app: FastAPI, fetches: list[int]) -> None:
    @app.post("/api/v1/jobs-then-fail")
    async def fail_after_write(session: DbSession, queue: QueueDep) -> None:
        await queue.enqueue(session, "system.ping")
        raise RuntimeError("bug after the write")

    @app.post("/api/v1/jobs", status_code=201)
    async def write(session: DbSession, queue: QueueDep) -> dict[str, str]:
        return {"id": str(await queue.enqueue(session, "system.ping"))}

    @app.get("/api/v1/jobs/count")
    async def count(session: DbSession) -> dict[str, int]:
        total = await session.scalar(select(func.count()).select_from(Job))
        return {"count": total or 0}

    @app.get("/api/v1/expensive")
    async def expensive(cache: CacheDep) -> dict[str, Any]:
        async def fetch() -> dict[str, int]:
            fetches.append(1)
            return {"answer": 42}

        return await cache.get_or_set("expensive", fetch, ttl=60)


class TestUnitOfWork:
    async def test_a_write_is_visible_to_the_next_request(
        self, make_settings: SettingsFactory, database_url: str
    ) -> None:
        app = create_app(make_settings(database_url=database_url))
        _add_routes(app, [])
        async with running(app) as http:
            created = await http.post("/api/v1/jobs")
            counted = await http.get("/api/v1/jobs/count")
        assert created.status_code == 201
        assert counted.json() == {"count": 1}

    async def test_a_failed_request_leaves_nothing_behind(
        self, make_settings: SettingsFactory, database_url: str
    ) -> None:
        app = create_app(make_settings(database_url=database_url))
        _add_routes(app, [])
        async with running(app) as http:
            failed = await http.post("/api/v1/jobs-then-fail")
            counted = await http.get("/api/v1/jobs/count")
        assert failed.status_code == 500
        assert counted.json() == {"count": 0}


class TestGeneralRateLimit:
    @pytest.mark.parametrize("backend", ["memory", "redis"])
    async def test_the_101st_request_in_a_minute_is_refused(
        self,
        backend: str,
        make_settings: SettingsFactory,
        database_url: str,
        redis_url: str,
        redis_prefix: str,
    ) -> None:
        extra = {"redis_url": redis_url, "redis_prefix": redis_prefix} if backend == "redis" else {}
        app = create_app(
            make_settings(database_url=database_url, rate_limit_api="100/minute", **extra)
        )
        async with running(app) as http:
            answers = [(await http.get("/api/v1/nothing")).status_code for _ in range(100)]
            refused = await http.get("/api/v1/nothing")
            health = await http.get("/health")
        assert answers == [404] * 100
        assert refused.status_code == 429
        error = refused.json()["error"]
        assert error["code"] == "RATE_LIMITED"
        assert 1 <= error["retryAfter"] <= 60
        assert refused.headers["retry-after"] == str(error["retryAfter"])
        assert refused.headers["x-correlation-id"] == error["correlationId"]
        assert health.status_code == 200  # probes are never limited

    @pytest.mark.parametrize("backend", ["memory", "redis"])
    async def test_images_spend_an_allowance_of_their_own(
        self,
        backend: str,
        make_settings: SettingsFactory,
        database_url: str,
        redis_url: str,
        redis_prefix: str,
    ) -> None:
        extra = {"redis_url": redis_url, "redis_prefix": redis_prefix} if backend == "redis" else {}
        settings = make_settings(
            database_url=database_url,
            rate_limit_api="2/minute",
            rate_limit_images="30/minute",
            **extra,
        )
        app = create_app(settings)
        poster = "/api/v1/plex/image?path=/library/metadata/1/thumb/1"
        async with running(app) as http:
            posters = [(await http.get(poster)).status_code for _ in range(30)]
            api = [(await http.get("/api/v1/nothing")).status_code for _ in range(3)]
            one_poster_too_many = await http.get(poster)
        assert posters == [401] * 30  # signed out, but never refused for the API's allowance
        assert api == [404, 404, 429]
        assert one_poster_too_many.status_code == 429

    async def test_limits_are_per_client_address(
        self, make_settings: SettingsFactory, database_url: str
    ) -> None:
        app = create_app(make_settings(database_url=database_url, rate_limit_api="2/minute"))
        async with running(app, client=("198.51.100.1", 1)) as first:
            codes = [(await first.get("/api/v1/x")).status_code for _ in range(3)]
            async with running(app, client=("198.51.100.2", 1)) as second:
                other = await second.get("/api/v1/x")
        assert codes == [404, 404, 429]
        assert other.status_code == 404

    async def test_forwarded_for_is_believed_only_from_trusted_proxies(
        self, make_settings: SettingsFactory, database_url: str
    ) -> None:
        settings = make_settings(
            database_url=database_url, rate_limit_api="1/minute", trusted_proxies="10.0.0.5"
        )
        app = create_app(settings)
        async with running(app, client=("10.0.0.5", 1)) as proxy:
            alice = await proxy.get("/api/v1/x", headers={"X-Forwarded-For": "192.0.2.10"})
            bob = await proxy.get("/api/v1/x", headers={"X-Forwarded-For": "192.0.2.11"})
            alice_again = await proxy.get("/api/v1/x", headers={"X-Forwarded-For": "192.0.2.10"})
        async with running(app, client=("203.0.113.7", 1)) as direct:
            spoof_one = await direct.get("/api/v1/x", headers={"X-Forwarded-For": "192.0.2.99"})
            spoof_two = await direct.get("/api/v1/x", headers={"X-Forwarded-For": "192.0.2.98"})
        assert [alice.status_code, bob.status_code, alice_again.status_code] == [404, 404, 429]
        assert [spoof_one.status_code, spoof_two.status_code] == [404, 429]


@pytest.mark.slow
class TestRedisOutage:
    async def test_requests_keep_being_answered_and_the_cache_comes_back(
        self,
        make_settings: SettingsFactory,
        database_url: str,
        redis_url: str,
        redis_prefix: str,
    ) -> None:
        fetches: list[int] = []
        async with tcp_proxy(redis_url) as proxy:
            settings = make_settings(
                database_url=database_url,
                redis_url=proxy.url_for(redis_url),
                redis_prefix=redis_prefix,
            )
            app = create_app(settings)
            _add_routes(app, fetches)
            async with running(app) as http:
                before = [await http.get("/api/v1/expensive") for _ in range(3)]
                assert len(fetches) == 1  # cached in Redis

                await proxy.cut()
                during = [await http.get("/api/v1/expensive") for _ in range(5)]
                health = await http.get("/health/ready")
                assert len(fetches) == 6  # answered, uncached

                await proxy.restore()
                after = await _until_cached(http, fetches)
                metrics = (await http.get("/metrics")).text
        assert all(r.status_code == 200 for r in before + during + after)
        assert all(r.json() == {"answer": 42} for r in during)
        assert health.status_code == 503
        assert "medianest_cache_backend_errors_total" in metrics
        errors = next(
            line
            for line in metrics.splitlines()
            if line.startswith("medianest_cache_backend_errors_total ")
        )
        assert float(errors.split()[1]) >= 1


async def _until_cached(http: httpx.AsyncClient, fetches: list[int]) -> list[httpx.Response]:
    """Requests until one is served from the cache again (the cache's cool-down is ~1.5 s)."""
    answered: list[httpx.Response] = []
    async with asyncio.timeout(15):
        while True:
            before = len(fetches)
            answered.append(await http.get("/api/v1/expensive"))
            if len(fetches) == before:
                return answered
            await asyncio.sleep(0.1)
