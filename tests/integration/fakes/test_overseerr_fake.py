"""The fake Overseerr answers as reference/upstream-apis.md §3 says a real one does (plain httpx)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.fakes.overseerr import (
    AUTO_APPROVE,
    MANAGE_REQUESTS,
    REQUEST,
    FakeOverseerr,
)
from tests.support.server import ThreadedServer

RESERVED = "Parameter 'query' must be url encoded. Its value may not contain reserved characters."


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOverseerr]:
    fake = FakeOverseerr().start()
    yield fake
    fake.stop()


@pytest.fixture
def overseerr(server: FakeOverseerr) -> FakeOverseerr:
    server.reset()
    return server.start()


@pytest.fixture
def api(overseerr: FakeOverseerr) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=f"{overseerr.url}/api/v1", headers={"X-Api-Key": overseerr.api_key}, timeout=5
    ) as client:
        yield client


class Receiver:
    """A tiny webhook endpoint that keeps what it was sent."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], Any]] = []
        app = Starlette(routes=[Route("/hook", self._hook, methods=["POST"])])
        self.server = ThreadedServer(app).start()
        self.url = f"{self.server.url}/hook"

    async def _hook(self, request: Request) -> JSONResponse:
        self.received.append((dict(request.headers), await request.json()))
        return JSONResponse({"ok": True})


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    hook = Receiver()
    yield hook
    hook.server.stop()


def as_user(user_id: int) -> dict[str, str]:
    return {"X-API-User": str(user_id)}


def request_movie(api: httpx.Client, tmdb_id: int, user: int | None = None, **body: Any) -> Any:
    headers = as_user(user) if user else {}
    return api.post(
        "/request", json={"mediaType": "movie", "mediaId": tmdb_id, **body}, headers=headers
    )


def request_show(api: httpx.Client, seasons: Any, user: int | None = None) -> Any:
    headers = as_user(user) if user else {}
    body = {"mediaType": "tv", "mediaId": 1399, "seasons": seasons, "is4k": False}
    return api.post("/request", json=body, headers=headers)


class TestQueryEncoding:
    def test_a_plus_for_a_space_is_refused(self, api: httpx.Client) -> None:
        answer = api.get("/search", params={"query": "the matrix"})
        assert answer.status_code == 400
        assert answer.json()["message"] == RESERVED
        assert answer.json()["errors"][0]["path"] == "/query/query"

    def test_percent_twenty_is_accepted(self, api: httpx.Client, overseerr: FakeOverseerr) -> None:
        answer = api.get("/search?query=the%20matrix&page=1")
        assert answer.status_code == 200
        titles = [r["title"] for r in answer.json()["results"]]
        assert titles == ["The Matrix", "The Matrix Reloaded"]
        assert overseerr.calls[-1].query == "query=the%20matrix&page=1"

    def test_any_reserved_character_in_any_declared_parameter(self, api: httpx.Client) -> None:
        assert api.get("/search?query=alien:%20romulus").status_code == 400
        answer = api.get("/request?take=1,2")
        assert answer.status_code == 400
        assert answer.json()["message"].startswith("Parameter 'take' must be url encoded.")
        encoded = api.get("/search?query=alien%3A%20romulus")
        assert [r["title"] for r in encoded.json()["results"]] == ["Alien: Romulus"]

    def test_parameters_only_seerr_declares_are_refused(self, api: httpx.Client) -> None:
        answer = api.get("/request?mediaType=movie")
        assert answer.status_code == 400
        assert answer.json()["message"] == "Unknown query parameter 'mediaType'"


class TestAuth:
    def test_a_missing_key_is_401_from_the_validator(self, overseerr: FakeOverseerr) -> None:
        answer = httpx.get(f"{overseerr.url}/api/v1/request")
        assert answer.status_code == 401
        assert answer.json()["message"] == "cookie 'connect.sid' required"
        assert answer.json()["errors"]

    def test_a_wrong_key_is_403(self, overseerr: FakeOverseerr) -> None:
        answer = httpx.get(f"{overseerr.url}/api/v1/request", headers={"X-Api-Key": "nope"})
        assert answer.status_code == 403
        assert answer.json() == {
            "status": 403,
            "error": "You do not have permission to access this endpoint",
        }

    @pytest.mark.parametrize("user", ["99", "abc"])
    def test_an_unknown_or_non_integer_user_is_403(self, api: httpx.Client, user: str) -> None:
        answer = api.get("/auth/me", headers={"X-API-User": user})
        assert answer.status_code == 403
        assert answer.json()["status"] == 403

    def test_no_user_header_acts_as_the_owner(
        self, api: httpx.Client, overseerr: FakeOverseerr
    ) -> None:
        assert api.get("/auth/me").json()["id"] == 1
        assert api.get("/auth/me", headers={"X-API-User": ""}).json()["id"] == 1
        alice = overseerr.add_user("alice", plex_id=555)
        assert api.get("/auth/me", headers=as_user(alice)).json()["displayName"] == "alice"

    def test_status_is_public(self, overseerr: FakeOverseerr) -> None:
        answer = httpx.get(f"{overseerr.url}/api/v1/status")
        assert answer.json()["version"] == "1.34.0"
        assert "mediaServerType" not in httpx.get(f"{overseerr.url}/api/v1/settings/public").json()


