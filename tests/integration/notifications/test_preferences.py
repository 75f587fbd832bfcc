"""Each person's choice of how each type reaches them (`/api/v1/notifications/preferences`), on
both databases: kept as only what differs from the default, theirs alone, and honoured by
`notify` and `notify_many`, which read a whole batch's choices in one query."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import event, func, select

from medianest.core.bus import MemoryBus
from medianest.core.db import Database
from medianest.notifications.models import Notification, NotificationPreference
from medianest.notifications.service import Notice, NotificationService
from tests.factories.notifications import make_notification
from tests.factories.users import make_user
from tests.integration.auth.conftest import csrf
from tests.integration.notifications.conftest import signed_in
from tests.support.app import Started, ok_data

PREFERENCES = "/api/v1/notifications/preferences"
MEMBER_TYPES = [
    "request.status",
    "request.available",
    "download.completed",
    "download.failed",
    "broadcast",
]
ON = {"inApp": True, "push": True}


async def _put(http: httpx.AsyncClient, types: Any) -> httpx.Response:
    return await http.put(PREFERENCES, json={"types": types}, headers=csrf(http))


async def _stored(database_url: str) -> list[tuple[uuid.UUID, str, bool, bool]]:
    db = Database(database_url)
    try:
        async with db.unit_of_work() as session:
            rows = await session.execute(
                select(
                    NotificationPreference.user_id,
                    NotificationPreference.type,
                    NotificationPreference.in_app,
                    NotificationPreference.push,
                )
            )
            return [tuple(row) for row in rows.all()]  # type: ignore[misc]
    finally:
        await db.close()


async def _prefer(database_url: str, user_id: uuid.UUID, type: str, *, in_app: bool) -> None:
    db = Database(database_url)
    try:
        async with db.unit_of_work() as session:
            session.add(
                NotificationPreference(user_id=user_id, type=type, in_app=in_app, push=True)
            )
    finally:
        await db.close()


class TestRead:
    async def test_a_member_has_every_type_but_the_service_ones_all_on(
        self, medianest: Started, database_url: str
    ) -> None:
        async with signed_in(medianest, database_url, "ada") as (http, _):
            shown = ok_data(await http.get(PREFERENCES))
        assert list(shown["types"]) == MEMBER_TYPES
        assert all(choice == ON for choice in shown["types"].values())

    async def test_an_administrator_also_chooses_about_services_going_down_and_up(
        self, admin: httpx.AsyncClient
    ) -> None:
        shown = ok_data(await admin.get(PREFERENCES))
        assert list(shown["types"]) == [
            *MEMBER_TYPES[:4],
            "service.down",
            "service.up",
            "broadcast",
        ]

    async def test_is_for_people_signed_in(self, medianest: Started) -> None:
        async with medianest.client() as http:
            assert (await http.get(PREFERENCES)).status_code == 401


class TestChoose:
    async def test_a_choice_is_kept_and_only_a_difference_from_the_default_is_stored(
        self, medianest: Started, database_url: str
    ) -> None:
        async with signed_in(medianest, database_url, "bo") as (http, bo):
            saved = await _put(http, {"request.status": {"inApp": False, "push": True}})
            shown = ok_data(await http.get(PREFERENCES))
            assert await _stored(database_url) == [(bo.id, "request.status", False, True)]
            back = await _put(http, {"request.status": ON})
        assert saved.status_code == 200
        assert ok_data(saved) == shown
        assert shown["types"]["request.status"] == {"inApp": False, "push": True}
        assert ok_data(back)["types"]["request.status"] == ON
        assert await _stored(database_url) == []

    async def test_types_left_out_stay_as_they_were(
        self, medianest: Started, database_url: str
    ) -> None:
        async with signed_in(medianest, database_url, "cy") as (http, _):
            await _put(http, {"broadcast": {"inApp": True, "push": False}})
            shown = ok_data(await _put(http, {"download.failed": {"inApp": False, "push": False}}))
        assert shown["types"]["broadcast"] == {"inApp": True, "push": False}
        assert shown["types"]["download.failed"] == {"inApp": False, "push": False}
        assert shown["types"]["request.status"] == ON

    @pytest.mark.parametrize("type", ["request.nonsense", "service.down"])
    async def test_a_type_the_person_is_not_offered_is_refused(
        self, type: str, medianest: Started, database_url: str
    ) -> None:
        async with signed_in(medianest, database_url, "di") as (http, _):
            answer = await _put(http, {type: ON, "broadcast": {"inApp": False, "push": False}})
            shown = ok_data(await http.get(PREFERENCES))
        error = answer.json()["error"]
        assert answer.status_code == 400
        assert error["code"] == "VALIDATION_ERROR"
        assert [d["field"] for d in error["details"]] == [f"types.{type}"]
        # Nothing of a refused change is kept.
        assert shown["types"]["broadcast"] == ON

    async def test_an_administrator_may_turn_service_alerts_off(
        self, admin: httpx.AsyncClient
    ) -> None:
        answer = await _put(admin, {"service.down": {"inApp": True, "push": False}})
        assert ok_data(answer)["types"]["service.down"] == {"inApp": True, "push": False}

    @pytest.mark.parametrize(
        "types",
        [
            {"request.status": {"inApp": "no", "push": True}},
            {"request.status": {"inApp": True}},
            {"request.status": True},
            ["request.status"],
            None,
        ],
    )
    async def test_a_body_of_another_shape_is_refused(
        self, types: Any, medianest: Started, database_url: str
    ) -> None:
        async with signed_in(medianest, database_url, "ed") as (http, _):
            answer = await _put(http, types)
        assert answer.status_code == 400
        error = answer.json()["error"]
        assert error["code"] == "VALIDATION_ERROR"
        assert all(d["field"].startswith("types") for d in error["details"])


class TestIsolation:
    async def test_one_persons_choices_are_theirs_alone(
        self, medianest: Started, database_url: str
    ) -> None:
        async with (
            signed_in(medianest, database_url, "fi") as (first, _),
            signed_in(medianest, database_url, "gil") as (second, _),
        ):
            await _put(first, {"request.available": {"inApp": False, "push": False}})
            theirs = ok_data(await second.get(PREFERENCES))
        assert theirs["types"]["request.available"] == ON

    async def test_anyone_elses_notification_is_not_found(
        self, medianest: Started, database_url: str
    ) -> None:
        owner = await make_user(database_url, username="hana")
        made = await make_notification(database_url, owner.id)
        async with signed_in(medianest, database_url, "ivo") as (http, _):
            read = await http.post(f"/api/v1/notifications/{made.id}/read", headers=csrf(http))
            gone = await http.delete(f"/api/v1/notifications/{made.id}", headers=csrf(http))
        assert (read.status_code, gone.status_code) == (404, 404)
        assert read.json()["error"]["code"] == "NOT_FOUND"


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.close()


async def _inbox_of(db: Database, user_id: uuid.UUID) -> list[str]:
    async with db.unit_of_work() as session:
        rows = await session.scalars(
            select(Notification.type).where(Notification.user_id == user_id)
        )
        return sorted(rows)


class TestNotifyHonoursThem:
    async def test_no_inbox_row_for_who_turned_the_type_off_there(
        self, db: Database, database_url: str
    ) -> None:
        quiet, other = (await make_user(database_url)).id, (await make_user(database_url)).id
        await _prefer(database_url, quiet, "request.status", in_app=False)
        service = NotificationService(bus=MemoryBus())
        async with db.unit_of_work() as session:
            made = await service.notify(
                session, [quiet, other], type="request.status", title="Approved", message="."
            )
            await service.notify(
                session, [quiet], type="request.available", title="Available", message="."
            )
        assert [row.user_id for row in made] == [other]
        assert await _inbox_of(db, quiet) == ["request.available"]
        assert await _inbox_of(db, other) == ["request.status"]

    @pytest.mark.parametrize("people", [1, 30])
    async def test_a_batch_reads_everyones_choices_in_one_query(
        self, people: int, db: Database, database_url: str
    ) -> None:
        ids = [(await make_user(database_url)).id for _ in range(people)]
        await _prefer(database_url, ids[0], "request.status", in_app=False)
        asked: list[str] = []

        def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            if "notification_preferences" in statement:
                asked.append(statement)

        event.listen(db.engine.sync_engine, "before_cursor_execute", count)
        notices = [
            Notice([user_id], "request.status", f"Request {n} approved", ".")
            for n, user_id in enumerate(ids)
        ]
        notices.append(Notice(ids, "request.available", "Everyone's title is in", "."))
        async with db.unit_of_work() as session:
            made = await NotificationService(bus=MemoryBus()).notify_many(session, notices)
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
        assert len(asked) == 1
        assert made == 2 * people - 1
        async with db.unit_of_work() as session:
            total = await session.scalar(select(func.count()).select_from(Notification))
        assert total == made
