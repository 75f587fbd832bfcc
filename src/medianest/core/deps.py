"""Dependencies every domain's routes use, declared once as named aliases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from medianest.core.cache import CacheService
from medianest.core.job_queue import JobQueue
from medianest.core.runtime import Platform


def get_platform(request: Request) -> Platform:
    platform: Platform = request.state.platform
    return platform


async def _platform(request: Request) -> Platform:
    return get_platform(request)


# Every dependency is `async def`: FastAPI runs a plain `def` one in a worker thread, which costs
# more than the rest of a small request.
PlatformDep = Annotated[Platform, Depends(_platform)]


async def _unit_of_work(request: Request) -> AsyncIterator[AsyncSession]:
    async with get_platform(request).db.unit_of_work() as session:
        yield session


# scope="function": the transaction commits before the response is sent, so a client that reads
# right after a write always sees it.
DbSession = Annotated[AsyncSession, Depends(_unit_of_work, scope="function")]


async def _cache(request: Request) -> CacheService:
    return get_platform(request).cache


async def _queue(request: Request) -> JobQueue:
    return get_platform(request).queue


CacheDep = Annotated[CacheService, Depends(_cache)]
QueueDep = Annotated[JobQueue, Depends(_queue)]