class TestCreateRequest:
    def test_without_auto_approve_it_is_pending(
        self, api: httpx.Client, overseerr: FakeOverseerr
    ) -> None:
        alice = overseerr.add_user("alice", plex_id=555)
        answer = request_movie(api, 603, alice, is4k=False)
        assert answer.status_code == 201
        body = answer.json()
        assert (body["status"], body["media"]["status"]) == (1, 2)
        assert body["requestedBy"]["id"] == alice
        assert body["requestedBy"]["username"] is None
        assert body["serverId"] is None
        assert overseerr.calls[-1].headers["x-api-user"] == str(alice)

    def test_with_auto_approve_it_is_approved_and_processing(
        self, api: httpx.Client, overseerr: FakeOverseerr
    ) -> None:
        bob = overseerr.add_user("bob", plex_id=556, permissions=REQUEST | AUTO_APPROVE)
        assert request_movie(api, 603, bob, is4k=False).json()["status"] == 2
        assert api.get("/movie/603").json()["mediaInfo"]["status"] == 3

    def test_a_user_without_request_permission_is_refused(
        self, api: httpx.Client, overseerr: FakeOverseerr
    ) -> None:
        carol = overseerr.add_user("carol", permissions=0)
        answer = request_movie(api, 603, carol, is4k=False)
        assert answer.status_code == 403
        assert answer.json() == {"message": "You do not have permission to make movie requests."}

    def test_quota_exceeded_is_403(self, api: httpx.Client, overseerr: FakeOverseerr) -> None:
        alice = overseerr.add_user("alice")
        overseerr.set_quota(alice, "movie", 1)
        assert request_movie(api, 603, alice, is4k=False).status_code == 201
        answer = request_movie(api, 604, alice, is4k=False)
        assert (answer.status_code, answer.json()) == (403, {"message": "Movie Quota exceeded."})

    def test_a_movie_requested_twice_is_409(self, api: httpx.Client) -> None:
        assert request_movie(api, 603, is4k=False).status_code == 201
        answer = request_movie(api, 603, is4k=False)
        assert answer.status_code == 409
        assert answer.json() == {"message": "Request for this media already exists."}

    def test_without_is4k_the_duplicate_slips_through(
        self, api: httpx.Client, overseerr: FakeOverseerr
    ) -> None:
        assert request_movie(api, 603).status_code == 201
        assert request_movie(api, 603).status_code == 201
        assert [r.tmdb_id for r in overseerr.requests] == [603, 603]

    def test_an_unknown_title_is_500(self, api: httpx.Client) -> None:
        assert request_movie(api, 1, is4k=False).status_code == 500
        answer = api.get("/movie/1")
        assert (answer.status_code, answer.json()) == (
            500,
            {"message": "Unable to retrieve movie."},
        )


class TestSeasons:
    def test_requested_and_available_seasons_are_dropped(
        self, api: httpx.Client, overseerr: FakeOverseerr
    ) -> None:
        assert request_show(api, [1, 2]).json()["seasonCount"] == 2
        overseerr.set_media_status(1399, "tv", 4, seasons={3: 5})
        answer = request_show(api, [2, 3, 4])
        assert answer.status_code == 201
        assert [s["seasonNumber"] for s in answer.json()["seasons"]] == [4]

    def test_nothing_left_to_request_is_202(self, api: httpx.Client) -> None:
        request_show(api, "all")
        answer = request_show(api, [1])
        assert (answer.status_code, answer.json()) == (
            202,
            {"message": "No seasons available to request"},
        )

    def test_details_list_the_seasons_and_their_status(
        self, api: httpx.Client, overseerr: FakeOverseerr
    ) -> None:
        overseerr.set_media_status(1399, "tv", 4, seasons={1: 5})
        details = api.get("/tv/1399").json()
        season = details["seasons"][1]
        assert (season["seasonNumber"], season["episodeCount"]) == (1, 10)
        assert details["mediaInfo"]["seasons"][0]["seasonNumber"] == 1
        assert details["mediaInfo"]["seasons"][0]["status"] == 5


