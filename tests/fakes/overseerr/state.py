"""Overseerr's rules for requests, media and users, kept apart from HTTP.

Each operation follows the code of `sct/overseerr` (server/entity/MediaRequest.ts,
server/routes/request.ts, server/routes/user/index.ts, server/subscriber/MediaSubscriber.ts) and
the Seerr differences; the quirks are kept on purpose, since they are what a client meets:

- Auto-approval is judged on the acting user (X-API-User), permissions on `userId` if given.
- With `is4k` left out, the duplicate query compares with NULL: a second movie request slips
  through, and a TV request sees no earlier requests' seasons (sct/overseerr#3344).
- Deleting a request is refused (401) only when the caller lacks MANAGE_REQUESTS, did not make it,
  AND it is no longer pending: anyone may delete a pending request.
- Media going from PENDING to AVAILABLE approves its pending requests; in Seerr, approved requests
  whose media (or all of whose seasons) became available are COMPLETED.

Notifications the rules produce are appended to `outbox`; the server decides whether to post them.
"""

from __future__ import annotations

import itertools
from typing import Any, Literal

from tests.fakes.overseerr import constants as c
from tests.fakes.overseerr.catalogue import MediaType, Title, default_catalogue, details_json
from tests.fakes.overseerr.catalogue import result_json as title_result_json
from tests.fakes.overseerr.listing import RequestListing
from tests.fakes.overseerr.openapi import ApiError
from tests.fakes.overseerr.records import (
    FakeMedia,
    FakeRequest,
    FakeSeason,
    FakeUser,
    media_json,
    now,
    request_json,
)
from tests.fakes.overseerr.users import UserRules
from tests.fakes.overseerr.webhook import Notification, request_notification

Flavour = Literal["overseerr", "seerr"]

OWNER_PLEX_ID = 1000001


