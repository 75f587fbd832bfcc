"""The library sync jobs: `plex.sync_full` and `plex.sync_incremental`, run by the job queue."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import structlog

from medianest.core.errors import MediaNestError
from medianest.core.job_queue import JobInfo, JobQueue
from medianest.integrations.plex.server import PlexServerClient
from medianest.plex.library_index import LibraryIndex
from medianest.plex.sync_runs import SyncAlreadyRunning, SyncKind

log = structlog.get_logger(__name__)

SYNC_FULL = "plex.sync_full"
SYNC_INCREMENTAL = "plex.sync_incremental"

PlexConnection = Callable[[], Awaitable[tuple[PlexServerClient, str]]]
"""Gives the Plex server's client and the owner's token, at the time a job runs."""


def register_index_jobs(
    queue: JobQueue,
    index: LibraryIndex,
    connect: PlexConnection,
    *,
    on_changed: Callable[[list[str]], Awaitable[None]] | None = None,
) -> None:
    """Register `plex.sync_full` and `plex.sync_incremental` (no arguments).

    `on_changed` is told the keys of the libraries a sync changed, so that what was cached
    about them is not served stale.

    `connect` is asked for the client and the owner's token each time a job runs, so a server
    connected or changed since start-up is the one synced; the client stays its owner's to
    close. Should `connect` fail (Plex not connected), the run record says so. A job that
    finds a sync running ends at once with `{"skipped": ...}`: that sync covers it.
    """

    async def run(kind: SyncKind) -> dict[str, Any]:
        try:
            client, token = await connect()
        except MediaNestError as exc:
            await index.record_failure(kind, exc.message)
            raise
        sync = index.full_sync if kind == "full" else index.incremental_sync
        try:
            result = await sync(client, token)
        except SyncAlreadyRunning as exc:
            log.info("plex.index_sync_skipped", kind=kind, reason="already running")
            return {"skipped": exc.message}
        if result.changed and on_changed is not None:
            await on_changed(result.changed)
        return result.model_dump(mode="json", by_alias=True)

    async def sync_full(job: JobInfo) -> dict[str, Any]:
        return await run("full")

    async def sync_incremental(job: JobInfo) -> dict[str, Any]:
        return await run("incremental")

    queue.register(SYNC_FULL, sync_full)
    queue.register(SYNC_INCREMENTAL, sync_incremental)
