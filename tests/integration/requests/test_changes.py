"""`StatusChanges.apply_all`: a batch of news, applied set-based, as one request at a time would."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from medianest.core.bus import MemoryBus
from medianest.core.db import Database
from medianest.notifications.models import Notification
from medianest.notifications.service import NotificationService
from medianest.requests.changes import Change, StatusChanges
from medianest.requests.models import (
    EventSource,
    MediaRequest,
    RequestEvent,
    RequestFollower,
    RequestStatus,
)
from tests.factories.users import make_user

WEBHOOK, SYNC = EventSource.WEBHOOK, EventSource.SYNC


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.close()


async def _requests(db: Database, owner: uuid.UUID, count: int) -> list[uuid.UUID]:
    async with db.unit_of_work() as session:
        rows = [
            MediaRequest(
                user_id=owner,
                media_type="movie",
                tmdb_id=500 + n,
                title=f"Film {n}",
                status=RequestStatus.PENDING,
                overseerr_id=900 + n,
            )
            for n in range(count)
        ]
        session.add_all(rows)
        await session.flush()
        return [r.id for r in rows]


async def _apply(db: Database, news: list[tuple[uuid.UUID, RequestStatus]]) -> list[bool]:
    changes = StatusChanges(NotificationService(bus=MemoryBus()))
    async with db.unit_of_work() as session:
        loaded = {r.id: r for r in await session.scalars(select(MediaRequest))}
        batch = [Change(loaded[i], status, WEBHOOK) for i, status in news]
        return await changes.apply_all(session, batch)


async def _history(db: Database, request_id: uuid.UUID) -> list[str]:
    async with db.unit_of_work() as session:
        rows = await session.scalars(
            select(RequestEvent.status)
            .where(RequestEvent.request_id == request_id)
            .order_by(RequestEvent.at, RequestEvent.status)
        )
        return list(rows)


async def _told(db: Database) -> list[tuple[uuid.UUID, str | None]]:
    async with db.unit_of_work() as session:
        rows = await session.execute(select(Notification.user_id, Notification.dedup_key))
        return sorted(((user_id, key) for user_id, key in rows), key=str)


class TestApplyAll:
    async def test_two_steps_of_one_request_in_a_batch_are_both_taken_in_order(
        self, db: Database, database_url: str
    ) -> None:
        owner = await make_user(database_url)
        (film,) = await _requests(db, owner.id, 1)

        moved = await _apply(db, [(film, RequestStatus.APPROVED), (film, RequestStatus.AVAILABLE)])

        assert moved == [True, True]
        assert sorted(await _history(db, film)) == ["approved", "available"]
        assert {key for _, key in await _told(db)} == {
            f"request:{film}:approved",
            f"request:{film}:available",
        }

    async def test_news_that_does_not_move_a_request_on_changes_nothing(
        self, db: Database, database_url: str
    ) -> None:
        owner = await make_user(database_url)
        first, second = await _requests(db, owner.id, 2)
        await _apply(db, [(first, RequestStatus.AVAILABLE)])

        # An approval arriving after the title became available, and the same news twice.
        moved = await _apply(
            db,
            [
                (first, RequestStatus.APPROVED),
                (second, RequestStatus.APPROVED),
                (second, RequestStatus.APPROVED),
            ],
        )

        assert moved == [False, True, False]
        assert await _history(db, first) == ["available"]
        assert await _history(db, second) == ["approved"]

    async def test_a_batch_tells_each_requester_and_follower_of_each_request_once(
        self, db: Database, database_url: str
    ) -> None:
        owner, follower = await make_user(database_url), await make_user(database_url)
        films = await _requests(db, owner.id, 3)
        async with db.unit_of_work() as session:
            session.add_all(RequestFollower(request_id=f, user_id=follower.id) for f in films)

        await _apply(db, [(f, RequestStatus.AVAILABLE) for f in films])
        again = await _apply(db, [(f, RequestStatus.AVAILABLE) for f in films])

        assert again == [False, False, False]
        told = await _told(db)
        assert len(told) == 6
        assert set(told) == {
            (person, f"request:{f}:available") for person in (owner.id, follower.id) for f in films
        }

    async def test_a_reporter_that_read_a_stale_status_wins_nothing(
        self, db: Database, database_url: str
    ) -> None:
        owner = await make_user(database_url)
        (film,) = await _requests(db, owner.id, 1)
        changes = StatusChanges(NotificationService(bus=MemoryBus()))
        async with db.unit_of_work() as session:
            stale = await session.get(MediaRequest, film)
            assert stale is not None
            # Another process approves it after this one read it as pending.
            async with db.unit_of_work() as other:
                fresh = await other.get(MediaRequest, film)
                assert fresh is not None
                fresh.status = RequestStatus.APPROVED
            moved = await changes.apply_all(session, [Change(stale, RequestStatus.APPROVED, SYNC)])

        assert moved == [False]
        assert await _history(db, film) == []
