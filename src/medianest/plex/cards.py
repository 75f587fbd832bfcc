"""How the library pages show Plex items: cards for the grids, the line under a title, times.

Pure functions of the items `PlexService` returns, shared by every library page and template.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from medianest.plex.schemas import Collection, LibraryItem

KINDS = {
    "movie": "Movie",
    "show": "TV show",
    "season": "Season",
    "episode": "Episode",
    "collection": "Collection",
    "artist": "Artist",
    "album": "Album",
    "track": "Track",
}
# What a library's listing holds, as its heading counts it.
COUNTED = {"artist": "artist"}
# Music has square covers; everything else tall posters.
SQUARE_KINDS = frozenset({"artist", "album", "track"})


@dataclass(frozen=True, slots=True)
class Card:
    """One poster in a grid: what it links to and the line under its title."""

    key: str
    href: str
    title: str
    thumb: str | None
    line: str
    square: bool = False


@dataclass(frozen=True, slots=True)
class Season:
    item: LibraryItem
    episodes: list[LibraryItem]


@dataclass(frozen=True, slots=True)
class Disc:
    """The tracks of one disc of an album; `number` is None for an album of one disc."""

    number: int | None
    tracks: list[LibraryItem]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def runtime(milliseconds: int | None) -> str:
    """ "1 h 57 min", "45 min"; empty when unknown."""
    if not milliseconds or milliseconds < 0:
        return ""
    minutes = max(1, round(milliseconds / 60_000))
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"{hours} h {minutes} min"
    return f"{hours} h" if hours else f"{minutes} min"


def track_time(milliseconds: int | None) -> str:
    """ "5:07", "1:02:09"; empty when unknown."""
    if not milliseconds or milliseconds < 0:
        return ""
    minutes, seconds = divmod(round(milliseconds / 1000), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def discs(tracks: Sequence[LibraryItem]) -> list[Disc]:
    """An album's tracks by disc, in Plex's order (Plex numbers a track's disc `parentIndex`)."""
    numbers = list(dict.fromkeys(track.parent_index for track in tracks))
    if len(numbers) <= 1:
        return [Disc(None, list(tracks))] if tracks else []
    return [Disc(n, [t for t in tracks if t.parent_index == n]) for n in numbers]


def item_href(item: LibraryItem) -> str:
    if item.type == "collection":
        return f"/library/collections/{item.rating_key}"
    return f"/library/items/{item.rating_key}"


def item_line(item: LibraryItem, *, with_kind: bool = False) -> str:
    """What tells two cards with the same title apart: the year, the show, the episode."""
    parts: list[str] = []
    if with_kind:
        parts.append(KINDS.get(item.type, item.type.capitalize()))
    if item.type == "season":
        parts.append(item.parent_title or "")
    elif item.type == "episode":
        parts.append(item.grandparent_title or "")
        if item.parent_index is not None and item.index is not None:
            parts.append(f"S{item.parent_index}·E{item.index}")
    elif item.type == "track":
        parts.extend((item.grandparent_title or "", item.parent_title or ""))
    else:
        if item.type == "album":
            parts.append(item.parent_title or "")
        if item.year:
            parts.append(str(item.year))
    if not with_kind and item.child_count:
        if item.type == "show":
            parts.append(_plural(item.child_count, "season"))
        elif item.type == "artist":
            parts.append(_plural(item.child_count, "album"))
    return " · ".join(p for p in parts if p)


def card(item: LibraryItem, *, with_kind: bool = False) -> Card:
    title = item.title
    if item.type == "season" and item.parent_title and with_kind:
        title = f"{item.parent_title}: {item.title}"
    return Card(
        item.rating_key,
        item_href(item),
        title,
        item.thumb,
        item_line(item, with_kind=with_kind),
        square=item.type in SQUARE_KINDS,
    )


def album_card(album: LibraryItem) -> Card:
    """An album on its artist's page: the year and length tell it from the artist's others."""
    parts = []
    if album.year:
        parts.append(str(album.year))
    if album.leaf_count:
        parts.append(_plural(album.leaf_count, "track"))
    line = " · ".join(parts)
    return Card(album.rating_key, item_href(album), album.title, album.thumb, line, square=True)


def collection_card(collection: Collection) -> Card:
    return Card(
        collection.rating_key,
        f"/library/collections/{collection.rating_key}",
        collection.title,
        collection.thumb,
        _plural(collection.child_count, "title"),
    )
