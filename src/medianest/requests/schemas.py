"""Request and response bodies of the requests routes (camelCase on the wire)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field, field_validator

from medianest.core.schemas import ApiModel, RequestModel

MediaType = Literal["movie", "tv"]
Availability = Literal["available", "partially_available", "requested", "processing", "none"]
MAX_QUERY = 200


class Title(ApiModel):
    """A movie or show as Overseerr describes it: shared by every user, so it may be cached."""

    tmdb_id: int
    media_type: MediaType
    title: str
    year: int | None = None
    overview: str | None = None
    poster_path: str | None = None
    # Overseerr's own MediaStatus for it (1 unknown .. 5 available); None when it has no row.
    upstream_status: int | None = None


class TitlePage(ApiModel):
    page: int
    total_pages: int
    total_results: int
    results: list[Title]


class SeasonInfo(ApiModel):
    season_number: int
    name: str | None = None
    episode_count: int | None = None
    upstream_status: int | None = None


class TitleDetails(Title):
    runtime: int | None = None
    genres: list[str] = Field(default_factory=list)
    backdrop_path: str | None = None
    tvdb_id: int | None = None
    number_of_seasons: int | None = None
    seasons: list[SeasonInfo] = Field(default_factory=list)


class PlexRef(ApiModel):
    rating_key: str


class TitleRead(ApiModel):
    """A title with what it means for the caller: its one state, and their request's id."""

    tmdb_id: int
    media_type: MediaType
    title: str
    year: int | None = None
    overview: str | None = None
    poster_path: str | None = None
    availability: Availability
    # Only for the caller's own or followed request; another user's request is only a state.
    request_id: uuid.UUID | None = None
    # The request is the caller's own (`requestedByYou`), or someone else's they follow.
    requested_by_you: bool = False
    following: bool = False
    plex: PlexRef | None = None


class SeasonRead(ApiModel):
    season_number: int
    name: str | None = None
    episode_count: int | None = None
    availability: Availability


class TitleDetailsRead(TitleRead):
    runtime: int | None = None
    genres: list[str] = Field(default_factory=list)
    backdrop_path: str | None = None
    number_of_seasons: int | None = None
    seasons: list[SeasonRead] = Field(default_factory=list)
    may_request_4k: bool = False


class RequestCreate(RequestModel):
    media_type: MediaType
    tmdb_id: int = Field(gt=0, le=2_147_483_647)
    seasons: list[int] | Literal["all"] | None = None
    is_4k: bool = Field(default=False, alias="is4k")

    @field_validator("seasons")
    @classmethod
    def _season_numbers(cls, value: list[int] | str | None) -> list[int] | str | None:
        if isinstance(value, list):
            if not value:
                raise ValueError("Choose at least one season, or all of them.")
            if len(value) > 200 or any(not 0 <= n <= 1000 for n in value):
                raise ValueError("Season numbers go from 0 (specials) to the show's last season.")
        return value


class UserRef(ApiModel):
    id: uuid.UUID
    username: str


class HistoryEntry(ApiModel):
    status: str
    at: datetime
    source: str


class RequestRead(ApiModel):
    id: uuid.UUID
    media_type: MediaType
    tmdb_id: int
    title: str
    year: int | None = None
    poster_path: str | None = None
    status: str
    seasons: list[int] | None = None
    is_4k: bool = Field(default=False, alias="is4k")
    requested_by: UserRef
    created_at: datetime
    updated_at: datetime
    following: bool
    reason: str | None = None
    history: list[HistoryEntry] | None = None


class DeclineBody(RequestModel):
    reason: str | None = Field(default=None, max_length=500)