class TestListRequests:
    def test_pages_filters_and_newest_first(
        self, api: httpx.Client, overseerr: FakeOverseerr
    ) -> None:
        alice = overseerr.add_user("alice")
        for tmdb_id in (603, 604, 13804):
            request_movie(api, tmdb_id, alice, is4k=False)
        api.post("/request/2/approve")
        page = api.get("/request?take=2&skip=2").json()
        assert page["pageInfo"] == {"pages": 2, "pageSize": 2, "results": 3, "page": 2}
        assert [r["id"] for r in page["results"]] == [1]
        assert [r["id"] for r in api.get("/request").json()["results"]] == [3, 2, 1]
        assert [r["id"] for r in api.get("/request?filter=pending").json()["results"]] == [3, 1]
        assert [r["id"] for r in api.get("/request?filter=approved").json()["results"]] == [2]
        assert api.get("/request/count").json()["pending"] == 2

    def test_a_user_sees_only_their_own(self, api: httpx.Client, overseerr: FakeOverseerr) -> None:
        alice, bob = overseerr.add_user("alice"), overseerr.add_user("bob")
        request_movie(api, 603, alice, is4k=False)
        request_movie(api, 604, bob, is4k=False)
        mine = api.get("/request", headers=as_user(alice)).json()
        assert [r["requestedBy"]["id"] for r in mine["results"]] == [alice]
        answer = api.get(f"/request?requestedBy={bob}", headers=as_user(alice))
        assert answer.status_code == 403

    def test_approving_needs_manage_requests(
        self, api: httpx.Client, overseerr: FakeOverseerr
    ) -> None:
        alice = overseerr.add_user("alice")
        manager = overseerr.add_user("mona", permissions=REQUEST | MANAGE_REQUESTS)
        request_movie(api, 603, alice, is4k=False)
        assert api.post("/request/1/approve", headers=as_user(alice)).status_code == 403
        approved = api.post("/request/1/approve", headers=as_user(manager))
        assert approved.json()["status"] == 2
        assert approved.json()["modifiedBy"]["id"] == manager
        assert api.get("/request/9").json() == {"message": "Request not found."}


class TestDeleteRequest:
    def test_another_users_approved_request_is_401(
        self, api: httpx.Client, overseerr: FakeOverseerr
    ) -> None:
        alice, bob = overseerr.add_user("alice"), overseerr.add_user("bob")
        request_movie(api, 603, alice, is4k=False)
        overseerr.set_request_status(1, 2)
        answer = api.delete("/request/1", headers=as_user(bob))
        assert answer.status_code == 401
        assert answer.json() == {"message": "You do not have permission to delete this request."}

    def test_an_own_pending_request_is_deleted(
        self, api: httpx.Client, overseerr: FakeOverseerr
    ) -> None:
        alice = overseerr.add_user("alice")
        request_movie(api, 603, alice, is4k=False)
        assert api.delete("/request/1", headers=as_user(alice)).status_code == 204
        assert overseerr.requests == []
        assert api.get("/movie/603").json()["mediaInfo"]["status"] == 1


class TestSearch:
    def test_media_info_only_for_known_titles(
        self, api: httpx.Client, overseerr: FakeOverseerr
    ) -> None:
        overseerr.set_media_status(603, "movie", 5)
        results = api.get("/search?query=matrix").json()["results"]
        assert [("mediaInfo" in r, r["mediaType"]) for r in results] == [
            (True, "movie"),
            (False, "movie"),
        ]
        assert results[0]["mediaInfo"]["status"] == 5

    def test_prefixes_and_pages(self, api: httpx.Client) -> None:
        assert [r["name"] for r in api.get("/search?query=tmdb%3A1399").json()["results"]] == [
            "Game of Thrones"
        ]
        assert [
            r["id"] for r in api.get("/search?query=matrix%20year%3A1999").json()["results"]
        ] == [603]
        trending = api.get("/discover/trending?page=2").json()
        assert (trending["page"], len(trending["results"])) == (2, 20)
        assert trending["totalResults"] >= 40


