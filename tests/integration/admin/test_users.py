"""Administrators managing accounts, and the audit log of what they did."""

from __future__ import annotations

from typing import Any

from medianest.auth.models import Role
from medianest.requests.models import RequestStatus
from tests.factories.requests import make_request
from tests.factories.users import PASSWORD, make_user
from tests.integration.auth.conftest import bearer, csrf, sign_in
from tests.integration.web.conftest import PAGE
from tests.support.app import Started


class TestAuthorization:
    async def test_a_user_on_an_admin_route_is_forbidden(
        self, medianest: Started, database_url: str
    ) -> None:
        await make_user(database_url, username="ursula")
        async with medianest.client() as http:
            await sign_in(http, "ursula", PASSWORD)
            for response in (
                await http.get("/api/v1/admin/users"),
                await http.get("/api/v1/admin/audit-log"),
            ):
                assert response.status_code == 403
                assert response.json()["error"]["code"] == "FORBIDDEN"

    async def test_signed_out_callers_are_unauthorized(self, medianest: Started) -> None:
        async with medianest.client() as http:
            response = await http.get("/api/v1/admin/users")
        assert response.status_code == 401


class TestUsers:
    async def test_list_search_and_page(self, admin: Any, database_url: str) -> None:
        for name in ("alice", "bob", "alina"):
            await make_user(database_url, username=name, email=f"{name}@example.com")
        found = (await admin.get("/api/v1/admin/users", params={"search": "ALI"})).json()
        paged = (await admin.get("/api/v1/admin/users", params={"pageSize": 2, "page": 2})).json()
        assert [u["username"] for u in found["data"]] == ["alice", "alina"]
        assert paged["meta"] == {"page": 2, "pageSize": 2, "total": 4, "totalPages": 2}
        assert "passwordHash" not in str(found) and "plexToken" not in str(found)

    async def test_wildcards_in_a_search_are_plain_characters(
        self, admin: Any, database_url: str
    ) -> None:
        await make_user(database_url, username="max_power", email="max@example.com")
        await make_user(database_url, username="maxipower", email="maxi@example.com")
        underscore = (await admin.get("/api/v1/admin/users", params={"search": "x_p"})).json()
        percent = (await admin.get("/api/v1/admin/users", params={"search": "%"})).json()
        assert [u["username"] for u in underscore["data"]] == ["max_power"]
        assert percent["data"] == [] and percent["meta"]["total"] == 0

    async def test_each_user_shows_when_they_were_last_seen(
        self, admin: Any, medianest: Started, database_url: str
    ) -> None:
        await make_user(database_url, username="nina")
        await make_user(database_url, username="sam")
        async with medianest.client() as http:
            await sign_in(http, "sam", PASSWORD)
        recent = (await admin.get("/api/v1/admin/users", params={"sort": "-lastSeenAt"})).json()
        longest = (await admin.get("/api/v1/admin/users", params={"sort": "lastSeenAt"})).json()
        seen = {u["username"]: u["lastSeenAt"] for u in recent["data"]}
        assert [u["username"] for u in recent["data"]] == ["sam", "admin", "nina"]
        assert [u["username"] for u in longest["data"]] == ["nina", "admin", "sam"]
        assert seen["nina"] is None
        assert seen["sam"] > seen["admin"]

    async def test_suspending_signs_the_user_out_at_once(
        self, admin: Any, medianest: Started, database_url: str
    ) -> None:
        user = await make_user(database_url, username="victor")
        async with medianest.client() as http:
            token = (await sign_in(http, "victor", PASSWORD)).json()["data"]["token"]
            suspended = await admin.patch(
                f"/api/v1/admin/users/{user.id}", json={"status": "suspended"}, headers=csrf(admin)
            )
            after = await http.get("/api/v1/auth/session", headers=bearer(token))
            again = await sign_in(http, "victor", PASSWORD)
        assert suspended.json()["data"]["status"] == "suspended"
        assert after.status_code == 401
        assert again.status_code == 403

    async def test_promotion_takes_effect_on_the_next_request(
        self, admin: Any, medianest: Started, database_url: str
    ) -> None:
        user = await make_user(database_url, username="wendy")
        async with medianest.client() as http:
            await sign_in(http, "wendy", PASSWORD)
            before = await http.get("/api/v1/admin/users")
            await admin.patch(
                f"/api/v1/admin/users/{user.id}", json={"role": "admin"}, headers=csrf(admin)
            )
            after = await http.get("/api/v1/admin/users")
        assert before.status_code == 403 and after.status_code == 200

    async def test_an_admin_cannot_demote_suspend_or_delete_themself(self, admin: Any) -> None:
        me = (await admin.get("/api/v1/auth/session")).json()["data"]["user"]["id"]
        demote = await admin.patch(
            f"/api/v1/admin/users/{me}", json={"role": "user"}, headers=csrf(admin)
        )
        suspend = await admin.patch(
            f"/api/v1/admin/users/{me}", json={"status": "suspended"}, headers=csrf(admin)
        )
        delete = await admin.delete(f"/api/v1/admin/users/{me}", headers=csrf(admin))
        assert demote.status_code == suspend.status_code == delete.status_code == 409

    async def test_deleting_removes_the_account_and_its_sessions(
        self, admin: Any, medianest: Started, database_url: str
    ) -> None:
        user = await make_user(database_url, username="xena", role=Role.USER)
        async with medianest.client() as http:
            token = (await sign_in(http, "xena", PASSWORD)).json()["data"]["token"]
            deleted = await admin.delete(f"/api/v1/admin/users/{user.id}", headers=csrf(admin))
            after = await http.get("/api/v1/auth/session", headers=bearer(token))
            missing = await admin.delete(f"/api/v1/admin/users/{user.id}", headers=csrf(admin))
        assert deleted.status_code == 204
        assert after.status_code == 401
        assert missing.status_code == 404

    async def test_bad_input_is_explained(self, admin: Any) -> None:
        bad_id = await admin.patch("/api/v1/admin/users/not-a-uuid", json={}, headers=csrf(admin))
        bad_role = await admin.patch(
            "/api/v1/admin/users/00000000-0000-0000-0000-000000000000",
            json={"role": "emperor"},
            headers=csrf(admin),
        )
        bad_page = await admin.get("/api/v1/admin/users", params={"pageSize": 1000})
        assert bad_id.status_code == bad_role.status_code == bad_page.status_code == 400
        assert bad_role.json()["error"]["details"][0]["field"] == "role"
        assert bad_page.json()["error"]["details"][0]["field"] == "pageSize"