class OverseerrState(UserRules, RequestListing):
    def __init__(self, flavour: Flavour) -> None:
        self.flavour = flavour
        self.seerr = flavour == "seerr"
        self.reset()

    def reset(self) -> None:
        """The default catalogue and only the owner: no media rows, requests or Plex friends."""
        self.titles: dict[tuple[str, int], Title] = {}
        for title in default_catalogue():
            self.add_title(title)
        self._ids = {name: itertools.count(1) for name in ("user", "media", "request", "season")}
        self.users: dict[int, FakeUser] = {}
        self.media: dict[tuple[str, int], FakeMedia] = {}
        self.requests: dict[int, FakeRequest] = {}
        self.plex_friends: dict[int, tuple[str, str | None]] = {}
        self.outbox: list[Notification] = []
        self.add_user(
            "owner", plex_id=OWNER_PLEX_ID, permissions=c.ADMIN, email="owner@example.com"
        )

    # Catalogue and media

    def add_title(self, title: Title) -> None:
        self.titles[(title.media_type, title.tmdb_id)] = title

    def title(self, media_type: str, tmdb_id: int) -> Title:
        title = self.titles.get((media_type, tmdb_id))
        if title is None:
            what = "movie" if media_type == "movie" else "TV show"
            raise ApiError.message(
                500, f"[TMDB] Failed to fetch {what} details: Request failed with status code 404"
            )
        return title

    def media_row(self, title: Title) -> FakeMedia:
        key = (title.media_type, title.tmdb_id)
        if key not in self.media:
            self.media[key] = FakeMedia(
                next(self._ids["media"]), title.media_type, title.tmdb_id, title.tvdb_id
            )
        return self.media[key]

    def media_info(self, title: Title, *, with_requests: bool = False) -> dict[str, Any] | None:
        media = self.media.get((title.media_type, title.tmdb_id))
        if media is None:
            return None
        requests = None
        if with_requests:
            requests = [self.request_out(r, with_media=False) for r in self._requests_for(media)]
        return media_json(media, requests=requests)

    def result_json(self, title: Title) -> dict[str, Any]:
        return title_result_json(title, self.media_info(title))

    def details(self, media_type: str, tmdb_id: int) -> dict[str, Any]:
        title = self.titles.get((media_type, tmdb_id))
        if title is None:
            what = "movie" if media_type == "movie" else "series"
            raise ApiError.message(500, f"Unable to retrieve {what}.")
        return details_json(title, self.media_info(title, with_requests=True))

    def set_media_status(
        self,
        media_type: MediaType,
        tmdb_id: int,
        status: int,
        *,
        is4k: bool,
        seasons: dict[int, int] | None,
    ) -> None:
        """What a Plex or Sonarr/Radarr sync does to a media row, with the subscriber's effects."""
        title = self.title(media_type, tmdb_id)
        media = self.media_row(title)
        before = media.get(is4k)
        available_before = self._available_seasons(media, is4k)
        media.put(is4k, status)
        for number, season_status in (seasons or {}).items():
            season = next((s for s in media.seasons if s.season_number == number), None)
            if season is None:
                season = FakeSeason(next(self._ids["season"]), number)
                media.seasons.append(season)
            if is4k:
                season.status4k = season_status
            else:
                season.status = season_status
            season.updated_at = now()
        if status == c.AVAILABLE and before == c.PENDING:
            for request in self._requests_for(media):
                if request.is4k == is4k and request.status == c.REQUEST_PENDING:
                    self._change_status(request, c.REQUEST_APPROVED, request.modified_by)
        self._notify_available(title, media, is4k, before, available_before)
        if self.seerr:
            self._complete_requests(media, is4k)

    def _available_seasons(self, media: FakeMedia, is4k: bool) -> set[int]:
        return {
            s.season_number
            for s in media.seasons
            if (s.status4k if is4k else s.status) == c.AVAILABLE
        }

    def _notify_available(
        self, title: Title, media: FakeMedia, is4k: bool, before: int, seasons_before: set[int]
    ) -> None:
        open_requests = [
            r
            for r in self._requests_for(media)
            if r.is4k == is4k and r.status != c.REQUEST_DECLINED
        ]
        if media.media_type == "movie":
            if media.get(is4k) == c.AVAILABLE and before != c.AVAILABLE:
                for request in open_requests:
                    self._notify("MEDIA_AVAILABLE", title, media, request)
            return
        if media.get(is4k) not in (c.AVAILABLE, c.PARTIALLY_AVAILABLE):
            return
        available = self._available_seasons(media, is4k)
        notified: set[int] = set()
        for number in sorted(available - seasons_before):
            complete = next(
                (r for r in open_requests if set(r.seasons) <= available and number in r.seasons),
                None,
            )
            if complete is not None and number not in notified:
                notified.update(complete.seasons)
                self._notify("MEDIA_AVAILABLE", title, media, complete)

    def _complete_requests(self, media: FakeMedia, is4k: bool) -> None:
        done = (c.AVAILABLE, c.DELETED)
        for request in self._requests_for(media):
            if request.is4k != is4k or request.status != c.REQUEST_APPROVED:
                continue
            if media.media_type == "movie":
                complete = media.get(is4k) in done
            else:
                by_number = {s.season_number: s for s in media.seasons}
                for number in request.seasons:
                    season = by_number.get(number)
                    if season is not None and (season.status4k if is4k else season.status) in done:
                        request.season_statuses[number] = c.REQUEST_COMPLETED
                complete = all(
                    request.season_statuses[n] == c.REQUEST_COMPLETED for n in request.seasons
                )
            if complete:
                request.status = c.REQUEST_COMPLETED
                request.updated_at = now()

    # Requests

    def request_out(self, request: FakeRequest, *, with_media: bool = True) -> dict[str, Any]:
        title = self.titles[(request.media_type, request.tmdb_id)]
        media = self.media[(title.media_type, title.tmdb_id)]
        modifier = self.users.get(request.modified_by) if request.modified_by else None
        return request_json(
            request,
            media=media_json(media) if with_media else None,
            requested_by=self.user_out(self.users[request.requested_by]),
            modified_by=self.user_out(modifier) if modifier else None,
        )

    def find_request(self, raw_id: str) -> FakeRequest:
        request = self.requests.get(int(raw_id)) if raw_id.isdigit() else None
        if request is None:
            raise ApiError.message(404, "Request not found.")
        return request

    def _requests_for(self, media: FakeMedia) -> list[FakeRequest]:
        return [
            r
            for r in self.requests.values()
            if r.media_type == media.media_type and r.tmdb_id == media.tmdb_id
        ]

    def create_request(self, actor: FakeUser, body: dict[str, Any]) -> dict[str, Any]:
        """`MediaRequest.request()`: the 201 answer, or the 403/409/202/500 it raises. The
        answer's `media` shows the row before approval made it PROCESSING, as Overseerr's does."""
        requester = actor
        if body.get("userId"):
            if not actor.can(c.ADMIN) and not (
                actor.can(c.MANAGE_USERS) and actor.can(c.MANAGE_REQUESTS)
            ):
                raise ApiError.message(
                    403, "You do not have permission to modify the request user."
                )
            if body["userId"] not in self.users:
                raise ApiError.message(
                    500, f'Could not find any entity of type "User" matching: {body["userId"]}'
                )
            requester = self.users[body["userId"]]
        media_type: MediaType = body["mediaType"]
        is4k = body.get("is4k")
        kind = "movie" if media_type == "movie" else "series"
        wanted = (
            (c.REQUEST_4K, c.REQUEST_4K_MOVIE if media_type == "movie" else c.REQUEST_4K_TV)
            if is4k
            else (c.REQUEST, c.REQUEST_MOVIE if media_type == "movie" else c.REQUEST_TV)
        )
        if not requester.can(*wanted):
            raise ApiError.message(
                403, f"You do not have permission to make {'4K ' if is4k else ''}{kind} requests."
            )
        quota = self.quota(requester)
        if quota[media_type]["restricted"]:
            raise ApiError.message(
                403, "Movie Quota exceeded." if media_type == "movie" else "Series Quota exceeded."
            )
        title = self.title(media_type, int(body["mediaId"]))
        existing_media = self.media.get((media_type, title.tmdb_id))
        if existing_media is not None and self.seerr and existing_media.status == c.BLOCKLISTED:
            raise ApiError.message(403, "This media is blocklisted.")
        closed = {c.REQUEST_DECLINED, c.REQUEST_COMPLETED} if self.seerr else {c.REQUEST_DECLINED}
        # `request.is4k = :is4k` with is4k undefined matches no row at all.
        earlier = [
            r
            for r in self.requests.values()
            if is4k is not None
            and r.is4k == is4k
            and r.media_type == media_type
            and r.tmdb_id == title.tmdb_id
        ]
        if media_type == "movie" and earlier and earlier[0].status not in closed:
            raise ApiError.message(409, "Request for this media already exists.")
        auto_bits = (
            (
                c.AUTO_APPROVE_4K,
                c.AUTO_APPROVE_4K_MOVIE if media_type == "movie" else c.AUTO_APPROVE_4K_TV,
            )
            if is4k
            else (
                c.AUTO_APPROVE,
                c.AUTO_APPROVE_MOVIE if media_type == "movie" else c.AUTO_APPROVE_TV,
            )
        )
        auto = actor.can(*auto_bits, c.MANAGE_REQUESTS)
        seasons: list[int] = []
        if media_type == "tv":
            seasons = self._requestable_seasons(title, existing_media, body, bool(is4k), closed)
            if not seasons:
                raise ApiError.message(202, "No seasons available to request")
            tv_quota = quota["tv"]
            if tv_quota.get("limit") and len(seasons) > tv_quota.get("remaining", 0):
                raise ApiError.message(403, "Series Quota exceeded.")
        media = self.media_row(title)
        if body.get("tvdbId") is not None and existing_media is None:
            media.tvdb_id = int(body["tvdbId"])
        if media.get(bool(is4k)) == c.UNKNOWN:
            media.put(bool(is4k), c.PENDING)
        moment = now()
        status = c.REQUEST_APPROVED if auto else c.REQUEST_PENDING
        request = FakeRequest(
            id=next(self._ids["request"]),
            status=status,
            media_type=media_type,
            tmdb_id=title.tmdb_id,
            is4k=bool(is4k),
            seasons=seasons,
            requested_by=requester.id,
            created_at=moment,
            updated_at=moment,
            modified_by=actor.id if auto else None,
            season_statuses=dict.fromkeys(seasons, status),
            season_ids={n: next(self._ids["season"]) for n in seasons},
            server_id=body.get("serverId"),
            profile_id=body.get("profileId"),
            root_folder=body.get("rootFolder"),
            language_profile_id=body.get("languageProfileId") if media_type == "tv" else None,
            tags=body.get("tags"),
        )
        self.requests[request.id] = request
        if status == c.REQUEST_PENDING:
            self._notify("MEDIA_PENDING", title, media, request)
        elif media.get(request.is4k) != c.AVAILABLE:
            self._notify("MEDIA_AUTO_APPROVED", title, media, request)
        # The answer carries the media row as the request saw it, before the hooks ran.
        answer = self.request_out(request)
        self._update_parent(request, media)
        return answer

    def _requestable_seasons(
        self,
        title: Title,
        media: FakeMedia | None,
        body: dict[str, Any],
        is4k: bool,
        closed: set[int],
    ) -> list[int]:
        asked = body.get("seasons")
        if asked == "all":
            numbers = [n for n in sorted(title.seasons) if not (self.seerr and n == 0)]
        else:
            numbers = [int(n) for n in asked or []]
        if self.seerr:
            # Seerr drops specials unless "enable special episodes" is on (it is off by default).
            numbers = [n for n in numbers if n > 0]
        taken: set[int] = set()
        if media is not None:
            for request in self._requests_for(media):
                # `request.is4k === requestBody.is4k`: never true when the body left it out.
                if "is4k" in body and request.is4k == body["is4k"] and request.status not in closed:
                    taken.update(request.seasons)
            ignored = {c.UNKNOWN, c.DELETED} if self.seerr else {c.UNKNOWN}
            taken.update(
                s.season_number
                for s in media.seasons
                if (s.status4k if is4k else s.status) not in ignored
            )
        return [n for n in numbers if n not in taken]

    def change_status(self, request: FakeRequest, status: int, modified_by: int | None) -> None:
        self._change_status(request, status, modified_by)

    def _change_status(self, request: FakeRequest, status: int, modified_by: int | None) -> None:
        """An update of the request row, with the hooks Overseerr runs after it."""
        request.status = status
        request.modified_by = modified_by
        request.updated_at = now()
        title = self.titles[(request.media_type, request.tmdb_id)]
        media = self.media_row(title)
        if status in (c.REQUEST_APPROVED, c.REQUEST_DECLINED):
            if media.get(request.is4k) != c.AVAILABLE:
                kind = "MEDIA_APPROVED" if status == c.REQUEST_APPROVED else "MEDIA_DECLINED"
                self._notify(kind, title, media, request)
        elif status == c.REQUEST_FAILED:
            self._notify("MEDIA_FAILED", title, media, request)
        self._update_parent(request, media)

    def _update_parent(self, request: FakeRequest, media: FakeMedia) -> None:
        """`updateParentStatus`: what a request's new status does to its media row."""
        current = media.get(request.is4k)
        if request.status == c.REQUEST_APPROVED and current not in (
            c.AVAILABLE,
            c.PARTIALLY_AVAILABLE,
        ):
            media.put(request.is4k, c.PROCESSING)
        # A declined movie is unrequested again; a series only when nothing else is pending.
        no_other_pending = current == c.PENDING and not any(
            r.status == c.REQUEST_PENDING for r in self._requests_for(media)
        )
        if request.status == c.REQUEST_DECLINED and (
            media.media_type == "movie" or no_other_pending
        ):
            media.put(request.is4k, c.UNKNOWN)
        if media.media_type == "tv" and request.status == c.REQUEST_APPROVED:
            request.season_statuses = dict.fromkeys(request.seasons, c.REQUEST_APPROVED)

    def delete_request(self, actor: FakeUser, request: FakeRequest) -> None:
        if (
            not actor.can(c.MANAGE_REQUESTS)
            and request.requested_by != actor.id
            and request.status != c.REQUEST_PENDING
        ):
            raise ApiError.message(401, "You do not have permission to delete this request.")
        del self.requests[request.id]
        media = self.media[(request.media_type, request.tmdb_id)]
        remaining = self._requests_for(media)
        for is4k in (False, True):
            if not any(r.is4k == is4k for r in remaining) and media.get(is4k) != c.AVAILABLE:
                media.put(is4k, c.UNKNOWN)

    # Notifications

    def _notify(
        self, kind: str, title: Title, media: FakeMedia | None, request: FakeRequest | None
    ) -> None:
        self.outbox.append(self.notification(kind, title, media, request))

    def notification(
        self, kind: str, title: Title, media: FakeMedia | None, request: FakeRequest | None
    ) -> Notification:
        requester = self.users.get(request.requested_by) if request else None
        # The payload carries copies: later changes must not rewrite a notification already sent.
        media_copy = None
        if media is not None:
            media_copy = FakeMedia(
                media.id,
                media.media_type,
                media.tmdb_id,
                media.tvdb_id,
                media.status,
                media.status4k,
            )
        return request_notification(
            kind, title, media=media_copy, request=request, requested_by=requester
        )
