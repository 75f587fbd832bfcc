"""Calls to one Overseerr or Seerr (`/api/v1`), with MediaNest's API key.

A call made for a user carries `X-API-User: <their Overseerr id>`: Overseerr then applies that
user's permissions, quotas and auto-approve, never those of the key's owner (putting `userId` in
the body would only change who is shown as asking). Every query value is percent-encoded with
nothing left as is (`%20` for a space): Overseerr's request validator answers 400 to any reserved
character, `+` included. A movie request always says `is4k`: without it Overseerr's duplicate
check compares with NULL and lets a second request through.

Calls go through the Overseerr `Upstream` (breaker, retries for reads, failures translated). A
probing client (no `Upstream`) tries an address and key before they are saved: each call is tried
once, past the breaker, and every failure is an `OverseerrProbeFailed` saying why.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeVar
from urllib.parse import quote

import httpx
import structlog
from pydantic import BaseModel, TypeAdapter, ValidationError

from medianest.core.errors import NotFound
from medianest.core.resilience import Upstream
from medianest.integrations.overseerr.errors import (
    AlreadyRequestedUpstream,
    NoSeasonsLeft,
    OverseerrProbeFailed,
    OverseerrRefused,
    OverseerrRejected,
    OverseerrUnexpectedAnswer,
    OverseerrUserRefused,
    ProbeFailure,
    TitleNotFound,
    UpstreamRequestNotFound,
)
from medianest.integrations.overseerr.schemas import (
    MediaRequest,
    MediaType,
    Message,
    MovieDetails,
    PublicSettings,
    RequestPage,
    ResultPage,
    ServerStatus,
    TvDetails,
    User,
    UserPage,
)

log = structlog.get_logger(__name__)

M = TypeVar("M", bound=BaseModel)

API = "/api/v1"
_USERS = TypeAdapter(list[User])


class DiscoverRow(enum.StrEnum):
    """The rows a Requests page opens on, each one of Overseerr's discover routes."""

    TRENDING = "trending"
    POPULAR_MOVIES = "popular_movies"
    POPULAR_TV = "popular_tv"
    UPCOMING_MOVIES = "upcoming_movies"

    @property
    def path(self) -> str:
        return _DISCOVER_PATHS[self]


_DISCOVER_PATHS = {
    DiscoverRow.TRENDING: "/discover/trending",
    DiscoverRow.POPULAR_MOVIES: "/discover/movies",
    DiscoverRow.POPULAR_TV: "/discover/tv",
    DiscoverRow.UPCOMING_MOVIES: "/discover/movies/upcoming",
}

RequestFilter = Literal[
    "all", "approved", "available", "pending", "processing", "unavailable", "failed"
]


def query_string(params: Mapping[str, object]) -> str:
    """`k=v&...`, every value percent-encoded, reserved characters too; None values left out."""
    return "&".join(
        f"{quote(key, safe='')}={quote(str(value), safe='')}"
        for key, value in params.items()
        if value is not None
    )


def _unknown_title(response: httpx.Response) -> bool:
    # Overseerr's only way of saying TMDB has no such id: 500 "Unable to retrieve movie."
    return response.status_code == 500 and b"Unable to retrieve" in response.content


