"""What goes to and comes from a Plex Media Server: query strings and item URIs out, JSON in,
read leniently and translated into MediaNest's Plex schemas.

Every answer is a `MediaContainer`. Plex clients disagree on types (counts arrive as strings,
booleans as "0"/"1"), fields come and go between versions, and item types grow: numbers and
flags are read from whatever form arrives, an unreadable value becomes unknown rather than
failing the page, and an entry without a `ratingKey` is left out. Only the server adapter
(`server.py`, `transport.py`) uses this module.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, NoReturn, TypeVar
from urllib.parse import quote, urlencode

import httpx
import structlog
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError
from pydantic.alias_generators import to_camel

from medianest.integrations.plex.errors import PlexUnreadableAnswer
from medianest.integrations.plex.schemas import (
    Collection,
    ItemDetail,
    Library,
    LibraryItem,
    Page,
    SearchHit,
)

log = structlog.get_logger(__name__)

_MACHINE_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")

T = TypeVar("T")


def _int(value: object) -> int | None:
    try:
        return int(str(value)) if value is not None else None
    except ValueError:
        return None


class _Wire(BaseModel):
    # Lax mode reads "3" as 3, "0"/"1" as booleans and epoch seconds as UTC datetimes, all
    # inside pydantic-core: a page of 200 items parses in a few milliseconds.
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        coerce_numbers_to_str=True,
    )


class Tag(_Wire):
    tag: str | None = None


class Guid(_Wire):
    id: str | None = None


class Part(_Wire):
    file: str | None = None


class Media(_Wire):
    parts: list[Part] = Field(default_factory=list, alias="Part")


class Location(_Wire):
    path: str | None = None


class Section(_Wire):
    key: str | None = None
    type: str | None = None
    title: str | None = None
    refreshing: bool = False
    scanned_at: datetime | None = None
    updated_at: datetime | None = None
    locations: list[Location] = Field(default_factory=list, alias="Location")


class Item(_Wire):
    rating_key: str
    type: str | None = None
    subtype: str | None = None
    title: str | None = None
    year: int | None = None
    summary: str | None = None
    thumb: str | None = None
    art: str | None = None
    duration: int | None = None
    added_at: datetime | None = None
    updated_at: datetime | None = None
    library_section_id: str | None = Field(default=None, alias="librarySectionID")
    library_section_title: str | None = None
    parent_rating_key: str | None = None
    parent_title: str | None = None
    grandparent_title: str | None = None
    index: int | None = None
    parent_index: int | None = None
    child_count: int | None = None
    leaf_count: int | None = None
    smart: bool = False
    guid: str | None = None
    content_rating: str | None = None
    studio: str | None = None
    originally_available_at: date | None = None
    guids: list[Guid] = Field(default_factory=list, alias="Guid")
    media: list[Media] = Field(default_factory=list, alias="Media")
    genres: list[Tag] = Field(default_factory=list, alias="Genre")
    directors: list[Tag] = Field(default_factory=list, alias="Director")
    roles: list[Tag] = Field(default_factory=list, alias="Role")


class Hub(_Wire):
    # Hubs of tags (actors, genres) hold `Directory` entries, which are not titles: not read.
    type: str | None = None
    metadata: list[Item] = Field(default_factory=list, alias="Metadata")


class Container(_Wire):
    size: int | None = None
    total_size: int | None = None
    offset: int | None = None
    library_section_id: str | None = Field(default=None, alias="librarySectionID")
    library_section_title: str | None = None
    friendly_name: str | None = None
    machine_identifier: str | None = None
    version: str | None = None
    platform: str | None = None
    metadata: list[Item] = Field(default_factory=list, alias="Metadata")
    directory: list[Section] = Field(default_factory=list, alias="Directory")
    hubs: list[Hub] = Field(default_factory=list, alias="Hub")
    # From the answer's headers and URL: the list's length when the body leaves it out, and
    # the path for the log line when the answer turns out unusable.
    _header_total: int | None = PrivateAttr(default=None)
    _path: str = PrivateAttr(default="")


class _Envelope(_Wire):
    media_container: Container = Field(alias="MediaContainer")


# What goes out


def url(path: str, params: Mapping[str, object] | None) -> str:
    """`path` with `params` as its query; `None` values are left out."""
    # Built here, not by httpx, whose `params` encode a space as `+`: `%20` is read right by
    # every server.
    if not params:
        return path
    pairs = [(name, str(value)) for name, value in params.items() if value is not None]
    return f"{path}?{urlencode(pairs, quote_via=quote, safe='')}"


def paging(start: int, size: int) -> dict[str, object]:
    return {"X-Plex-Container-Start": start, "X-Plex-Container-Size": size}


def items_uri(machine_identifier: str, keys: Sequence[str]) -> str:
    """How Plex names library items to put in a collection."""
    if not _MACHINE_ID.fullmatch(machine_identifier):
        raise ValueError("not a Plex machine identifier")
    joined = ",".join(keys)
    return f"server://{machine_identifier}/com.plexapp.plugins.library/library/metadata/{joined}"


def epoch(moment: int | datetime) -> int:
    if isinstance(moment, datetime):
        return int(moment.replace(tzinfo=moment.tzinfo or UTC).timestamp())
    return int(moment)


# What comes back


def container(response: httpx.Response) -> Container:
    """The answer's `MediaContainer`; anything else is a `PlexUnreadableAnswer`.

    A value of the wrong kind is dropped (a field becomes unknown, an odd list entry or an item
    without `ratingKey` is left out) rather than costing the whole answer.
    """
    try:
        found = _Envelope.model_validate_json(response.content).media_container
    except ValidationError:
        salvaged = _salvage(response.content)
        if salvaged is None:
            log.warning(
                "plex.unreadable_answer",
                path=response.request.url.path,
                status=response.status_code,
                content_type=response.headers.get("content-type"),
            )
            _unreadable_error()
        log.info("plex.odd_answer", path=response.request.url.path)
        found = salvaged
    found._path = response.request.url.path
    found._header_total = _int(response.headers.get("X-Plex-Container-Total-Size"))
    return found


def _salvage(content: bytes, attempts: int = 5) -> Container | None:
    try:
        data = json.loads(content)
    except ValueError:
        return None
    for _ in range(attempts):
        try:
            return _Envelope.model_validate(data).media_container
        except ValidationError as exc:
            locations = [
                # A missing required field (`ratingKey`) costs its item, anything else itself.
                tuple(e["loc"][:-1] if e["type"] == "missing" else e["loc"])
                for e in exc.errors()
            ]
        # Deepest and last first, so removing one leaves the others' positions as they were.
        for location in sorted(set(locations), key=_sort_key, reverse=True):
            if len(location) < 2 or not _drop(data, location):
                return None
    return None


def _sort_key(location: tuple[Any, ...]) -> tuple[tuple[int, Any], ...]:
    return tuple((0, part) if isinstance(part, int) else (1, str(part)) for part in location)


def _drop(data: Any, location: tuple[Any, ...]) -> bool:
    for part in location[:-1]:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return False
    try:
        del data[location[-1]]
    except (KeyError, IndexError, TypeError):
        return False
    return True


def unreadable(found: Container) -> NoReturn:
    log.warning("plex.unreadable_answer", path=found._path, reason="fields missing")
    _unreadable_error()


def _unreadable_error() -> NoReturn:
    raise PlexUnreadableAnswer


def page_of(found: Container, items: list[T], start: int) -> Page[T]:
    """A page, its offset and the list's full length: Plex's count (body, else header), or as
    far as the page's items reach when that is further.

    A page asked for past the end comes back empty at the offset asked for: that offset says
    nothing about the length, so only items that came back can lengthen the list.
    """
    offset = found.offset if found.offset is not None else start
    total = found.total_size if found.total_size is not None else found._header_total
    reached = offset + len(found.metadata) if found.metadata else 0
    return Page(items=items, offset=offset, total_size=max(total or 0, reached))


def library(section: Section) -> Library:
    return Library(
        key=section.key or "",
        type=section.type or "unknown",
        title=section.title or section.key or "",
        locations=[loc.path for loc in section.locations if loc.path],
        refreshing=section.refreshing,
        scanned_at=section.scanned_at,
        updated_at=section.updated_at,
    )


_AGENCIES = ("imdb", "tmdb", "tvdb")
# Items matched by Plex's legacy agents carry one id in their `guid` instead of a `Guid` list.
_LEGACY_AGENTS = {
    "com.plexapp.agents.imdb": "imdb",
    "com.plexapp.agents.themoviedb": "tmdb",
    "com.plexapp.agents.thetvdb": "tvdb",
}


def _external_ids(item: Item) -> dict[str, Any]:
    """`ExternalIds` fields, left for the item's validation to build (a separate model
    instance per item would cost a library sync a tenth of its time)."""
    ids: dict[str, str] = {}
    for guid in item.guids:
        scheme, _, value = (guid.id or "").partition("://")
        if scheme in _AGENCIES and value:
            ids.setdefault(scheme, value)
    if not ids and item.guid and item.type in ("movie", "show"):
        scheme, _, rest = item.guid.partition("://")
        agency = _LEGACY_AGENTS.get(scheme)
        value = rest.split("?", 1)[0].split("/", 1)[0]
        if agency and value:
            ids[agency] = value
    return {"tmdb": _int(ids.get("tmdb")), "imdb": ids.get("imdb"), "tvdb": _int(ids.get("tvdb"))}


def _item_fields(item: Item, library_key: str | None) -> dict[str, Any]:
    return {
        "rating_key": item.rating_key,
        "type": item.type or "unknown",
        "title": item.title or "",
        "year": item.year,
        "summary": item.summary or "",
        "thumb": item.thumb,
        "art": item.art,
        "duration": item.duration,
        "added_at": item.added_at,
        "updated_at": item.updated_at,
        "library_key": item.library_section_id or library_key,
        "parent_rating_key": item.parent_rating_key,
        "parent_title": item.parent_title,
        "grandparent_title": item.grandparent_title,
        "index": item.index,
        "parent_index": item.parent_index,
        "child_count": item.child_count,
        "leaf_count": item.leaf_count,
        "guid": item.guid,
        "external_ids": _external_ids(item),
        "files": [part.file for media in item.media for part in media.parts if part.file],
    }


def library_item(item: Item, library_key: str | None = None) -> LibraryItem:
    return LibraryItem(**_item_fields(item, library_key))


def search_hit(item: Item) -> SearchHit:
    return SearchHit(**_item_fields(item, None), library_title=item.library_section_title)


def item_detail(item: Item, found: Container, children: list[LibraryItem]) -> ItemDetail:
    return ItemDetail(
        **_item_fields(item, found.library_section_id),
        library_title=item.library_section_title or found.library_section_title,
        content_rating=item.content_rating,
        studio=item.studio,
        originally_available_at=item.originally_available_at,
        genres=[t.tag for t in item.genres if t.tag],
        directors=[t.tag for t in item.directors if t.tag],
        cast=[t.tag for t in item.roles if t.tag],
        children=children,
    )


def collection(item: Item, library_key: str | None) -> Collection:
    return Collection(
        rating_key=item.rating_key,
        title=item.title or "",
        library_key=item.library_section_id or library_key,
        subtype=item.subtype,
        summary=item.summary or "",
        thumb=item.thumb,
        child_count=item.child_count or 0,
        smart=item.smart,
        added_at=item.added_at,
        updated_at=item.updated_at,
    )
