"""MediaNest's view of a Plex Media Server: what `PlexServerClient` returns and the API shows.

Plex's own wire shapes never leave `wire.py`; these are camelCase on the wire like every API
schema. Timestamps are aware UTC datetimes (Plex sends epoch seconds), durations milliseconds.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Generic, Literal, TypeVar

from pydantic import Field

from medianest.core.schemas import ApiModel

T = TypeVar("T")

ItemSort = Literal[
    "titleSort:asc",
    "titleSort:desc",
    "addedAt:asc",
    "addedAt:desc",
    "updatedAt:asc",
    "updatedAt:desc",
    "year:asc",
    "year:desc",
]
"""The orders a library can be listed in; Plex sorts, MediaNest only picks."""

ItemType = Literal["movie", "show", "season", "episode", "artist", "album", "track", "collection"]


class PlexIdentity(ApiModel):
    """What any Plex Media Server says about itself without a token."""

    machine_identifier: str
    version: str | None = None


class ServerInfo(ApiModel):
    name: str
    machine_identifier: str
    version: str | None = None
    platform: str | None = None


class ExternalIds(ApiModel):
    """The item's ids at the metadata agencies, from Plex's `Guid` list (when asked for)."""

    tmdb: int | None = None
    imdb: str | None = None
    tvdb: int | None = None


class Library(ApiModel):
    """A Plex library (section). `item_count` is only known when it was counted."""

    key: str
    type: str
    title: str
    item_count: int | None = None
    # Folders as the Plex server sees them (inside its container, for a Docker install).
    locations: list[str] = Field(default_factory=list)
    refreshing: bool = False
    scanned_at: datetime | None = None
    updated_at: datetime | None = None


class LibraryItem(ApiModel):
    """A movie, show, season, episode (or other Plex item) as listed in a library."""

    rating_key: str
    type: str
    title: str
    year: int | None = None
    summary: str = ""
    thumb: str | None = None
    art: str | None = None
    duration: int | None = None
    added_at: datetime | None = None
    updated_at: datetime | None = None
    library_key: str | None = None
    parent_rating_key: str | None = None
    parent_title: str | None = None
    grandparent_title: str | None = None
    index: int | None = None
    parent_index: int | None = None
    child_count: int | None = None
    leaf_count: int | None = None
    guid: str | None = None
    external_ids: ExternalIds = Field(default_factory=ExternalIds)
    # The media files as the Plex server sees them: how a freshly scanned download is found
    # again. Server paths are nobody's business in the API, so they never leave in a dump.
    files: list[str] = Field(default_factory=list, exclude=True)


class ItemDetail(LibraryItem):
    """One item with what a detail page shows, and its seasons or episodes when it has them."""

    library_title: str | None = None
    content_rating: str | None = None
    studio: str | None = None
    originally_available_at: date | None = None
    genres: list[str] = Field(default_factory=list)
    directors: list[str] = Field(default_factory=list)
    cast: list[str] = Field(default_factory=list)
    children: list[LibraryItem] = Field(default_factory=list)


class SearchHit(LibraryItem):
    library_title: str | None = None


class Collection(ApiModel):
    rating_key: str
    title: str
    library_key: str | None = None
    # The type of the items it holds (movie, show ...).
    subtype: str | None = None
    summary: str = ""
    thumb: str | None = None
    child_count: int = 0
    smart: bool = False
    added_at: datetime | None = None
    updated_at: datetime | None = None


class Page(ApiModel, Generic[T]):
    """One page of a longer Plex list: `items` start at `offset` of `total_size`."""

    items: list[T]
    offset: int
    total_size: int
