"""The core services every domain builds on, created together and started and stopped together.

Built from settings without I/O (so `create_app` stays cheap and side-effect free); `start()`
connects what needs connecting and `stop()` releases everything in reverse order.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import structlog

from medianest.config import Settings
from medianest.core.audit import AuditService
from medianest.core.bus import Bus, create_bus
from medianest.core.cache import CacheService, create_cache
from medianest.core.db import Database
from medianest.core.job_queue import JobQueue
from medianest.core.metrics import Metrics
from medianest.core.ratelimit import RateLimiter
from medianest.core.resilience import Breakers
from medianest.core.security import EncryptionService

log = structlog.get_logger(__name__)


@dataclass
class Platform:
    settings: Settings
    metrics: Metrics
    db: Database
    cache: CacheService
    bus: Bus
    queue: JobQueue
    limiter: RateLimiter
    breakers: Breakers
    encryption: EncryptionService
    audit: AuditService
    started_at: float = field(default_factory=time.monotonic)
    _jobs_stopped: bool = field(default=False, init=False)

    @classmethod
    def build(cls, settings: Settings) -> Platform:
        metrics = Metrics()
        db = Database(settings.resolved_database_url)
        return cls(
            settings=settings,
            metrics=metrics,
            db=db,
            cache=create_cache(settings, metrics),
            bus=create_bus(settings),
            queue=JobQueue(settings, db, metrics),
            limiter=RateLimiter(settings, metrics),
            breakers=Breakers(settings, metrics),
            encryption=EncryptionService(settings.encryption_keys),
            audit=AuditService(),
        )

    async def start(self, *, consume_jobs: bool) -> None:
        await self.bus.start()
        await self.limiter.start()
        await self.breakers.start()
        await self.queue.start(consume=consume_jobs)
        log.info(
            "platform.started",
            database="sqlite" if self.db.url.startswith("sqlite") else "postgresql",
            redis=self.settings.uses_redis,
            runs_jobs=consume_jobs,
        )

    async def stop_jobs(self) -> None:
        """Stop taking jobs and cancel the ones running in this process.

        Called before the domains' services close: a job cancelled while its HTTP clients are
        still open gives its connections back; one left running while they close can open a
        connection the closed pool no longer knows about, and leak it.
        """
        if self._jobs_stopped:
            return
        self._jobs_stopped = True
        try:
            await asyncio.wait_for(self.queue.stop(), timeout=10)
        except Exception:
            log.exception("platform.stop_failed", part="queue")

    async def stop(self) -> None:
        await self.stop_jobs()
        for name, close in (
            ("breakers", self.breakers.close),
            ("limiter", self.limiter.close),
            ("bus", self.bus.close),
            ("cache", self.cache.close),
            ("database", self.db.close),
        ):
            try:
                await asyncio.wait_for(close(), timeout=10)
            except Exception:
                log.exception("platform.stop_failed", part=name)

    @property
    def uptime(self) -> float:
        return time.monotonic() - self.started_at
