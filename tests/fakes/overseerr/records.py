"""What Overseerr keeps in its database (users, media rows, requests) and their JSON shapes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.fakes.overseerr import constants as c
from tests.fakes.overseerr.catalogue import MediaType, payload


def now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """Overseerr's timestamps: JavaScript's `toJSON()`, milliseconds and a `Z`."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def has_permission(value: int, *wanted: int) -> bool:
    """Any of `wanted` (Overseerr's `{type: 'or'}`); ADMIN passes every check."""
    return bool(value & c.ADMIN) or any(value & bit for bit in wanted)


@dataclass
class FakeUser:
    id: int
    email: str
    plex_username: str | None
    username: str | None
    plex_id: int | None
    user_type: int
    permissions: int
    avatar: str
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)
    movie_quota_limit: int | None = None
    movie_quota_days: int | None = None
    tv_quota_limit: int | None = None
    tv_quota_days: int | None = None

    @property
    def display_name(self) -> str:
        return self.username or self.plex_username or self.email

    def can(self, *wanted: int) -> bool:
        return has_permission(self.permissions, *wanted)


@dataclass
class FakeSeason:
    """A season of a media row: its availability as the Plex and Sonarr syncs left it."""

    id: int
    season_number: int
    status: int = c.UNKNOWN
    status4k: int = c.UNKNOWN
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)


@dataclass
class FakeMedia:
    id: int
    media_type: MediaType
    tmdb_id: int
    tvdb_id: int | None
    status: int = c.UNKNOWN
    status4k: int = c.UNKNOWN
    seasons: list[FakeSeason] = field(default_factory=list)
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)

    def get(self, is4k: bool) -> int:
        return self.status4k if is4k else self.status

    def put(self, is4k: bool, status: int) -> None:
        if is4k:
            self.status4k = status
        else:
            self.status = status
        self.updated_at = now()


@dataclass
class FakeRequest:
    id: int
    status: int
    media_type: MediaType
    tmdb_id: int
    is4k: bool
    seasons: list[int]
    requested_by: int
    created_at: datetime
    updated_at: datetime
    modified_by: int | None = None
    season_statuses: dict[int, int] = field(default_factory=dict)
    season_ids: dict[int, int] = field(default_factory=dict)
    server_id: int | None = None
    profile_id: int | None = None
    root_folder: str | None = None
    language_profile_id: int | None = None
    tags: list[int] | None = None


def user_json(user: FakeUser, request_count: int, *, seerr: bool, filtered: bool) -> dict[str, Any]:
    """A User as loaded from the database; `filtered` drops `email` and `plexId` like
    `User.filter()` does for callers without MANAGE_USERS."""
    body: dict[str, Any] = payload("user.json")
    body.update(
        permissions=user.permissions,
        id=user.id,
        email=user.email,
        plexUsername=user.plex_username,
        username=user.username,
        userType=user.user_type,
        plexId=user.plex_id,
        avatar=user.avatar,
        movieQuotaLimit=user.movie_quota_limit,
        movieQuotaDays=user.movie_quota_days,
        tvQuotaLimit=user.tv_quota_limit,
        tvQuotaDays=user.tv_quota_days,
        createdAt=iso(user.created_at),
        updatedAt=iso(user.updated_at),
        requestCount=request_count,
        displayName=user.display_name,
    )
    if seerr:
        body.update(
            jellyfinUsername=None,
            jellyfinUserId=None,
            avatarETag=None,
            avatarVersion=None,
            warnings=[],
        )
    if filtered:
        del body["email"], body["plexId"]
    return body


def imported_user_json(user: FakeUser) -> dict[str, Any]:
    """A user `import-from-plex` just created, as Overseerr answers it: the fields it set and the
    ones the insert generated, without `email` and `plexId` (`User.filterMany` is called with
    nothing to unfilter) and without `displayName` or `requestCount`, which only a load adds."""
    return {
        "permissions": user.permissions,
        "plexUsername": user.plex_username,
        "plexToken": "",
        "avatar": user.avatar,
        "userType": user.user_type,
        "username": None,
        "recoveryLinkExpirationDate": None,
        "movieQuotaLimit": None,
        "movieQuotaDays": None,
        "tvQuotaLimit": None,
        "tvQuotaDays": None,
        "id": user.id,
        "createdAt": iso(user.created_at),
        "updatedAt": iso(user.updated_at),
    }


def media_json(media: FakeMedia, *, requests: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A Media row (`mediaInfo`); `requests` only where Overseerr loads that relation."""
    body: dict[str, Any] = payload("media.json")
    season_template = payload("media_season.json")
    body.update(
        id=media.id,
        mediaType=media.media_type,
        tmdbId=media.tmdb_id,
        tvdbId=media.tvdb_id,
        status=media.status,
        status4k=media.status4k,
        createdAt=iso(media.created_at),
        updatedAt=iso(media.updated_at),
        lastSeasonChange=iso(media.created_at),
        seasons=[
            {
                **season_template,
                "id": s.id,
                "seasonNumber": s.season_number,
                "status": s.status,
                "status4k": s.status4k,
                "createdAt": iso(s.created_at),
                "updatedAt": iso(s.updated_at),
            }
            for s in sorted(media.seasons, key=lambda s: s.season_number)
        ],
    )
    if requests is not None:
        body["requests"] = requests
        body["issues"] = []
    return body


def request_json(
    request: FakeRequest,
    *,
    media: dict[str, Any] | None,
    requested_by: dict[str, Any],
    modified_by: dict[str, Any] | None,
) -> dict[str, Any]:
    """A MediaRequest: `media` is left out where Overseerr nests requests inside their media."""
    body: dict[str, Any] = payload("media_request.json")
    season_template = payload("season_request.json")
    body.update(
        id=request.id,
        status=request.status,
        createdAt=iso(request.created_at),
        updatedAt=iso(request.updated_at),
        type=request.media_type,
        is4k=request.is4k,
        serverId=request.server_id,
        profileId=request.profile_id,
        rootFolder=request.root_folder,
        languageProfileId=request.language_profile_id,
        tags=request.tags,
        requestedBy=requested_by,
        modifiedBy=modified_by,
        seasonCount=len(request.seasons),
        seasons=[
            {
                **season_template,
                "id": request.season_ids[n],
                "seasonNumber": n,
                "status": request.season_statuses[n],
                "createdAt": iso(request.created_at),
                "updatedAt": iso(request.updated_at),
            }
            for n in request.seasons
        ],
    )
    if media is None:
        del body["media"]
    else:
        body["media"] = media
    return body