class OverseerrClient:
    def __init__(self, upstream: Upstream | None, *, http_client: httpx.AsyncClient) -> None:
        """`http_client` carries the base URL and the `X-Api-Key` header; this client closes it.
        Without `upstream` the client probes, straight through `http_client`."""
        self._upstream = upstream
        self._http_client = http_client

    async def aclose(self) -> None:
        await self._http_client.aclose()

    # Open to anyone

    async def status(self) -> ServerStatus:
        """Raises `OverseerrUnexpectedAnswer` (probing: `NOT_OVERSEERR`) when what answers has
        no version to tell, as Overseerr's always does."""
        return await self._get("/status", ServerStatus)

    async def public_settings(self) -> PublicSettings:
        return await self._get("/settings/public", PublicSettings)

    # As the key's owner, or as `as_user`

    async def me(self, *, as_user: int | None = None) -> User:
        """Who the key (or `as_user`) acts as; probing, a refused key is `KEY_REFUSED`."""
        return await self._get("/auth/me", User, as_user=as_user)

    async def search(self, query: str, *, page: int = 1) -> ResultPage:
        return await self._get("/search", ResultPage, params={"query": query, "page": page})

    async def discover(self, row: DiscoverRow, *, page: int = 1) -> ResultPage:
        return await self._get(row.path, ResultPage, params={"page": page})

    async def movie(self, tmdb_id: int) -> MovieDetails:
        """Raises `TitleNotFound` for an id TMDB does not have."""
        return await self._get(f"/movie/{tmdb_id}", MovieDetails, missing=TitleNotFound)

    async def tv(self, tmdb_id: int) -> TvDetails:
        """Raises `TitleNotFound` for an id TMDB does not have."""
        return await self._get(f"/tv/{tmdb_id}", TvDetails, missing=TitleNotFound)

    async def create_request(
        self,
        *,
        as_user: int,
        media_type: MediaType,
        tmdb_id: int,
        seasons: Sequence[int] | Literal["all"] | None = None,
        is_4k: bool = False,
        tvdb_id: int | None = None,
    ) -> MediaRequest:
        """Request a title as `as_user`. Raises `OverseerrRefused` (Overseerr's permission or
        quota answer), `OverseerrUserRefused` (it does not know `as_user`),
        `AlreadyRequestedUpstream` (a movie's open request exists), `NoSeasonsLeft` (a show's
        asked seasons are all requested or available already) and `TitleNotFound`."""
        body: dict[str, Any] = {"mediaType": media_type, "mediaId": tmdb_id, "is4k": is_4k}
        if media_type == "tv":
            body["seasons"] = seasons if seasons == "all" else list(seasons or [])
            if tvdb_id is not None:
                body["tvdbId"] = tvdb_id
        response = await self._call(
            "POST", "/request", json=body, as_user=as_user, missing=TitleNotFound
        )
        if response.status_code == 202:
            raise NoSeasonsLeft()
        return _parse(response, MediaRequest)

    async def requests(
        self,
        *,
        take: int = 50,
        skip: int = 0,
        sort: Literal["added", "modified"] = "modified",
        filter: RequestFilter = "all",
        requested_by: int | None = None,
    ) -> RequestPage:
        """A page of every user's requests, newest (by `sort`) first."""
        params = {
            "take": take,
            "skip": skip,
            "filter": filter,
            "sort": sort,
            "requestedBy": requested_by,
        }
        return await self._get("/request", RequestPage, params=params)

    async def get_request(self, request_id: int) -> MediaRequest:
        """Raises `UpstreamRequestNotFound`."""
        return await self._get(
            f"/request/{request_id}", MediaRequest, missing=UpstreamRequestNotFound
        )

    async def delete_request(self, request_id: int, *, as_user: int | None = None) -> None:
        """Raises `UpstreamRequestNotFound`, `OverseerrRefused` when `as_user` may not."""
        await self._call(
            "DELETE", f"/request/{request_id}", as_user=as_user, missing=UpstreamRequestNotFound
        )

    async def approve(self, request_id: int) -> MediaRequest:
        return await self._decide(request_id, "approve")

    async def decline(self, request_id: int) -> MediaRequest:
        return await self._decide(request_id, "decline")

    async def users(self, *, take: int = 100, skip: int = 0) -> UserPage:
        """With the key (which may manage users), each user carries `plexId`."""
        return await self._get("/user", UserPage, params={"take": take, "skip": skip})

    async def import_from_plex(self, plex_ids: Sequence[int]) -> list[User]:
        """Make Overseerr users of these friends of the owner's Plex account; those it did not
        make (already users, or not friends) are simply absent from the answer."""
        # Overseerr's validator wants the ids as strings; numbers are a 400.
        response = await self._call(
            "POST", "/user/import-from-plex", json={"plexIds": [str(i) for i in plex_ids]}
        )
        return _parse_with(response, _USERS)

    # Mechanics

    async def _decide(self, request_id: int, decision: str) -> MediaRequest:
        response = await self._call(
            "POST", f"/request/{request_id}/{decision}", missing=UpstreamRequestNotFound
        )
        return _parse(response, MediaRequest)

    async def _get(
        self,
        path: str,
        model: type[M],
        *,
        params: Mapping[str, object] | None = None,
        as_user: int | None = None,
        missing: type[NotFound] | None = None,
    ) -> M:
        response = await self._call("GET", path, params=params, as_user=as_user, missing=missing)
        try:
            return _parse(response, model)
        except OverseerrUnexpectedAnswer:
            if self._upstream is None:
                # Probing: whatever answered is not Overseerr.
                raise OverseerrProbeFailed(
                    ProbeFailure.NOT_OVERSEERR, http_status=response.status_code
                ) from None
            raise

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, object] | None = None,
        json: object = None,
        as_user: int | None = None,
        missing: type[NotFound] | None = None,
    ) -> httpx.Response:
        """Send one call and return a 2xx answer; raise for everything else (see the methods)."""
        url = API + path
        if params:
            url = f"{url}?{query_string(params)}"
        headers = {"X-API-User": str(as_user)} if as_user is not None else {}
        if self._upstream is None:
            response = await self._probe(method, url, headers, json)
        else:
            response = await self._upstream.request(
                method,
                url,
                headers=headers,
                json=json,
                # A 403 for a request made as a user is usually that user's answer.
                user_credentials=as_user is not None,
                answered=_unknown_title if missing is TitleNotFound else None,
            )
        status = response.status_code
        if 200 <= status < 300:
            return response
        found = _message(response)
        if status in (401, 403):
            # Only a call made as a user gets here: the Upstream raises for the key's own.
            if found.error is not None:
                # Overseerr's authentication, not the route, refused: the user id is unknown.
                log.info("overseerr.user_refused", path=path, status=status)
                raise OverseerrUserRefused()
            log.info("overseerr.refused", path=path, status=status)
            raise OverseerrRefused(found.message)
        if status == 404 and missing is not None:
            raise missing()
        if status == 500 and missing is TitleNotFound:
            raise TitleNotFound()
        if status == 409:
            raise AlreadyRequestedUpstream()
        if status == 400:
            log.info("overseerr.call_rejected", method=method, path=path, reason=found.message)
            raise OverseerrRejected()
        log.warning("overseerr.unexpected_status", method=method, path=path, status=status)
        raise OverseerrUnexpectedAnswer()

    async def _probe(
        self, method: str, url: str, headers: Mapping[str, str], json: object
    ) -> httpx.Response:
        """One call the way `OverseerrProbeFailed` tells apart: no answer, an answer from
        elsewhere (a redirect), the key refused, Overseerr failing."""
        try:
            response = await self._http_client.request(method, url, headers=headers, json=json)
        except httpx.TimeoutException:
            raise OverseerrProbeFailed(ProbeFailure.TIMEOUT) from None
        except httpx.ConnectError:
            raise OverseerrProbeFailed(ProbeFailure.UNREACHABLE) from None
        except httpx.RequestError as exc:
            log.info("overseerr.probe_broken_off", error=type(exc).__name__)
            raise OverseerrProbeFailed(ProbeFailure.BROKEN_OFF) from None
        status = response.status_code
        if response.is_redirect:
            raise OverseerrProbeFailed(ProbeFailure.REDIRECTED, http_status=status)
        if status in (401, 403):
            raise OverseerrProbeFailed(ProbeFailure.KEY_REFUSED, http_status=status)
        if status == 404:
            raise OverseerrProbeFailed(ProbeFailure.NOT_OVERSEERR, http_status=status)
        if status >= 500:
            raise OverseerrProbeFailed(ProbeFailure.SERVER_ERROR, http_status=status)
        return response


def _message(response: httpx.Response) -> Message:
    try:
        return Message.model_validate_json(response.content)
    except ValidationError:
        return Message()


def _parse(response: httpx.Response, model: type[M]) -> M:
    try:
        return model.model_validate_json(response.content)
    except ValidationError as exc:
        log.warning(
            "overseerr.unreadable_answer",
            path=response.request.url.path,
            errors=exc.error_count(),
        )
        raise OverseerrUnexpectedAnswer() from None


def _parse_with(response: httpx.Response, adapter: TypeAdapter[list[User]]) -> list[User]:
    try:
        return adapter.validate_json(response.content)
    except ValidationError as exc:
        log.warning(
            "overseerr.unreadable_answer",
            path=response.request.url.path,
            errors=exc.error_count(),
        )
        raise OverseerrUnexpectedAnswer() from None
