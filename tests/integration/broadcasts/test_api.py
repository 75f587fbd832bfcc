"""`/api/v1/admin/broadcast(s)` on both databases: an announcement reaches every active person's
inbox once, is listed with whether it still shows, and is withdrawn; only administrators may."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from medianest.auth.models import Role, UserStatus
from medianest.core.audit import AuditEntry
from medianest.core.db import Database, utc_now
from tests.factories.broadcasts import make_broadcast
from tests.factories.users import PASSWORD, make_user
from tests.integration.auth.conftest import csrf, sign_in
from tests.integration.broadcasts.conftest import (
    LIST,
    SEND,
    broadcasts_of,
    received,
    send,
    withdraw,
)
from tests.support.app import Started, ok_data


async def _audit(database_url: str, action: str) -> list[AuditEntry]:
    db = Database(database_url)
    try:
        async with db.unit_of_work() as session:
            rows = await session.scalars(select(AuditEntry).where(AuditEntry.action == action))
            return list(rows)
    finally:
        await db.close()


class TestSend:
    async def test_it_reaches_every_active_person_once_and_no_suspended_one(
        self, admin: httpx.AsyncClient, medianest: Started, database_url: str
    ) -> None:
        alice = await make_user(database_url, username="alice")
        bob = await make_user(database_url, username="bob", role=Role.ADMIN)
        sam = await make_user(database_url, username="sam", status=UserStatus.SUSPENDED)

        answer = await send(
            admin,
            title="Maintenance tonight",
            message="Plex restarts at 22:00.",
            severity="warning",
        )

        assert answer.status_code == 201, answer.text
        sent = ok_data(answer)
        assert sent["recipients"] == 3
        assert (sent["status"], sent["severity"], sent["createdBy"]["username"]) == (
            "active",
            "warning",
            "admin",
        )
        inboxes = await received(database_url)
        assert sam.id not in inboxes
        assert {alice.id, bob.id} <= set(inboxes)
        assert len(inboxes) == 3
        for rows in inboxes.values():
            (row,) = rows
            assert (row.title, row.message, row.severity) == (
                "Maintenance tonight",
                "Plex restarts at 22:00.",
                "warning",
            )
            assert row.dedup_key == f"broadcast:{sent['id']}"
        async with medianest.client() as http:
            await sign_in(http, "alice", PASSWORD)
            inbox = ok_data(await http.get("/api/v1/notifications"))
        assert [(n["type"], n["title"], n["read"]) for n in inbox] == [
            ("broadcast", "Maintenance tonight", False)
        ]

    async def test_delivering_it_again_reaches_nobody_twice(
        self, admin: httpx.AsyncClient, medianest: Started, database_url: str
    ) -> None:
        await make_user(database_url, username="alice")
        sent = ok_data(await send(admin))
        service = broadcasts_of(medianest).service
        db = medianest.app.state.platform.db

        async def deliver() -> int:
            async with db.unit_of_work() as session:
                return await service.deliver(session, uuid.UUID(sent["id"]))

        again = await deliver()
        # Two processes retrying at the same moment: the database keeps one row per person.
        racing = await asyncio.gather(deliver(), deliver())

        assert (again, racing) == (0, [0, 0])
        inboxes = await received(database_url)
        assert sorted(len(rows) for rows in inboxes.values()) == [1, 1]

    async def test_delivering_again_reaches_only_who_arrived_since(
        self, admin: httpx.AsyncClient, medianest: Started, database_url: str
    ) -> None:
        sent = ok_data(await send(admin))
        newcomer = await make_user(database_url, username="nina")
        async with medianest.app.state.platform.db.unit_of_work() as session:
            reached = await broadcasts_of(medianest).service.deliver(session, uuid.UUID(sent["id"]))
        assert reached == 1
        assert len((await received(database_url))[newcomer.id]) == 1

    async def test_each_severity_is_told_as_it_was_chosen(
        self, admin: httpx.AsyncClient, database_url: str
    ) -> None:
        plain = ok_data(await send(admin, title="Plain"))
        urgent = ok_data(await send(admin, title="Urgent", severity="critical"))
        (admin_inbox,) = (await received(database_url)).values()
        told = {row.title: row.severity for row in admin_inbox}
        assert (plain["severity"], urgent["severity"]) == ("info", "critical")
        assert told == {"Plain": "info", "Urgent": "critical"}

    async def test_it_is_recorded_in_the_audit_log(
        self, admin: httpx.AsyncClient, database_url: str
    ) -> None:
        ends = utc_now() + timedelta(days=2)
        sent = ok_data(await send(admin, severity="critical", expiresAt=ends.isoformat()))
        (entry,) = await _audit(database_url, "admin.broadcast_sent")
        assert (entry.actor_name, entry.target_type, entry.target_id) == (
            "admin",
            "broadcast",
            sent["id"],
        )
        assert entry.details["severity"] == "critical"
        assert entry.details["recipients"] == 1


def _long(n: int) -> str:
    return "x" * n


class TestValidation:
    @pytest.mark.parametrize(
        ("body", "field", "says"),
        [
            ({"title": "   "}, "title", "Write the announcement's title."),
            ({"title": _long(201)}, "title", "Keep the title to 200 characters or fewer"),
            ({"message": ""}, "message", "Write the announcement's message."),
            ({"message": _long(2001)}, "message", "to 2,000 characters or fewer; it has 2,001"),
            ({"severity": "loud"}, "severity", "info, warning or critical"),
            ({"severity": 2}, "severity", "info, warning or critical"),
            ({"expiresAt": "2020-01-01T00:00:00Z"}, "expiresAt", "an end in the future"),
            ({"expiresAt": "2026-12-24T18:00:00"}, "expiresAt", "with its time zone"),
            ({"expiresAt": "next tuesday"}, "expiresAt", "datetime"),
        ],
    )
    async def test_a_bad_field_is_named_with_what_to_do(
        self,
        admin: httpx.AsyncClient,
        database_url: str,
        body: dict[str, Any],
        field: str,
        says: str,
    ) -> None:
        answer = await send(admin, **body)
        error = answer.json()["error"]
        assert answer.status_code == 400
        assert error["code"] == "VALIDATION_ERROR"
        [detail] = error["details"]
        assert detail["field"] == field
        assert says in detail["message"]
        assert await received(database_url) == {}

    async def test_an_end_more_than_a_year_away_is_refused(self, admin: httpx.AsyncClient) -> None:
        later = utc_now() + timedelta(days=366)
        answer = await send(admin, expiresAt=later.isoformat())
        assert answer.status_code == 400
        assert answer.json()["error"]["details"] == [
            {"field": "expiresAt", "message": "An announcement can stay up for a year at most."}
        ]

    async def test_every_bad_field_is_named_at_once(self, admin: httpx.AsyncClient) -> None:
        answer = await send(admin, title="", message="", severity="loud")
        fields = [d["field"] for d in answer.json()["error"]["details"]]
        assert sorted(fields) == ["message", "severity", "title"]

    async def test_a_title_and_message_are_required(self, admin: httpx.AsyncClient) -> None:
        answer = await admin.post(SEND, json={}, headers=csrf(admin))
        fields = [d["field"] for d in answer.json()["error"]["details"]]
        assert answer.status_code == 400
        assert sorted(fields) == ["message", "title"]


class TestAuthorization:
    async def test_a_member_is_forbidden_everything(
        self, medianest: Started, database_url: str
    ) -> None:
        broadcast = await make_broadcast(database_url)
        await make_user(database_url, username="ursula")
        async with medianest.client() as http:
            await sign_in(http, "ursula", PASSWORD)
            answers = [
                await send(http),
                await http.get(LIST),
                await withdraw(http, str(broadcast.id)),
            ]
        for answer in answers:
            assert answer.status_code == 403
            assert answer.json()["error"]["code"] == "FORBIDDEN"
        assert await received(database_url) == {}

    async def test_signed_out_callers_are_unauthorized(self, medianest: Started) -> None:
        async with medianest.client() as http:
            assert (await http.get(LIST)).status_code == 401


class TestList:
    async def test_newest_first_each_with_whether_it_still_shows(
        self, admin: httpx.AsyncClient, database_url: str
    ) -> None:
        now = utc_now()
        await make_broadcast(
            database_url,
            title="Ended",
            created_at=now - timedelta(days=3),
            expires_at=now - timedelta(days=1),
        )
        await make_broadcast(
            database_url,
            title="Withdrawn",
            created_at=now - timedelta(days=2),
            withdrawn_at=now - timedelta(days=1),
        )
        await send(admin, title="Showing")

        listed = await admin.get(LIST)

        body = listed.json()
        assert [(b["title"], b["status"]) for b in body["data"]] == [
            ("Showing", "active"),
            ("Withdrawn", "withdrawn"),
            ("Ended", "expired"),
        ]
        assert body["meta"] == {"page": 1, "pageSize": 20, "total": 3, "totalPages": 1}
        showing = body["data"][0]
        assert set(showing) == {
            "id",
            "title",
            "message",
            "severity",
            "status",
            "createdAt",
            "createdBy",
            "expiresAt",
            "withdrawnAt",
        }
        assert showing["createdBy"]["username"] == "admin"
        assert body["data"][1]["createdBy"] is None

    async def test_pages(self, admin: httpx.AsyncClient, database_url: str) -> None:
        for n in range(3):
            await make_broadcast(
                database_url, title=f"B{n}", created_at=utc_now() - timedelta(hours=n)
            )
        second = (await admin.get(LIST, params={"page": 2, "pageSize": 2})).json()
        assert [b["title"] for b in second["data"]] == ["B2"]
        assert second["meta"] == {"page": 2, "pageSize": 2, "total": 3, "totalPages": 2}


class TestWithdraw:
    async def test_it_is_withdrawn_and_the_inbox_items_stay(
        self, admin: httpx.AsyncClient, database_url: str
    ) -> None:
        await make_user(database_url, username="alice")
        sent = ok_data(await send(admin))

        answer = await withdraw(admin, sent["id"])

        assert answer.status_code == 204
        (listed,) = ok_data(await admin.get(LIST))
        assert listed["status"] == "withdrawn"
        assert listed["withdrawnAt"] is not None
        assert sorted(len(rows) for rows in (await received(database_url)).values()) == [1, 1]

    async def test_withdrawing_twice_changes_nothing_more(
        self, admin: httpx.AsyncClient, database_url: str
    ) -> None:
        sent = ok_data(await send(admin))
        await withdraw(admin, sent["id"])
        (first,) = ok_data(await admin.get(LIST))

        again = await withdraw(admin, sent["id"])

        (second,) = ok_data(await admin.get(LIST))
        assert again.status_code == 204
        assert second["withdrawnAt"] == first["withdrawnAt"]
        assert len(await _audit(database_url, "admin.broadcast_withdrawn")) == 1

    async def test_an_unknown_one_is_not_found(self, admin: httpx.AsyncClient) -> None:
        answer = await withdraw(admin, str(uuid.uuid4()))
        assert answer.status_code == 404
        assert answer.json()["error"]["code"] == "NOT_FOUND"

    async def test_a_withdrawn_one_is_delivered_to_nobody(
        self, admin: httpx.AsyncClient, medianest: Started, database_url: str
    ) -> None:
        sent = ok_data(await send(admin))
        await withdraw(admin, sent["id"])
        await make_user(database_url, username="late")
        async with medianest.app.state.platform.db.unit_of_work() as session:
            reached = await broadcasts_of(medianest).service.deliver(session, uuid.UUID(sent["id"]))
        assert reached == 0
