"""`/api/v1/admin/plex`: the library index's syncs (administrators only)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from medianest.auth.deps import AdminUser, ClientDep
from medianest.core.deps import DbSession
from medianest.core.openapi import error_responses
from medianest.core.schemas import ApiModel, Envelope, RequestModel
from medianest.plex.sync import LibrarySync, SyncOverview

router = APIRouter(prefix="/api/v1/admin/plex", tags=["admin"])


async def _library_sync(request: Request) -> LibrarySync:
    service: LibrarySync = request.state.services.library_sync
    return service


LibrarySyncDep = Annotated[LibrarySync, Depends(_library_sync)]


class SyncCreate(RequestModel):
    # An incremental sync by default: a full one reads every library whole.
    full: bool = False


class SyncStarted(ApiModel):
    job_id: uuid.UUID


@router.post(
    "/sync", status_code=202, response_model=Envelope[SyncStarted], responses=error_responses(409)
)
async def start_sync(
    principal: AdminUser,
    session: DbSession,
    sync: LibrarySyncDep,
    client: ClientDep,
    body: SyncCreate | None = None,
) -> Envelope[SyncStarted]:
    full = body.full if body is not None else False
    job_id = await sync.start(session, full=full, actor=client.actor(principal))
    return Envelope(data=SyncStarted(job_id=job_id))


@router.get("/sync", response_model=Envelope[SyncOverview])
async def sync_status(
    _: AdminUser, session: DbSession, sync: LibrarySyncDep
) -> Envelope[SyncOverview]:
    return Envelope(data=await sync.status(session))
