"""`RequestService`: the requests MediaNest makes for its users, and who follows them.

Asking for a title goes in three steps, so that a request is never half-saved and never sent
twice. (1) In a short transaction, a `submitting` row and its claims are written (`models.py`):
the claims' primary keys make a second caller asking for the same title at the same instant
fail, and that caller then follows the first one's request (or hears that it is theirs already),
waiting for it to be sent if need be. (2) Outside any transaction, the request goes to Overseerr
as the user. (3) Its answer is written; if Overseerr refused it or could not be reached, the
row and its claims are deleted instead, and the caller hears why.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Literal

import structlog
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from medianest.auth.directory import UserDirectory
from medianest.auth.sessions import Principal
from medianest.core.audit import Actor, AuditService
from medianest.core.db import Database, utc_now
from medianest.core.errors import Forbidden, ValidationFailed
from medianest.core.ratelimit import RateLimiter
from medianest.integrations.overseerr.errors import OverseerrUserRefused, UpstreamRequestNotFound
from medianest.integrations.overseerr.schemas import MediaRequest as UpstreamRequest
from medianest.requests.accounts import OverseerrAccounts, Requester
from medianest.requests.changes import StatusChanges
from medianest.requests.connection import OverseerrConnectionService
from medianest.requests.errors import (
    AlreadyInPlex,
    AlreadyRequested,
    NotDecidable,
    RequestNotFound,
    StillSubmitting,
)
from medianest.requests.mine import Listed, MyRequests
from medianest.requests.models import (
    EventSource,
    MediaRequest,
    RequestClaim,
    RequestEvent,
    RequestFollower,
    RequestStatus,
    claim_keys,
)
from medianest.requests.overseerr import OverseerrService
from medianest.requests.schemas import MediaType, TitleDetails
from medianest.requests.states import InPlex
from medianest.requests.status import upstream_status

log = structlog.get_logger(__name__)

# How long a caller waits for someone else's request of the same title to be sent.
SUBMIT_WAIT = 15.0
# A request still being sent after this was left by a process that died while sending it.
ABANDONED_AFTER = timedelta(minutes=2)
_POLL = 0.1


class RequestService:
    def __init__(
        self,
        *,
        db: Database,
        overseerr: OverseerrService,
        connection: OverseerrConnectionService,
        accounts: OverseerrAccounts,
        limiter: RateLimiter,
        in_plex: InPlex,
        users: UserDirectory,
        mine: MyRequests,
        audit: AuditService,
        changes: StatusChanges,
    ) -> None:
        self._db = db
        self._overseerr = overseerr
        self._connection = connection
        self._accounts = accounts
        self._limiter = limiter
        self._in_plex = in_plex
        self._users = users
        self._mine = mine
        self._audit = audit
        self._changes = changes

    async def ask(
        self,
        user: Principal,
        *,
        media_type: MediaType,
        tmdb_id: int,
        seasons: Sequence[int] | Literal["all"] | None,
        is_4k: bool,
    ) -> Listed:
        """Request a title as `user`, or follow the open request someone else made for it
        (`following` then says so).

        Raises `TitleNotFound`, `ValidationFailed` (seasons), `AlreadyInPlex`, `AlreadyRequested`
        (their own open request), `RateLimited` (MediaNest's allowance), `Forbidden` (4K),
        `NoOverseerrAccount`, what Overseerr refuses (`OverseerrRefused`,
        `AlreadyRequestedUpstream`, `NoSeasonsLeft`), and `UpstreamUnavailable` / `UpstreamTimeout`.
        """
        details = await self._overseerr.details(media_type, tmdb_id)
        wanted = _seasons(details, seasons)
        link = await self._connection.link()
        client = await self._connection.client()
        async with self._db.unit_of_work() as session:
            in_plex = media_type == "movie" and not is_4k
            if in_plex and await self._in_plex(session, {(media_type, tmdb_id)}):
                raise AlreadyInPlex()
            requester = await self._accounts.requester(
                session, client, user, allow_import=link is not None and link.allow_plex_import
            )
        if is_4k and not requester.may_request_4k(media_type):
            raise Forbidden("Overseerr does not let you request 4K. Ask the server owner.")
        deadline = time.monotonic() + SUBMIT_WAIT
        while True:
            outcome = await self._claim(user, details, wanted, is_4k)
            if isinstance(outcome, Listed):
                return outcome
            if outcome is not None:
                return await self._submit(user, requester, outcome)
            if time.monotonic() > deadline:
                raise StillSubmitting()
            await asyncio.sleep(_POLL)

    # Step 1: claim, or follow

    async def _claim(
        self, user: Principal, details: TitleDetails, wanted: list[int] | None, is_4k: bool
    ) -> Listed | MediaRequest | None:
        """A new `submitting` request holding the claims (to send), the followed request when
        others' requests cover everything (followed now), or None while one of them is still
        being sent (try again shortly)."""
        keys = claim_keys(details.media_type, details.tmdb_id, is_4k, wanted)
        try:
            async with self._db.unit_of_work() as session:
                holders = await self._holders(session, keys)
                sending = [r for r in holders.values() if r.status == RequestStatus.SUBMITTING]
                abandoned = [r.id for r in sending if r.created_at < utc_now() - ABANDONED_AFTER]
                if abandoned:
                    # Its sender died between claiming and sending (a crash, a restart): the
                    # title is free again, or nobody could ever ask for it.
                    await session.execute(
                        delete(MediaRequest).where(MediaRequest.id.in_(abandoned))
                    )
                    log.warning("requests.abandoned_submission_dropped", requests=len(abandoned))
                    return None
                if sending:
                    return None
                free = [k for k in keys if k not in holders]
                others = {r.id: r for r in holders.values() if r.user_id != user.id}
                for held in others.values():
                    await self._follow(session, held.id, user.id)
                if not free:
                    if not others:
                        raise AlreadyRequested()
                    first = next(iter(others.values()))
                    names = await self._users.usernames(session, [first.user_id])
                    return Listed(first, names.get(first.user_id, ""), following=True)
                if not user.is_admin:
                    await self._limiter.check("media_requests", str(user.id))
                request = MediaRequest(
                    user_id=user.id,
                    media_type=details.media_type,
                    tmdb_id=details.tmdb_id,
                    tvdb_id=details.tvdb_id,
                    is_4k=is_4k,
                    title=details.title,
                    year=details.year,
                    poster_path=details.poster_path,
                    seasons=_seasons_of(free) if wanted is not None else None,
                    status=RequestStatus.SUBMITTING,
                )
                session.add(request)
                await session.flush()
                session.add_all(RequestClaim(key=key, request_id=request.id) for key in free)
                await session.flush()
                return request
        except IntegrityError:
            # Someone claimed one of these keys at the same instant: look again.
            return None

    async def _holders(self, session: AsyncSession, keys: list[str]) -> dict[str, MediaRequest]:
        rows = await session.execute(
            select(RequestClaim.key, MediaRequest)
            .join(MediaRequest, MediaRequest.id == RequestClaim.request_id)
            .where(RequestClaim.key.in_(keys))
        )
        return dict(rows.all())

    async def _follow(
        self, session: AsyncSession, request_id: uuid.UUID, user_id: uuid.UUID
    ) -> None:
        found = await session.get(RequestFollower, (request_id, user_id))
        if found is None:
            async with session.begin_nested():
                session.add(RequestFollower(request_id=request_id, user_id=user_id))

    # Steps 2 and 3: send, then keep or forget

    async def _submit(self, user: Principal, requester: Requester, request: MediaRequest) -> Listed:
        try:
            sent = await self._send(user, requester, request)
        except BaseException:
            await self._forget(request.id)
            raise
        status = upstream_status(sent)
        async with self._db.unit_of_work() as session:
            row = await session.get(MediaRequest, request.id)
            assert row is not None, "a submitting request is only deleted by its sender"
            row.overseerr_id = sent.id
            row.status = status
            row.upstream_updated_at = sent.updated_at
            if row.seasons is not None and sent.seasons:
                row.seasons = sorted(s.season_number for s in sent.seasons)
            session.add(RequestEvent(request_id=row.id, status=status, source=EventSource.USER))
            if not status.open:
                await session.execute(delete(RequestClaim).where(RequestClaim.request_id == row.id))
            await session.flush()
        if not user.is_admin:
            await self._limiter.hit("media_requests", str(user.id))
        await self._overseerr.forget_title(_kind(request.media_type), request.tmdb_id)
        log.info(
            "requests.created",
            request_id=str(row.id),
            overseerr_id=sent.id,
            media_type=row.media_type,
            tmdb_id=row.tmdb_id,
            status=status,
        )
        return Listed(row, user.username, following=False)

    async def _send(
        self, user: Principal, requester: Requester, request: MediaRequest
    ) -> UpstreamRequest:
        client = await self._connection.client()
        seasons = request.seasons
        try:
            return await client.create_request(
                as_user=requester.overseerr_id,
                media_type=_kind(request.media_type),
                tmdb_id=request.tmdb_id,
                seasons=seasons,
                is_4k=request.is_4k,
                tvdb_id=request.tvdb_id,
            )
        except OverseerrUserRefused:
            # The kept id is stale (the user was deleted and imported again): find them anew.
            link = await self._connection.link()
            async with self._db.unit_of_work() as session:
                fresh = await self._accounts.requester(
                    session,
                    client,
                    user,
                    allow_import=link is not None and link.allow_plex_import,
                    fresh=True,
                )
            return await client.create_request(
                as_user=fresh.overseerr_id,
                media_type=_kind(request.media_type),
                tmdb_id=request.tmdb_id,
                seasons=seasons,
                is_4k=request.is_4k,
                tvdb_id=request.tvdb_id,
            )

    async def _forget(self, request_id: uuid.UUID) -> None:
        """Delete a request that was never sent (its claims and followers go with it)."""
        async with self._db.unit_of_work() as session:
            await session.execute(delete(MediaRequest).where(MediaRequest.id == request_id))

    async def cancel(self, user: Principal, request_id: uuid.UUID, *, actor: Actor) -> None:
        """Withdraw the caller's own pending request, in Overseerr first. Raises
        `RequestNotFound`, `NotCancellable`, `OthersWaiting`, and Overseerr's failures (nothing
        changes then)."""
        async with self._db.unit_of_work() as session:
            request = await self._mine.cancellable(session, user, request_id)
            overseerr_id = request.overseerr_id
        if overseerr_id is not None:
            client = await self._connection.client()
            # Gone from Overseerr already: only MediaNest's copy is left to remove.
            with contextlib.suppress(UpstreamRequestNotFound):
                await client.delete_request(overseerr_id)
        async with self._db.unit_of_work() as session:
            await session.execute(delete(MediaRequest).where(MediaRequest.id == request_id))
            await self._audit.record(
                session,
                "requests.cancelled",
                actor=actor,
                target_type="media_request",
                target_id=request_id,
                title=request.title,
            )
        await self._overseerr.forget_title(_kind(request.media_type), request.tmdb_id)
        log.info("requests.cancelled", request_id=str(request_id))

    async def decide(
        self,
        admin: Principal,
        request_id: uuid.UUID,
        *,
        approve: bool,
        actor: Actor,
        reason: str | None = None,
    ) -> Listed:
        """Approve or decline a request in Overseerr (with MediaNest's key), then here; the
        requester and followers are told. Raises `RequestNotFound`, `NotDecidable` (not
        pending, or never sent) and Overseerr's failures (nothing changes then)."""
        async with self._db.unit_of_work() as session:
            listed, _ = await self._mine.get_request(session, admin, request_id)
            request = listed.request
            if request.overseerr_id is None or request.status != RequestStatus.PENDING:
                raise NotDecidable()
            overseerr_id = request.overseerr_id
        client = await self._connection.client()
        sent = await (client.approve(overseerr_id) if approve else client.decline(overseerr_id))
        status = RequestStatus.DECLINED if not approve else upstream_status(sent)
        async with self._db.unit_of_work() as session:
            row = await session.get(MediaRequest, request_id)
            if row is None:
                raise RequestNotFound()
            await self._changes.apply(
                session,
                row,
                status,
                EventSource.ADMIN,
                reason=reason if not approve else None,
                upstream_updated_at=sent.updated_at,
            )
            await self._audit.record(
                session,
                "requests.approved" if approve else "requests.declined",
                actor=actor,
                target_type="media_request",
                target_id=request_id,
                title=row.title,
            )
            decided = Listed(row, listed.requested_by, listed.following)
        await self._overseerr.forget_title(
            _kind(decided.request.media_type), decided.request.tmdb_id
        )
        return decided

    async def count_for(self, session: AsyncSession, user_id: uuid.UUID) -> int:
        found = await session.scalar(
            select(func.count()).select_from(MediaRequest).where(MediaRequest.user_id == user_id)
        )
        return found or 0


def _seasons(
    details: TitleDetails, asked: Sequence[int] | Literal["all"] | None
) -> list[int] | None:
    """The season numbers to request, checked against the show's; None for a movie."""
    if details.media_type == "movie":
        if asked is not None:
            raise ValidationFailed.on("seasons", "A movie has no seasons to choose.")
        return None
    known = sorted({s.season_number for s in details.seasons if s.season_number > 0})
    if asked is None or asked == "all":
        if not known:
            raise ValidationFailed.on("seasons", "This show has no seasons to request yet.")
        return known
    unknown = sorted(set(asked) - set(known) - {0})
    if unknown:
        raise ValidationFailed.on(
            "seasons", f"This show has no season {', '.join(map(str, unknown))}."
        )
    return sorted(set(asked))


def _kind(media_type: str) -> MediaType:
    return "movie" if media_type == "movie" else "tv"


def _seasons_of(keys: list[str]) -> list[int]:
    return sorted(int(key.rsplit(":", 1)[1]) for key in keys)
