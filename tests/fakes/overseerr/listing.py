"""`GET /request` and `GET /request/count`: Overseerr's filters, sorting and paging."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.fakes.overseerr import constants as c
from tests.fakes.overseerr.openapi import ApiError
from tests.fakes.overseerr.records import FakeMedia, FakeRequest, FakeUser
from tests.fakes.overseerr.users import as_int, page_info


class RequestListing:
    """The listing half of the fake's state; `OverseerrState` supplies the attributes."""

    seerr: bool
    media: dict[tuple[str, int], FakeMedia]
    requests: dict[int, FakeRequest]

    request_out: Callable[..., dict[str, Any]]

    def list_requests(self, actor: FakeUser, query: dict[str, str]) -> dict[str, Any]:
        take, skip = as_int(query.get("take"), 10), as_int(query.get("skip"), 0)
        requested_by = as_int(query.get("requestedBy"), 0) or None
        statuses, media_statuses = self._filter(query.get("filter"))
        rows = [
            r
            for r in self.requests.values()
            if r.status in statuses
            and self.media[(r.media_type, r.tmdb_id)].get(r.is4k) in media_statuses
        ]
        if not actor.can(c.MANAGE_REQUESTS, c.REQUEST_VIEW):
            if requested_by and requested_by != actor.id:
                raise ApiError.message(
                    403, "You do not have permission to view this user's requests."
                )
            rows = [r for r in rows if r.requested_by == actor.id]
        elif requested_by:
            rows = [r for r in rows if r.requested_by == requested_by]
        if self.seerr and query.get("mediaType") in ("movie", "tv"):
            rows = [r for r in rows if r.media_type == query["mediaType"]]
        ascending = self.seerr and query.get("sortDirection") == "asc"
        if query.get("sort") == "modified":
            rows.sort(key=lambda r: (r.updated_at, r.id), reverse=not ascending)
        else:
            rows.sort(key=lambda r: r.id, reverse=not ascending)
        results = [self.request_out(r) for r in rows[skip : skip + take]]
        body: dict[str, Any] = {"pageInfo": page_info(len(rows), take, skip), "results": results}
        if self.seerr:
            if actor.can(c.MANAGE_REQUESTS):
                for result in results:
                    result["canRemove"] = False
            body["serviceErrors"] = {"radarr": [], "sonarr": []}
        return body

    def _filter(self, name: str | None) -> tuple[set[int], set[int]]:
        every_media = {c.UNKNOWN, c.PENDING, c.PROCESSING, c.PARTIALLY_AVAILABLE, c.AVAILABLE}
        not_available = every_media - {c.AVAILABLE}
        every_status = {c.REQUEST_PENDING, c.REQUEST_APPROVED, c.REQUEST_DECLINED, c.REQUEST_FAILED}
        if self.seerr:
            every_media |= {c.DELETED}
            every_status |= {c.REQUEST_COMPLETED}
        statuses = {
            "approved": {c.REQUEST_APPROVED},
            "processing": {c.REQUEST_APPROVED},
            "available": {c.REQUEST_COMPLETED} if self.seerr else {c.REQUEST_APPROVED},
            "pending": {c.REQUEST_PENDING},
            "unavailable": {c.REQUEST_PENDING, c.REQUEST_APPROVED},
            "failed": {c.REQUEST_FAILED},
            "completed": {c.REQUEST_COMPLETED},
            "deleted": {c.REQUEST_COMPLETED},
        }.get(name or "", every_status)
        media_statuses = {
            "available": {c.AVAILABLE},
            "processing": not_available,
            "unavailable": not_available,
            "deleted": {c.DELETED},
        }.get(name or "", every_media)
        return statuses, media_statuses

    def count(self) -> dict[str, int]:
        rows = list(self.requests.values())

        def available(r: FakeRequest) -> bool:
            return self.media[(r.media_type, r.tmdb_id)].get(r.is4k) == c.AVAILABLE

        approved = [r for r in rows if r.status == c.REQUEST_APPROVED]
        body = {
            "total": len(rows),
            "movie": sum(r.media_type == "movie" for r in rows),
            "tv": sum(r.media_type == "tv" for r in rows),
            "pending": sum(r.status == c.REQUEST_PENDING for r in rows),
            "approved": len(approved),
            "declined": sum(r.status == c.REQUEST_DECLINED for r in rows),
            "processing": sum(not available(r) for r in approved),
            "available": sum(available(r) for r in approved),
        }
        if self.seerr:
            body["completed"] = sum(r.status == c.REQUEST_COMPLETED for r in rows)
        return body