class TestRequestCounts:
    """Each user's requests, as the users page shows them in its Requests column."""

    async def test_an_admin_sees_how_many_requests_each_user_made_and_how_many_are_open(
        self, admin: Any, database_url: str
    ) -> None:
        alice = await make_user(database_url, username="alice")
        bob = await make_user(database_url, username="bob")
        await make_user(database_url, username="carol")
        for status in (RequestStatus.PENDING, RequestStatus.PROCESSING, RequestStatus.AVAILABLE):
            await make_request(database_url, alice.id, status=status)
        # Being sent to Overseerr still: not a request of hers until it is sent.
        await make_request(database_url, alice.id, status=RequestStatus.SUBMITTING)
        # Bob follows alice's request: it is hers, not his.
        await make_request(
            database_url, alice.id, status=RequestStatus.APPROVED, followed_by=(bob.id,)
        )
        await make_request(database_url, bob.id, status=RequestStatus.DECLINED, media_type="tv")

        page = await admin.get("/admin/users", headers=PAGE)
        listed = (await admin.get("/api/v1/admin/users")).json()["data"]

        assert '<th scope="col" data-fact="requests">Requests</th>' in page.text
        shown = {u["username"]: u["facts"]["requests"] for u in listed}
        assert shown == {
            "admin": {"text": "None", "note": None, "data": {"total": 0, "open": 0}},
            "alice": {"text": "4", "note": "3 open", "data": {"total": 4, "open": 3}},
            "bob": {"text": "1", "note": "none open", "data": {"total": 1, "open": 0}},
            "carol": {"text": "None", "note": None, "data": {"total": 0, "open": 0}},
        }

    async def test_a_changed_user_keeps_their_counts_in_the_answer(
        self, admin: Any, database_url: str
    ) -> None:
        dave = await make_user(database_url, username="dave")
        await make_request(database_url, dave.id)

        changed = await admin.patch(
            f"/api/v1/admin/users/{dave.id}", json={"role": "admin"}, headers=csrf(admin)
        )

        shown = changed.json()["data"]["facts"]["requests"]
        assert (shown["text"], shown["note"]) == ("1", "1 open")


class TestAuditLog:
    async def test_admin_actions_are_recorded_with_who_what_and_where(
        self, admin: Any, database_url: str
    ) -> None:
        user = await make_user(database_url, username="yuri")
        await admin.patch(
            f"/api/v1/admin/users/{user.id}", json={"role": "admin"}, headers=csrf(admin)
        )
        log = (await admin.get("/api/v1/admin/audit-log", params={"actor": "ADMIN"})).json()
        entry = next(e for e in log["data"] if e["action"] == "admin.user_updated")
        assert entry["actorName"] == "admin"
        assert entry["targetId"] == str(user.id)
        assert entry["details"] == {"role": "admin"}
        assert entry["ip"] == "203.0.113.9"
        actions = [e["action"] for e in log["data"]]
        assert "auth.password_changed" in actions and "auth.login" in actions


class TestSessionCheck:
    """`GET /api/v1/auth/session` is served by a plain route with a memoised body."""

    async def test_it_shows_a_promotion_at_once(
        self, admin: Any, medianest: Started, database_url: str
    ) -> None:
        user = await make_user(database_url, username="xena")
        async with medianest.client() as http:
            await sign_in(http, "xena", PASSWORD)
            before = (await http.get("/api/v1/auth/session")).json()["data"]["user"]
            await admin.patch(
                f"/api/v1/admin/users/{user.id}", json={"role": "admin"}, headers=csrf(admin)
            )
            after = (await http.get("/api/v1/auth/session")).json()["data"]["user"]
        assert (before["role"], after["role"]) == ("user", "admin")
        assert after["username"] == "xena" and after["id"] == str(user.id)

    async def test_it_is_documented_and_counted(self, admin: Any, medianest: Started) -> None:
        await admin.get("/api/v1/auth/session")
        async with medianest.client() as http:
            anonymous = await http.get("/api/v1/auth/session")
            spec = (await http.get("/api/openapi.json")).json()
            metrics = (await http.get("/metrics")).text
        assert anonymous.status_code == 401
        assert anonymous.json()["error"]["code"] == "UNAUTHORIZED"
        assert "get" in spec["paths"]["/api/v1/auth/session"]
        assert 'route="/api/v1/auth/session",status="200"' in metrics
        assert 'route="/api/v1/auth/session",status="401"' in metrics
