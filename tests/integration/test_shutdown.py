"""Stopping MediaNest: running jobs end before the services they use close."""

from __future__ import annotations

import asyncio

from medianest.app import Services, create_app
from medianest.core.job_queue import JobInfo
from tests.conftest import SettingsFactory
from tests.support.app import started


async def test_a_running_job_is_stopped_before_the_services_it_uses_close(
    make_settings: SettingsFactory, database_url: str
) -> None:
    # A job still running when its HTTP clients close can open a connection that no pool owns
    # any more (a leaked socket); so jobs are cancelled first, while everything is still open.
    order: list[str] = []
    app = create_app(make_settings(database_url=database_url))
    async with started(app) as handle:
        services: Services = handle.state["services"]
        running = asyncio.Event()

        async def hold(job: JobInfo) -> None:
            running.set()
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                order.append("job cancelled")
                raise

        close_services = services.aclose

        async def recorded_close() -> None:
            order.append("services closing")
            await close_services()

        services.aclose = recorded_close  # type: ignore[method-assign]
        services.platform.queue.register("test.hold", hold)
        await services.platform.queue.enqueue_now("test.hold")
        await asyncio.wait_for(running.wait(), 10)

    assert order == ["job cancelled", "services closing"]
