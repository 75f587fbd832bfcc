"""The fake's HTTP surface: Overseerr's `/api/v1` routes behind its validator and auth."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.overseerr import constants as c
from tests.fakes.overseerr.catalogue import Title, payload
from tests.fakes.overseerr.openapi import (
    ApiError,
    check_import_body,
    check_path_enum,
    check_path_number,
    check_query,
    check_request_body,
    unauthorised,
)
from tests.fakes.overseerr.records import FakeUser
from tests.fakes.overseerr.state import Flavour, OverseerrState

PAGE_SIZE = 20
PUBLIC = {"/status", "/status/appdata", "/settings/public"}


@dataclass(frozen=True)
class RecordedCall:
    method: str
    path: str
    query: str
    headers: dict[str, str] = field(repr=False)
    json: Any = None


@dataclass
class Call:
    """One API call once it passed the validator: who acts, and the decoded query."""

    request: Request
    actor: FakeUser
    query: dict[str, str]
    body: Any


Handler = Callable[[Call], Awaitable[Any]]


class ApiRoutes:
    """The routes half of `FakeOverseerr`, which supplies the state, switches and call log."""

    flavour: Flavour
    version: str
    api_key: str
    _state: OverseerrState
    _lock: threading.RLock
    _slow_seconds: float
    _failing: tuple[int, int | None] | None
    _calls: list[RecordedCall]
    _flush: Callable[[], None]

    def _routes(self) -> list[Route]:
        # method, path, handler, and the spec entry whose query parameters it declares
        table: list[tuple[str, str, Handler, str]] = [
            ("GET", "/status", self._status, ""),
            ("GET", "/status/appdata", self._appdata, ""),
            ("GET", "/settings/public", self._public_settings, ""),
            ("GET", "/auth/me", self._me, ""),
            ("GET", "/search", self._search, "/search"),
            ("GET", "/discover/trending", self._trending, "/discover/trending"),
            ("GET", "/discover/movies/upcoming", self._upcoming, "/discover/movies/upcoming"),
            ("GET", "/discover/movies", self._discover_movies, "/discover/movies"),
            ("GET", "/discover/tv", self._discover_tv, "/discover/tv"),
            ("GET", "/movie/{id}", self._movie, "/movie"),
            ("GET", "/tv/{id}", self._tv, "/tv"),
            ("GET", "/request", self._list_requests, "/request"),
            ("POST", "/request", self._create_request, ""),
            ("GET", "/request/count", self._count, ""),
            ("GET", "/request/{id}", self._get_request, ""),
            ("DELETE", "/request/{id}", self._delete_request, ""),
            ("POST", "/request/{id}/retry", self._retry, ""),
            ("POST", "/request/{id}/{status}", self._set_status, ""),
            ("GET", "/user", self._list_users, "/user"),
            ("POST", "/user/import-from-plex", self._import, ""),
            ("GET", "/user/{id}", self._get_user, ""),
            ("GET", "/user/{id}/quota", self._quota, ""),
        ]
        routes = [
            Route(f"/api/v1{path}", self._endpoint(path, handler, spec), methods=[method])
            for method, path, handler, spec in table
        ]
        routes.append(
            Route(
                "/{path:path}",
                self._not_found,
                methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            )
        )
        return routes

    def _endpoint(
        self, template: str, handler: Handler, spec: str
    ) -> Callable[[Request], Awaitable[Response]]:
        """Wrap a handler in what Overseerr does before a route runs: the validator's security
        and query checks, then `checkUser` and `isAuthenticated()`."""

        async def endpoint(request: Request) -> Response:
            early = await self._enter(request)
            if early is not None:
                return early
            try:
                headers = request.headers
                if template not in PUBLIC and not (
                    headers.get("x-api-key") or request.cookies.get("connect.sid")
                ):
                    raise unauthorised(request.url.path)
                query = check_query(self.flavour, spec, request.url.query)
                with self._lock:
                    actor = self._acting_user(request)
                if actor is None and template not in PUBLIC:
                    return JSONResponse(payload("forbidden.json"), status_code=403)
                body = await _json_body(request)
                call = Call(request, actor or self._state.users[1], query, body)
                result = await handler(call)
            except ApiError as error:
                self._flush()
                return JSONResponse(error.body, status_code=error.status)
            self._flush()
            if isinstance(result, Response):
                return result
            return JSONResponse(result)

        return endpoint

    def _acting_user(self, request: Request) -> FakeUser | None:
        """`checkUser`: the key acts as user 1, or as `X-API-User` when that header is set."""
        if request.headers.get("x-api-key") != self.api_key:
            return None
        raw = request.headers.get("x-api-user", "")
        if not raw:
            return self._state.users.get(1)
        try:
            user_id = float(raw.strip()) if raw.strip() else 0.0
        except ValueError:
            return None
        return self._state.users.get(int(user_id)) if user_id.is_integer() else None

    async def _enter(self, request: Request) -> Response | None:
        """Record the call; wait when slow; answer the failure when failing."""
        raw_body = await request.body()
        try:
            parsed = json.loads(raw_body) if raw_body else None
        except ValueError:
            parsed = None
        with self._lock:
            self._calls.append(
                RecordedCall(
                    request.method,
                    request.url.path,
                    request.url.query,
                    dict(request.headers),
                    parsed,
                )
            )
            seconds = self._slow_seconds
            failing = self._failing
            if failing is not None and failing[1] is not None:
                remaining = failing[1] - 1
                self._failing = (failing[0], remaining) if remaining > 0 else None
        if seconds:
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                if await request.is_disconnected():
                    return Response(status_code=499)
                await asyncio.sleep(0.02)
        if failing is not None:
            return JSONResponse({"message": "Something went wrong."}, status_code=failing[0])
        return None

    async def _not_found(self, request: Request) -> Response:
        early = await self._enter(request)
        if early is not None:
            return early
        path = request.url.path
        return JSONResponse(
            {"message": "not found", "errors": [{"path": path, "message": "not found"}]},
            status_code=404,
        )

    # Handlers: each runs with the validator passed and the acting user known.

    async def _status(self, call: Call) -> Any:
        body = payload("status.json")
        body["version"] = self.version
        return body

    async def _appdata(self, call: Call) -> Any:
        return payload("status_appdata.json")

    async def _public_settings(self, call: Call) -> Any:
        return payload(
            "settings_public_seerr.json" if self.flavour == "seerr" else "settings_public.json"
        )

    async def _me(self, call: Call) -> Any:
        with self._lock:
            return self._state.user_out(call.actor)

    async def _search(self, call: Call) -> Any:
        text = call.query["query"].strip()
        lowered = text.lower()
        with self._lock:
            titles = list(self._state.titles.values())
            if lowered.startswith("tmdb:") and lowered[5:].isdigit():
                found = [t for t in titles if t.tmdb_id == int(lowered[5:])]
                return self._page(found, 1, single=True)
            if "year:" in lowered:
                year, _, _ = lowered.partition("year:")[2].partition(" ")
                rest = lowered.replace(f"year:{year}", "").strip()
                found = [t for t in titles if t.year == year[:4] and rest in t.name.lower()]
                return self._page(_by_popularity(found), 1, single=True)
            found = [t for t in titles if lowered in t.name.lower()]
            return self._page(_by_popularity(found), _int(call.query.get("page"), 1))

    async def _trending(self, call: Call) -> Any:
        with self._lock:
            titles = _by_popularity(list(self._state.titles.values()))
            return self._page(titles, _int(call.query.get("page"), 1))

    async def _discover_movies(self, call: Call) -> Any:
        return self._discover(call, "movie")

    async def _discover_tv(self, call: Call) -> Any:
        return self._discover(call, "tv")

    def _discover(self, call: Call, media_type: str) -> Any:
        with self._lock:
            titles = [t for t in self._state.titles.values() if t.media_type == media_type]
            return self._page(_by_popularity(titles), _int(call.query.get("page"), 1))

    async def _upcoming(self, call: Call) -> Any:
        today = time.strftime("%Y-%m-%d")
        with self._lock:
            titles = sorted(
                (
                    t
                    for t in self._state.titles.values()
                    if t.media_type == "movie" and t.release_date > today
                ),
                key=lambda t: (t.release_date, t.tmdb_id),
            )
            return self._page(titles, _int(call.query.get("page"), 1))

    def _page(self, titles: list[Title], page: int, *, single: bool = False) -> dict[str, Any]:
        """A TMDB page of 20; a prefix search (`tmdb:`, `year:`) answers one page of all."""
        chosen = titles if single else titles[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        return {
            "page": page,
            "totalPages": 1 if single else max(1, -(-len(titles) // PAGE_SIZE)),
            "totalResults": len(titles),
            "results": [self._state.result_json(t) for t in chosen],
        }

    async def _movie(self, call: Call) -> Any:
        tmdb_id = check_path_number("movieId", call.request.path_params["id"])
        with self._lock:
            return self._state.details("movie", tmdb_id)

    async def _tv(self, call: Call) -> Any:
        tmdb_id = check_path_number("tvId", call.request.path_params["id"])
        with self._lock:
            return self._state.details("tv", tmdb_id)

    async def _create_request(self, call: Call) -> Any:
        body = check_request_body(call.body)
        with self._lock:
            return JSONResponse(self._state.create_request(call.actor, body), status_code=201)

    async def _list_requests(self, call: Call) -> Any:
        with self._lock:
            return self._state.list_requests(call.actor, call.query)

    async def _count(self, call: Call) -> Any:
        with self._lock:
            return self._state.count()

    async def _get_request(self, call: Call) -> Any:
        with self._lock:
            request = self._state.find_request(call.request.path_params["id"])
            if request.requested_by != call.actor.id and not call.actor.can(
                c.MANAGE_REQUESTS, c.REQUEST_VIEW
            ):
                raise ApiError.message(403, "You do not have permission to view this request.")
            return self._state.request_out(request)

    async def _delete_request(self, call: Call) -> Any:
        with self._lock:
            request = self._state.find_request(call.request.path_params["id"])
            self._state.delete_request(call.actor, request)
        return Response(status_code=204)

    async def _set_status(self, call: Call) -> Any:
        status = call.request.path_params["status"]
        check_path_enum("status", status, ["approve", "decline"])
        new = c.REQUEST_APPROVED if status == "approve" else c.REQUEST_DECLINED
        return self._change(call, new)

    async def _retry(self, call: Call) -> Any:
        return self._change(call, c.REQUEST_APPROVED)

    def _change(self, call: Call, status: int) -> Any:
        """Approve, decline or retry; the answer shows the request's media as it was loaded,
        before the hooks updated the media row."""
        if not call.actor.can(c.MANAGE_REQUESTS):
            return JSONResponse(payload("forbidden.json"), status_code=403)
        with self._lock:
            request = self._state.find_request(call.request.path_params["id"])
            before = self._state.request_out(request)
            self._state.change_status(request, status, call.actor.id)
            after = self._state.request_out(request)
            after["media"] = before["media"]
            return after

    async def _list_users(self, call: Call) -> Any:
        with self._lock:
            return self._state.list_users(call.actor, call.query)

    async def _get_user(self, call: Call) -> Any:
        user_id = check_path_number("userId", call.request.path_params["id"])
        with self._lock:
            user = self._state.user(user_id)
            return self._state.user_out(user, filtered=not call.actor.can(c.MANAGE_USERS))

    async def _quota(self, call: Call) -> Any:
        user_id = check_path_number("userId", call.request.path_params["id"])
        actor = call.actor
        if user_id != actor.id and not (actor.can(c.MANAGE_USERS) and actor.can(c.MANAGE_REQUESTS)):
            raise ApiError.message(
                403, "You do not have permission to view this user's request limits."
            )
        with self._lock:
            if user_id not in self._state.users:
                raise ApiError.message(
                    404, f'Could not find any entity of type "User" matching: {user_id}'
                )
            return self._state.quota(self._state.users[user_id])

    async def _import(self, call: Call) -> Any:
        if not call.actor.can(c.MANAGE_USERS):
            return JSONResponse(payload("forbidden.json"), status_code=403)
        plex_ids = check_import_body(call.body)
        with self._lock:
            created = self._state.import_from_plex(call.body or {}, plex_ids)
        return JSONResponse(created, status_code=201)


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ApiError.message(400, "Unexpected token in JSON at position 0") from exc


def _by_popularity(titles: list[Title]) -> list[Title]:
    return sorted(titles, key=lambda t: (-t.popularity, t.tmdb_id))


def _int(value: str | None, default: int) -> int:
    return int(float(value)) if value else default
