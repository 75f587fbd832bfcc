"""`/api/v1/notifications` on both databases: a person's own inbox, and nobody else's."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import func, select

from medianest.core.db import Database
from medianest.notifications.models import Notification
from tests.factories.notifications import make_notification
from tests.factories.users import make_user
from tests.integration.auth.conftest import csrf
from tests.integration.notifications.conftest import signed_in
from tests.support.app import Started, ok_data

BASE = "/api/v1/notifications"


async def _stored(database_url: str, user_id: uuid.UUID, *, unread_only: bool = False) -> int:
    """How many notifications the person has in the database, read straight from it."""
    conditions = [Notification.user_id == user_id]
    if unread_only:
        conditions.append(Notification.read_at.is_(None))
    db = Database(database_url)
    try:
        async with db.unit_of_work() as session:
            found = await session.scalar(
                select(func.count()).select_from(Notification).where(*conditions)
            )
    finally:
        await db.close()
    return found or 0


async def _unread(database_url: str, user_id: uuid.UUID) -> int:
    return await _stored(database_url, user_id, unread_only=True)


class TestList:
    async def test_lists_the_persons_own_newest_first(
        self, medianest: Started, database_url: str
    ) -> None:
        async with signed_in(medianest, database_url, "nora") as (http, nora):
            await make_notification(database_url, nora.id, title="Dune is available", read=True)
            await make_notification(
                database_url,
                nora.id,
                type="download.failed",
                title="The playlist did not download",
                message="YouTube refused it.",
                link="/youtube",
                severity="critical",
            )
            listed = await http.get(BASE)
        body = listed.json()
        assert listed.status_code == 200
        first, second = body["data"]
        assert set(first) == {
            "id",
            "type",
            "title",
            "message",
            "link",
            "severity",
            "read",
            "createdAt",
        }
        assert (first["type"], first["title"], first["message"]) == (
            "download.failed",
            "The playlist did not download",
            "YouTube refused it.",
        )
        assert (first["link"], first["severity"], first["read"]) == ("/youtube", "critical", False)
        assert first["createdAt"].endswith("Z")
        assert (second["title"], second["read"], second["link"]) == (
            "Dune is available",
            True,
            None,
        )
        assert body["meta"] == {
            "page": 1,
            "pageSize": 20,
            "total": 2,
            "totalPages": 1,
            "unreadCount": 1,
        }

    async def test_unread_only_and_pages(self, medianest: Started, database_url: str) -> None:
        async with signed_in(medianest, database_url, "omar") as (http, omar):
            for number in range(5):
                await make_notification(database_url, omar.id, title=f"n{number}", read=number == 4)
            unread = (await http.get(BASE, params={"unread": "true"})).json()
            paged = (await http.get(BASE, params={"page": 2, "pageSize": 2})).json()
        assert [n["title"] for n in unread["data"]] == ["n3", "n2", "n1", "n0"]
        assert unread["meta"]["total"] == 4
        assert [n["title"] for n in paged["data"]] == ["n2", "n1"]
        assert paged["meta"] == {
            "page": 2,
            "pageSize": 2,
            "total": 5,
            "totalPages": 3,
            "unreadCount": 4,
        }

    async def test_a_page_size_out_of_range_is_refused(
        self, medianest: Started, database_url: str
    ) -> None:
        async with signed_in(medianest, database_url, "pia") as (http, _):
            answer = await http.get(BASE, params={"pageSize": 101})
        assert answer.status_code == 400
        assert answer.json()["error"]["code"] == "VALIDATION_ERROR"

    async def test_nobody_lists_anyone_elses(self, medianest: Started, database_url: str) -> None:
        owner = await make_user(database_url, username="quinn")
        await make_notification(database_url, owner.id, title="for quinn")
        async with signed_in(medianest, database_url, "rosa") as (http, _):
            body = (await http.get(BASE)).json()
            count = ok_data(await http.get(f"{BASE}/unread-count"))
        assert body["data"] == []
        assert body["meta"]["unreadCount"] == 0
        assert count == {"unreadCount": 0}


class TestUnreadCount:
    async def test_counts_the_unread_ones(self, medianest: Started, database_url: str) -> None:
        async with signed_in(medianest, database_url, "sam") as (http, sam):
            for read in (False, False, True):
                await make_notification(database_url, sam.id, read=read)
            count = ok_data(await http.get(f"{BASE}/unread-count"))
        assert count == {"unreadCount": 2}


class TestMarkRead:
    async def test_marks_one_read(self, medianest: Started, database_url: str) -> None:
        async with signed_in(medianest, database_url, "tess") as (http, tess):
            made = await make_notification(database_url, tess.id, title="Approved")
            await make_notification(database_url, tess.id)
            marked = await http.post(f"{BASE}/{made.id}/read", headers=csrf(http))
            again = await http.post(f"{BASE}/{made.id}/read", headers=csrf(http))
            count = ok_data(await http.get(f"{BASE}/unread-count"))
        data = ok_data(marked)
        assert (data["id"], data["title"], data["read"]) == (str(made.id), "Approved", True)
        assert ok_data(again)["read"] is True
        assert count == {"unreadCount": 1}

    async def test_anyone_elses_or_a_missing_one_is_not_found(
        self, medianest: Started, database_url: str
    ) -> None:
        owner = await make_user(database_url, username="uma")
        theirs = await make_notification(database_url, owner.id)
        async with signed_in(medianest, database_url, "vic") as (http, _):
            other = await http.post(f"{BASE}/{theirs.id}/read", headers=csrf(http))
            missing = await http.post(f"{BASE}/{uuid.uuid4()}/read", headers=csrf(http))
        for answer in (other, missing):
            assert answer.status_code == 404
            assert answer.json()["error"]["code"] == "NOT_FOUND"
        assert await _unread(database_url, owner.id) == 1


class TestReadAll:
    async def test_marks_every_unread_one(self, medianest: Started, database_url: str) -> None:
        async with signed_in(medianest, database_url, "wes") as (http, wes):
            for read in (False, False, True):
                await make_notification(database_url, wes.id, read=read)
            first = ok_data(await http.post(f"{BASE}/read-all", headers=csrf(http)))
            again = ok_data(await http.post(f"{BASE}/read-all", headers=csrf(http)))
            count = ok_data(await http.get(f"{BASE}/unread-count"))
        assert (first, again) == ({"updated": 2}, {"updated": 0})
        assert count == {"unreadCount": 0}


class TestDelete:
    async def test_deletes_one(self, medianest: Started, database_url: str) -> None:
        async with signed_in(medianest, database_url, "xena") as (http, xena):
            gone = await make_notification(database_url, xena.id)
            kept = await make_notification(database_url, xena.id)
            deleted = await http.delete(f"{BASE}/{gone.id}", headers=csrf(http))
            again = await http.delete(f"{BASE}/{gone.id}", headers=csrf(http))
            listed = ok_data(await http.get(BASE))
        assert deleted.status_code == 204 and deleted.content == b""
        assert again.status_code == 404
        assert [n["id"] for n in listed] == [str(kept.id)]

    async def test_anyone_elses_is_not_found_and_stays(
        self, medianest: Started, database_url: str
    ) -> None:
        owner = await make_user(database_url, username="yara")
        theirs = await make_notification(database_url, owner.id)
        async with signed_in(medianest, database_url, "zed") as (http, _):
            answer = await http.delete(f"{BASE}/{theirs.id}", headers=csrf(http))
        assert answer.status_code == 404
        assert answer.json()["error"]["code"] == "NOT_FOUND"
        assert await _stored(database_url, owner.id) == 1


class TestAccess:
    async def test_signed_out_callers_are_unauthorized(self, medianest: Started) -> None:
        some_id = uuid.uuid4()
        async with medianest.client() as http:
            answers = [
                await http.get(BASE),
                await http.get(f"{BASE}/unread-count"),
                await http.post(f"{BASE}/{some_id}/read"),
                await http.post(f"{BASE}/read-all"),
                await http.delete(f"{BASE}/{some_id}"),
            ]
        assert [a.status_code for a in answers] == [401] * 5
        assert {a.json()["error"]["code"] for a in answers} == {"UNAUTHORIZED"}

    async def test_a_cookie_change_without_the_csrf_token_is_forbidden(
        self, medianest: Started, database_url: str
    ) -> None:
        async with signed_in(medianest, database_url, "abe") as (http, abe):
            made = await make_notification(database_url, abe.id)
            answer = await http.post(f"{BASE}/{made.id}/read")
            count = ok_data(await http.get(f"{BASE}/unread-count"))
        assert answer.status_code == 403
        assert count == {"unreadCount": 1}


class TestAccountDeleted:
    async def test_deleting_an_account_deletes_its_notifications(
        self, admin: httpx.AsyncClient, database_url: str
    ) -> None:
        gone = await make_user(database_url, username="bea")
        await make_notification(database_url, gone.id)
        await make_notification(database_url, gone.id, dedup_key="request:1:available")
        answer = await admin.delete(f"/api/v1/admin/users/{gone.id}", headers=csrf(admin))
        assert answer.status_code == 204
        assert await _stored(database_url, gone.id) == 0
