"""`medianest worker`: runs jobs from the Redis queue until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import signal
from typing import Any

import structlog

from medianest.app import build_services
from medianest.config import Settings
from medianest.core.jobs import JobStatus
from medianest.core.log_config import configure_logging

log = structlog.get_logger(__name__)


async def run_worker(settings: Settings) -> None:
    configure_logging(settings.log_level, settings.resolved_log_format)
    services = build_services(settings)
    platform = services.platform
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await platform.start(consume_jobs=True)
    # Jobs use the Plex connection too: hear when an administrator changes it.
    await services.start()
    log.info("worker.ready")
    try:
        await stop.wait()
    finally:
        log.info("worker.stopping")
        await platform.stop_jobs()
        await services.aclose()
        await platform.stop()


async def ping_workers(settings: Settings, *, within: float) -> str:
    """Enqueue the `system.ping` job and wait for it; returns the `host:pid` that ran it."""
    # A one-shot command: only problems belong on the terminal.
    configure_logging("WARNING", settings.resolved_log_format)
    services = build_services(settings)
    platform = services.platform
    await platform.start(consume_jobs=False)
    try:
        job_id = await platform.queue.enqueue_now("system.ping")
        async with asyncio.timeout(within):
            while True:
                job = await platform.queue.get(job_id)
                if job is not None and job.status == JobStatus.SUCCEEDED:
                    result: dict[str, Any] = job.result or {}
                    return str(result.get("worker", job.worker))
                await asyncio.sleep(0.2)
    finally:
        await platform.stop_jobs()
        await services.aclose()
        await platform.stop()
