"""NotificationService on the real databases: telling people once per event, however many
processes tell it at once, and each person's inbox of their own notifications."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from medianest.core.bus import MemoryBus
from medianest.core.db import Database
from medianest.notifications.models import Notification
from medianest.notifications.service import (
    CREATED_CHANNEL,
    NotificationNotFound,
    NotificationService,
)
from tests.factories.notifications import make_notification
from tests.factories.users import make_user


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.close()


@pytest.fixture
def bus() -> MemoryBus:
    return MemoryBus()


@pytest.fixture
def service(bus: MemoryBus) -> NotificationService:
    return NotificationService(bus=bus)


async def _people(database_url: str, count: int) -> list[uuid.UUID]:
    return [(await make_user(database_url)).id for _ in range(count)]


async def _notify(
    db: Database,
    service: NotificationService,
    user_ids: list[uuid.UUID],
    *,
    type: str = "request.available",
    title: str = "Dune",
    link: str | None = None,
    severity: str = "info",
    dedup_key: str | None = None,
) -> list[Notification]:
    async with db.unit_of_work() as session:
        return await service.notify(
            session,
            user_ids,
            type=type,
            title=title,
            message="It is in Plex now.",
            link=link,
            severity=severity,
            dedup_key=dedup_key,
        )


async def _notify_then_fail(db: Database, service: NotificationService, user_id: uuid.UUID) -> None:
    async with db.unit_of_work() as session:
        await service.notify(
            session, [user_id], type="request.status", title="Approved", message="."
        )
        raise RuntimeError("the change it told about failed")


async def _count(db: Database, user_id: uuid.UUID) -> int:
    async with db.unit_of_work() as session:
        found = await session.scalar(
            select(func.count()).select_from(Notification).where(Notification.user_id == user_id)
        )
    return found or 0


async def _drain(inbox: AsyncIterator[tuple[str, dict[str, object]]]) -> list[dict[str, object]]:
    """What the bus delivered so far."""
    got = []
    while True:
        try:
            _, message = await asyncio.wait_for(anext(inbox), 0.2)
        except TimeoutError:
            return got
        got.append(message)


class TestNotify:
    async def test_each_person_gets_one_notification(
        self, db: Database, service: NotificationService, database_url: str
    ) -> None:
        alice, bob = await _people(database_url, 2)
        created = await _notify(db, service, [alice, bob, alice], link="/library")
        assert sorted(row.user_id for row in created) == sorted([alice, bob])
        assert {(row.title, row.link, row.severity, row.read) for row in created} == {
            ("Dune", "/library", "info", False)
        }
        assert await _count(db, alice) == 1
        assert await _count(db, bob) == 1

    async def test_the_same_event_again_reaches_only_who_was_not_told(
        self, db: Database, service: NotificationService, database_url: str
    ) -> None:
        alice, bob, carol = await _people(database_url, 3)
        first = await _notify(db, service, [alice, bob], dedup_key="request:1:available")
        again = await _notify(db, service, [alice, bob, carol], dedup_key="request:1:available")
        assert len(first) == 2
        assert [row.user_id for row in again] == [carol]
        assert [await _count(db, person) for person in (alice, bob, carol)] == [1, 1, 1]

    async def test_two_processes_telling_one_event_at_once_make_one_each(
        self, db: Database, service: NotificationService, database_url: str
    ) -> None:
        people = await _people(database_url, 3)
        other = Database(database_url)
        try:
            results = await asyncio.gather(
                _notify(db, service, people, dedup_key="download:9:completed"),
                _notify(
                    other,
                    NotificationService(bus=MemoryBus()),
                    people,
                    dedup_key="download:9:completed",
                ),
            )
        finally:
            await other.close()
        told = sorted(row.user_id for rows in results for row in rows)
        assert told == sorted(people)
        assert [await _count(db, person) for person in people] == [1, 1, 1]

    async def test_without_a_dedup_key_every_call_notifies(
        self, db: Database, service: NotificationService, database_url: str
    ) -> None:
        (alice,) = await _people(database_url, 1)
        await _notify(db, service, [alice])
        await _notify(db, service, [alice])
        assert await _count(db, alice) == 2

    async def test_one_persons_key_does_not_hold_back_another_event(
        self, db: Database, service: NotificationService, database_url: str
    ) -> None:
        (alice,) = await _people(database_url, 1)
        await _notify(db, service, [alice], dedup_key="request:1:available")
        other = await _notify(db, service, [alice], dedup_key="request:2:available")
        assert len(other) == 1

    async def test_nobody_to_tell_writes_nothing(
        self, db: Database, service: NotificationService
    ) -> None:
        assert await _notify(db, service, []) == []

    async def test_each_created_one_is_announced_once_committed(
        self, db: Database, service: NotificationService, bus: MemoryBus, database_url: str
    ) -> None:
        alice, bob = await _people(database_url, 2)
        await _notify(db, service, [alice], dedup_key="broadcast:1")
        async with bus.subscribe(CREATED_CHANNEL) as inbox:
            async with db.unit_of_work() as session:
                created = await service.notify(
                    session,
                    [alice, bob],
                    type="broadcast",
                    title="Maintenance tonight",
                    message="Plex restarts at 22:00.",
                    severity="warning",
                    dedup_key="broadcast:1",
                )
                before_commit = await _drain(inbox)
            after_commit = await _drain(inbox)
        (row,) = created
        assert before_commit == []
        assert after_commit == [
            {
                "userId": str(bob),
                "notification": {
                    "id": str(row.id),
                    "type": "broadcast",
                    "title": "Maintenance tonight",
                    "message": "Plex restarts at 22:00.",
                    "link": None,
                    "severity": "warning",
                    "read": False,
                    "createdAt": row.created_at.isoformat().replace("+00:00", "Z"),
                },
            }
        ]

    async def test_a_rolled_back_notification_is_never_announced(
        self, db: Database, service: NotificationService, bus: MemoryBus, database_url: str
    ) -> None:
        (alice,) = await _people(database_url, 1)
        async with bus.subscribe(CREATED_CHANNEL) as inbox:
            with pytest.raises(RuntimeError):
                await _notify_then_fail(db, service, alice)
            assert await _drain(inbox) == []
        assert await _count(db, alice) == 0

    @pytest.mark.parametrize(
        "link",
        ["https://example.com/", "//example.com/x", "/\\example.com", "javascript:alert(1)", "x"],
    )
    async def test_a_link_off_this_site_is_refused(
        self, db: Database, service: NotificationService, database_url: str, link: str
    ) -> None:
        (alice,) = await _people(database_url, 1)
        with pytest.raises(ValueError, match="path on this site"):
            await _notify(db, service, [alice], link=link)
        assert await _count(db, alice) == 0

    @pytest.mark.parametrize(("field", "value"), [("type", "request.maybe"), ("severity", "loud")])
    async def test_an_unknown_type_or_severity_is_refused(
        self, db: Database, service: NotificationService, database_url: str, field: str, value: str
    ) -> None:
        (alice,) = await _people(database_url, 1)
        with pytest.raises(ValueError, match="unknown"):
            await _notify(db, service, [alice], **{field: value})

    async def test_a_title_too_long_for_the_inbox_is_shortened(
        self, db: Database, service: NotificationService, database_url: str
    ) -> None:
        (alice,) = await _people(database_url, 1)
        (row,) = await _notify(db, service, [alice], title="A" * 300)
        assert len(row.title) == 200
        assert row.title.endswith("…")


class TestListNotifications:
    async def test_newest_first_with_how_many_are_unread(
        self, db: Database, service: NotificationService, database_url: str
    ) -> None:
        (alice,) = await _people(database_url, 1)
        for title in ("first", "second", "third"):
            await make_notification(database_url, alice, title=title, read=title == "second")
        async with db.unit_of_work() as session:
            rows, total, unread = await service.list_notifications(
                session, alice, page=1, page_size=20
            )
        assert [row.title for row in rows] == ["third", "second", "first"]
        assert [row.read for row in rows] == [False, True, False]
        assert (total, unread) == (3, 2)
        assert all(row.created_at.tzinfo == UTC for row in rows)

    async def test_unread_only_or_read_only(
        self, db: Database, service: NotificationService, database_url: str
    ) -> None:
        (alice,) = await _people(database_url, 1)
        for title in ("first", "second", "third"):
            await make_notification(database_url, alice, title=title, read=title == "second")
        async with db.unit_of_work() as session:
            unread_rows, unread_total, unread = await service.list_notifications(
                session, alice, unread=True, page=1, page_size=20
            )
            read_rows, read_total, still_unread = await service.list_notifications(
                session, alice, unread=False, page=1, page_size=20
            )
        assert [row.title for row in unread_rows] == ["third", "first"]
        assert (unread_total, unread) == (2, 2)
        assert [row.title for row in read_rows] == ["second"]
        assert (read_total, still_unread) == (1, 2)

    async def test_pages_count_from_the_newest(
        self, db: Database, service: NotificationService, database_url: str
    ) -> None:
        (alice,) = await _people(database_url, 1)
        for number in range(5):
            await make_notification(database_url, alice, title=f"n{number}")
        async with db.unit_of_work() as session:
            second, total, _ = await service.list_notifications(session, alice, page=2, page_size=2)
            last, _, _ = await service.list_notifications(session, alice, page=3, page_size=2)
        assert [row.title for row in second] == ["n2", "n1"]
        assert [row.title for row in last] == ["n0"]
        assert total == 5

    async def test_nobody_sees_anyone_elses(
        self, db: Database, service: NotificationService, database_url: str
    ) -> None:
        alice, bob = await _people(database_url, 2)
        await make_notification(database_url, alice, title="for alice")
        async with db.unit_of_work() as session:
            rows, total, unread = await service.list_notifications(
                session, bob, page=1, page_size=20
            )
            counted = await service.unread_count(session, bob)
        assert (rows, total, unread, counted) == ([], 0, 0, 0)


class TestMarkRead:
    async def test_marks_it_read_once(
        self, db: Database, service: NotificationService, database_url: str
    ) -> None:
        (alice,) = await _people(database_url, 1)
        made = await make_notification(database_url, alice)
        async with db.unit_of_work() as session:
            first = await service.mark_read(session, alice, made.id)
            first_read_at = first.read_at
        async with db.unit_of_work() as session:
            again = await service.mark_read(session, alice, made.id)
            unread = await service.unread_count(session, alice)
        assert isinstance(first_read_at, datetime)
        assert again.read and again.read_at == first_read_at
        assert unread == 0

    async def test_anyone_elses_or_a_missing_one_is_not_found(
        self, db: Database, service: NotificationService, database_url: str
    ) -> None:
        alice, bob = await _people(database_url, 2)
        made = await make_notification(database_url, alice)
        async with db.unit_of_work() as session:
            with pytest.raises(NotificationNotFound):
                await service.mark_read(session, bob, made.id)
            with pytest.raises(NotificationNotFound):
                await service.mark_read(session, alice, uuid.uuid4())
            assert await service.unread_count(session, alice) == 1


class TestMarkAllRead:
    async def test_marks_only_the_persons_unread_ones(
        self, db: Database, service: NotificationService, database_url: str
    ) -> None:
        alice, bob = await _people(database_url, 2)
        for read in (False, False, True):
            await make_notification(database_url, alice, read=read)
        await make_notification(database_url, bob)
        async with db.unit_of_work() as session:
            updated = await service.mark_all_read(session, alice)
        async with db.unit_of_work() as session:
            again = await service.mark_all_read(session, alice)
            counts = [await service.unread_count(session, p) for p in (alice, bob)]
        assert (updated, again) == (2, 0)
        assert counts == [0, 1]


class TestDelete:
    async def test_deletes_the_persons_own(
        self, db: Database, service: NotificationService, database_url: str
    ) -> None:
        (alice,) = await _people(database_url, 1)
        kept = await make_notification(database_url, alice)
        gone = await make_notification(database_url, alice)
        async with db.unit_of_work() as session:
            await service.delete(session, alice, gone.id)
        async with db.unit_of_work() as session:
            rows, _, _ = await service.list_notifications(session, alice, page=1, page_size=20)
            with pytest.raises(NotificationNotFound):
                await service.delete(session, alice, gone.id)
        assert [row.id for row in rows] == [kept.id]

    async def test_anyone_elses_is_not_found_and_stays(
        self, db: Database, service: NotificationService, database_url: str
    ) -> None:
        alice, bob = await _people(database_url, 2)
        made = await make_notification(database_url, alice)
        async with db.unit_of_work() as session:
            with pytest.raises(NotificationNotFound):
                await service.delete(session, bob, made.id)
        assert await _count(db, alice) == 1