class TestImportFromPlex:
    def test_string_ids_create_users(self, api: httpx.Client, overseerr: FakeOverseerr) -> None:
        overseerr.allow_plex_import(123, "dave")
        overseerr.allow_plex_import(124, "erin")
        answer = api.post("/user/import-from-plex", json={"plexIds": ["123"]})
        assert answer.status_code == 201
        assert [u["plexUsername"] for u in answer.json()] == ["dave"]
        users = api.get("/user").json()["results"]
        assert [(u["plexId"], u["username"]) for u in users] == [(1000001, None), (123, None)]
        again = api.post("/user/import-from-plex", json={"plexIds": ["123"]})
        assert again.json() == []

    def test_number_ids_are_400(self, api: httpx.Client, overseerr: FakeOverseerr) -> None:
        overseerr.allow_plex_import(123, "dave")
        answer = api.post("/user/import-from-plex", json={"plexIds": [123]})
        assert answer.status_code == 400
        assert answer.json()["message"] == "request/body/plexIds/0 must be string"


class TestWebhook:
    def test_the_default_template_renders_strings(
        self, api: httpx.Client, overseerr: FakeOverseerr, receiver: Receiver
    ) -> None:
        alice = overseerr.add_user("Alice Liddell", plex_id=555)
        request_movie(api, 945961, alice, is4k=False)
        overseerr.configure_webhook(receiver.url, "Bearer s3cret")
        assert overseerr.send_webhook("MEDIA_PENDING", 1) == 200
        headers, body = receiver.received[-1]
        assert headers["authorization"] == "Bearer s3cret"
        assert body["event"] == "New Movie Request"
        assert body["subject"] == "Alien: Romulus (2024)"
        assert body["media"] == {
            "media_type": "movie",
            "tmdbId": "945961",
            "tvdbId": "",
            "status": "PENDING",
            "status4k": "UNKNOWN",
        }
        assert body["request"]["request_id"] == "1"
        assert body["request"]["requestedBy_username"] == "Alice Liddell"
        assert (body["issue"], body["comment"], body["extra"]) == (None, None, [])
        leaves = [v for k, v in body.items() if k not in ("media", "request", "issue", "comment")]
        leaves += [*body["media"].values(), *body["request"].values()]
        assert all(isinstance(v, str) for v in leaves if v != [])

    def test_auto_webhooks_follow_request_events(
        self, api: httpx.Client, overseerr: FakeOverseerr, receiver: Receiver
    ) -> None:
        overseerr.configure_webhook(receiver.url)
        overseerr.auto_webhooks(True)
        alice = overseerr.add_user("alice")
        before = len(receiver.received)
        request_movie(api, 603, alice, is4k=False)
        api.post("/request/1/approve")
        overseerr.set_media_status(603, "movie", 5)
        overseerr.wait_for_webhooks()
        kinds = [b["notification_type"] for _, b in receiver.received[before:]]
        assert kinds == ["MEDIA_PENDING", "MEDIA_APPROVED", "MEDIA_AVAILABLE"]


class TestSwitches:
    def test_down_refuses_and_healthy_comes_back(self, overseerr: FakeOverseerr) -> None:
        overseerr.down()
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{overseerr.url}/api/v1/status")
        overseerr.healthy()
        assert httpx.get(f"{overseerr.url}/api/v1/status").status_code == 200

    def test_failing_and_slow(self, overseerr: FakeOverseerr) -> None:
        overseerr.failing(503, times=1)
        assert httpx.get(f"{overseerr.url}/api/v1/status").status_code == 503
        assert httpx.get(f"{overseerr.url}/api/v1/status").status_code == 200
        overseerr.slow(1.0)
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            httpx.get(f"{overseerr.url}/api/v1/status", timeout=0.2)
        assert time.monotonic() - started < 1.0


class TestSeerr:
    def test_public_settings_name_the_media_server(self) -> None:
        seerr = FakeOverseerr(flavour="seerr").start()
        try:
            settings = httpx.get(f"{seerr.url}/api/v1/settings/public").json()
            assert settings["mediaServerType"] == 1
            assert httpx.get(f"{seerr.url}/api/v1/status").json()["version"] == "3.1.0"
            answer = httpx.get(
                f"{seerr.url}/api/v1/request?mediaType=movie&sortDirection=asc",
                headers={"X-Api-Key": seerr.api_key},
            )
            assert answer.status_code == 200
            assert answer.json()["serviceErrors"] == {"radarr": [], "sonarr": []}
            key = {"X-Api-Key": seerr.api_key}
            body = {"mediaType": "movie", "mediaId": 603, "is4k": False}
            httpx.post(f"{seerr.url}/api/v1/request", json=body, headers=key)
            seerr.set_media_status(603, "movie", 5)
            assert seerr.request_by_id(1).status == 5
            done = httpx.get(f"{seerr.url}/api/v1/request?filter=available", headers=key)
            assert [r["id"] for r in done.json()["results"]] == [1]
        finally:
            seerr.stop()
