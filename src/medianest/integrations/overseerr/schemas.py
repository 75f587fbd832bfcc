"""Overseerr's and Seerr's answers, as MediaNest reads them.

Parsed leniently, as the reference asks: fields documented as never null arrive null (a Plex
user's `username`, a request's `serverId`), Seerr adds enum values Overseerr never sends
(`MediaRequestStatus.COMPLETED`, `MediaStatus.BLOCKLISTED` and `DELETED`), and either may add
fields. Unknown fields are ignored; enum values stay plain ints here and are translated to
MediaNest's own states by the domain that uses them (`REQUEST_STATUS`, `MEDIA_STATUS`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel

MediaType = Literal["movie", "tv"]


class Wire(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True
    )


def _blank_is_none(value: object) -> object:
    # TMDB dates arrive as "" for titles without one.
    return None if value == "" else value


LooseDate = Annotated[date | None, BeforeValidator(_blank_is_none)]


# MediaStatus (the title in Overseerr's library) and MediaRequestStatus, by number.
class MediaStatus:
    UNKNOWN, PENDING, PROCESSING, PARTIALLY_AVAILABLE, AVAILABLE = 1, 2, 3, 4, 5
    BLOCKLISTED, DELETED = 6, 7  # Seerr


class RequestStatus:
    PENDING, APPROVED, DECLINED, FAILED = 1, 2, 3, 4
    COMPLETED = 5  # Seerr


class ServerStatus(Wire):
    """`GET /status` (open to anyone)."""

    version: str
    commit_tag: str | None = None
    update_available: bool = False


class PublicSettings(Wire):
    """`GET /settings/public`; Seerr's carries `mediaServerType`, Overseerr's does not."""

    application_title: str | None = None
    initialized: bool | None = None
    movie_4k_enabled: bool = Field(default=False, alias="movie4kEnabled")
    series_4k_enabled: bool = Field(default=False, alias="series4kEnabled")
    media_server_type: int | None = None


class SeasonStatus(Wire):
    season_number: int
    status: int = MediaStatus.UNKNOWN
    status_4k: int = Field(default=MediaStatus.UNKNOWN, alias="status4k")


class MediaInfo(Wire):
    """What Overseerr holds about a title (present only once it knows the title locally)."""

    id: int | None = None
    media_type: str | None = None
    tmdb_id: int | None = None
    tvdb_id: int | None = None
    status: int = MediaStatus.UNKNOWN
    status_4k: int = Field(default=MediaStatus.UNKNOWN, alias="status4k")
    seasons: list[SeasonStatus] = Field(default_factory=list)
    rating_key: str | None = None


class User(Wire):
    id: int
    display_name: str | None = None
    username: str | None = None
    plex_username: str | None = None
    email: str | None = None
    plex_id: int | None = None
    user_type: int | None = None
    permissions: int = 0
    request_count: int | None = None
    avatar: str | None = None


class Result(Wire):
    """One entry of a search or discover page: a movie, a show, or something MediaNest skips
    (people, collections) with only `id` and `media_type`."""

    id: int
    media_type: str
    title: str | None = None
    name: str | None = None
    release_date: LooseDate = None
    first_air_date: LooseDate = None
    overview: str | None = None
    poster_path: str | None = None
    backdrop_path: str | None = None
    popularity: float | None = None
    media_info: MediaInfo | None = None

    @property
    def display_title(self) -> str:
        return self.title or self.name or ""

    @property
    def year(self) -> int | None:
        day = self.release_date or self.first_air_date
        return day.year if day else None


class ResultPage(Wire):
    page: int = 1
    total_pages: int = 1
    total_results: int = 0
    results: list[Result] = Field(default_factory=list)


class Genre(Wire):
    id: int
    name: str


class Season(Wire):
    season_number: int
    name: str | None = None
    episode_count: int | None = None
    air_date: LooseDate = None
    poster_path: str | None = None


class ExternalIds(Wire):
    tvdb_id: int | None = None
    imdb_id: str | None = None


class MovieDetails(Wire):
    id: int
    title: str
    overview: str | None = None
    release_date: LooseDate = None
    runtime: int | None = None
    status: str | None = None
    genres: list[Genre] = Field(default_factory=list)
    poster_path: str | None = None
    backdrop_path: str | None = None
    vote_average: float | None = None
    media_info: MediaInfo | None = None


class TvDetails(Wire):
    id: int
    name: str
    overview: str | None = None
    first_air_date: LooseDate = None
    number_of_seasons: int | None = None
    number_of_episodes: int | None = None
    status: str | None = None
    genres: list[Genre] = Field(default_factory=list)
    seasons: list[Season] = Field(default_factory=list)
    poster_path: str | None = None
    backdrop_path: str | None = None
    vote_average: float | None = None
    external_ids: ExternalIds | None = None
    media_info: MediaInfo | None = None


class RequestSeason(Wire):
    season_number: int
    status: int = RequestStatus.PENDING


class MediaRequest(Wire):
    id: int
    status: int
    type: str | None = None
    is_4k: bool = Field(default=False, alias="is4k")
    seasons: list[RequestSeason] = Field(default_factory=list)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    requested_by: User | None = None
    modified_by: User | None = None
    media: MediaInfo | None = None


class PageInfo(Wire):
    pages: int = 1
    page_size: int = 10
    results: int = 0
    page: int = 1


class RequestPage(Wire):
    page_info: PageInfo = Field(default_factory=PageInfo)
    results: list[MediaRequest] = Field(default_factory=list)


class UserPage(Wire):
    page_info: PageInfo = Field(default_factory=PageInfo)
    results: list[User] = Field(default_factory=list)


class Message(Wire):
    """Overseerr's error and notice bodies: `{"message": ...}` from a route, `{"status",
    "error"}` from its authentication."""

    message: str | None = None
    error: str | None = None
