"""`MyRequests`: a person's own and followed requests (admins: everyone's), one request's
history, and the changes they may make: cancel their own pending one, follow and unfollow; and
how many requests each of a page of users made, for administrators.

Ownership is in every query: another user's request is simply not found (404), whether it is
read, cancelled or followed by its id. Ids of other people's requests are never shown (search
gives only a state), so following goes through asking for the title, or an id one already has.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Literal

import structlog
from sqlalchemy import ColumnElement, case, delete, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from medianest.auth.directory import UserDirectory
from medianest.auth.sessions import Principal
from medianest.requests.errors import NotCancellable, OthersWaiting, RequestNotFound
from medianest.requests.models import (
    MediaRequest,
    RequestEvent,
    RequestFollower,
    RequestStatus,
)

log = structlog.get_logger(__name__)

Scope = Literal["mine", "following", "all"]
Sort = Literal["newest", "oldest", "title"]
_OPEN = [s.value for s in RequestStatus if s.open and s != RequestStatus.SUBMITTING]


@dataclass(frozen=True, slots=True)
class Listed:
    request: MediaRequest
    requested_by: str
    following: bool


@dataclass(frozen=True, slots=True)
class RequestCounts:
    total: int
    open: int
    """Of `total`, those still on their way to Plex."""


class MyRequests:
    def __init__(self, users: UserDirectory) -> None:
        self._users = users

    async def list_requests(
        self,
        session: AsyncSession,
        user: Principal,
        *,
        scope: Scope | None = None,
        status: str | None = None,
        media_type: str | None = None,
        search: str | None = None,
        sort: Sort = "newest",
        page: int = 1,
        page_size: int = 20,
    ) -> tuple[list[Listed], int]:
        """Own and followed requests (`mine`, `following`, or both by default); `all` lists
        everyone's and is for administrators (`Forbidden` otherwise, raised by the router)."""
        follows = self._follows(user.id)
        conditions: list[ColumnElement[bool]] = [MediaRequest.status != RequestStatus.SUBMITTING]
        if scope == "mine":
            conditions.append(MediaRequest.user_id == user.id)
        elif scope == "following":
            conditions.append(follows)
        elif scope != "all":
            conditions.append(or_(MediaRequest.user_id == user.id, follows))
        if status:
            conditions.append(MediaRequest.status == status)
        if media_type:
            conditions.append(MediaRequest.media_type == media_type)
        if search and search.strip():
            conditions.append(MediaRequest.title.icontains(search.strip(), autoescape=True))
        total = await session.scalar(
            select(func.count()).select_from(MediaRequest).where(*conditions)
        )
        order = {
            "newest": (MediaRequest.created_at.desc(), MediaRequest.id),
            "oldest": (MediaRequest.created_at.asc(), MediaRequest.id),
            "title": (func.lower(MediaRequest.title), MediaRequest.created_at.desc()),
        }[sort]
        rows = (
            await session.execute(
                select(MediaRequest, follows.label("following"))
                .where(*conditions)
                .order_by(*order)
                .offset((page - 1) * page_size)
                .limit(page_size)
            )
        ).all()
        names = await self._users.usernames(session, (r.user_id for r, _ in rows))
        listed = [Listed(r, names.get(r.user_id, ""), bool(f)) for r, f in rows]
        return listed, total or 0

    async def get_request(
        self, session: AsyncSession, user: Principal, request_id: uuid.UUID
    ) -> tuple[Listed, Sequence[RequestEvent]]:
        """The request with its history. Raises `RequestNotFound` unless it is the caller's,
        followed by them, or they are an administrator."""
        listed = await self._visible(session, user, request_id)
        history = await session.scalars(
            select(RequestEvent)
            .where(RequestEvent.request_id == request_id)
            .order_by(RequestEvent.at, RequestEvent.id)
        )
        return listed, list(history)

    async def follow(self, session: AsyncSession, user: Principal, request_id: uuid.UUID) -> Listed:
        """Follow a request the caller can already see (one they asked for, or were told of);
        following twice is following. Raises `RequestNotFound`."""
        listed = await self._visible(session, user, request_id)
        if listed.request.user_id == user.id or listed.following:
            return listed
        async with session.begin_nested():
            session.add(RequestFollower(request_id=request_id, user_id=user.id))
        return Listed(listed.request, listed.requested_by, following=True)

    async def unfollow(self, session: AsyncSession, user: Principal, request_id: uuid.UUID) -> None:
        """Stop being told about someone else's request. Raises `RequestNotFound`."""
        removed = await session.execute(
            delete(RequestFollower).where(
                RequestFollower.request_id == request_id, RequestFollower.user_id == user.id
            )
        )
        if not removed.rowcount:  # type: ignore[attr-defined]
            raise RequestNotFound()

    async def cancellable(
        self, session: AsyncSession, user: Principal, request_id: uuid.UUID
    ) -> MediaRequest:
        """The caller's own pending request, nobody else waiting for it. Raises
        `RequestNotFound`, `NotCancellable`, `OthersWaiting`."""
        request = await session.scalar(
            select(MediaRequest).where(
                MediaRequest.id == request_id,
                MediaRequest.user_id == user.id,
                MediaRequest.status != RequestStatus.SUBMITTING,
            )
        )
        if request is None:
            raise RequestNotFound()
        if request.status != RequestStatus.PENDING:
            raise NotCancellable()
        waiting = await session.scalar(
            select(exists().where(RequestFollower.request_id == request_id))
        )
        if waiting:
            raise OthersWaiting()
        return request

    async def counts_for(
        self, session: AsyncSession, user_ids: Collection[uuid.UUID]
    ) -> dict[uuid.UUID, RequestCounts]:
        """How many requests each of these users made themself (followed ones are someone
        else's), and how many of them are open; one grouped query. A request still being sent
        counts once it is, as it shows in their list only then."""
        ids = set(user_ids)
        if not ids:
            return {}
        is_open = MediaRequest.status.in_(_OPEN)
        rows = await session.execute(
            select(MediaRequest.user_id, func.count(), func.count(case((is_open, 1))))
            .where(MediaRequest.user_id.in_(ids), MediaRequest.status != RequestStatus.SUBMITTING)
            .group_by(MediaRequest.user_id)
        )
        found = {user_id: RequestCounts(total, open_) for user_id, total, open_ in rows}
        return {user_id: found.get(user_id, RequestCounts(0, 0)) for user_id in ids}

    async def _visible(
        self, session: AsyncSession, user: Principal, request_id: uuid.UUID
    ) -> Listed:
        follows = self._follows(user.id)
        conditions: list[ColumnElement[bool]] = [
            MediaRequest.id == request_id,
            MediaRequest.status != RequestStatus.SUBMITTING,
        ]
        if not user.is_admin:
            conditions.append(or_(MediaRequest.user_id == user.id, follows))
        row = (
            await session.execute(
                select(MediaRequest, follows.label("following")).where(*conditions)
            )
        ).first()
        if row is None:
            raise RequestNotFound()
        request, following = row
        names = await self._users.usernames(session, [request.user_id])
        return Listed(request, names.get(request.user_id, ""), bool(following))

    def _follows(self, user_id: uuid.UUID) -> ColumnElement[bool]:
        return exists().where(
            RequestFollower.request_id == MediaRequest.id, RequestFollower.user_id == user_id
        )
