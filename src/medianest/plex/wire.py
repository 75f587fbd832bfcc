"""What goes to and comes from a Plex Media Server: query strings and item URIs out, JSON in,
read leniently and translated into MediaNest's Plex schemas.

Every answer is a `MediaContainer`. Plex clients disagree on types (counts arrive as strings,
booleans as "0"/"1"), fields come and go between versions, and item types grow: numbers and
flags are read from whatever arrives, an unreadable one becomes unknown rather than failing
the page, and an entry without a `ratingKey` is skipped. Only `PlexServerClient` uses this.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Annotated, Any, NoReturn, TypeVar
from urllib.parse import quote, urlencode

import httpx
import structlog
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from medianest.auth.plex_access import PLEX_SERVER
from medianest.core.errors import UpstreamUnavailable
from medianest.plex.schemas import (
    Collection,
    ExternalIds,
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
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str):
        try:
            return int(float(value.strip()))
        except (ValueError, OverflowError):
            return None
    return None


def _bool(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


def _text(value: object) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str | int | float):
        return str(value)
    return None


def _epoch(value: object) -> datetime | None:
    seconds = _int(value)
    if seconds is None or seconds <= 0:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _day(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _objects(value: object) -> list[Any]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _keyed(value: object) -> list[Any]:
    return [v for v in _objects(value) if _text(v.get("ratingKey"))]


Int = Annotated[int | None, BeforeValidator(_int)]
Flag = Annotated[bool, BeforeValidator(_bool)]
Text = Annotated[str | None, BeforeValidator(_text)]
Epoch = Annotated[datetime | None, BeforeValidator(_epoch)]
Day = Annotated[date | None, BeforeValidator(_day)]


class _Wire(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class Tag(_Wire):
    tag: Text = None


class Guid(_Wire):
    id: Text = None


class Part(_Wire):
    file: Text = None


class Media(_Wire):
    parts: Annotated[list[Part], BeforeValidator(_objects)] = Field(
        default_factory=list, alias="Part"
    )


class Location(_Wire):
    path: Text = None


class Section(_Wire):
    key: Text = None
    type: Text = None
    title: Text = None
    refreshing: Flag = False
    scanned_at: Epoch = None
    updated_at: Epoch = None
    locations: Annotated[list[Location], BeforeValidator(_objects)] = Field(
        default_factory=list, alias="Location"
    )


class Item(_Wire):
    rating_key: Annotated[str, BeforeValidator(_text)]
    type: Text = None
    subtype: Text = None
    title: Text = None
    year: Int = None
    summary: Text = None
    thumb: Text = None
    art: Text = None
    duration: Int = None
    added_at: Epoch = None
    updated_at: Epoch = None
    library_section_id: Text = Field(default=None, alias="librarySectionID")
    library_section_title: Text = None
    parent_rating_key: Text = None
    parent_title: Text = None
    grandparent_title: Text = None
    index: Int = None
    parent_index: Int = None
    child_count: Int = None
    leaf_count: Int = None
    smart: Flag = False
    guid: Text = None
    content_rating: Text = None
    studio: Text = None
    originally_available_at: Day = None
    guids: Annotated[list[Guid], BeforeValidator(_objects)] = Field(
        default_factory=list, alias="Guid"
    )
    media: Annotated[list[Media], BeforeValidator(_objects)] = Field(
        default_factory=list, alias="Media"
    )
    genres: Annotated[list[Tag], BeforeValidator(_objects)] = Field(
        default_factory=list, alias="Genre"
    )
    directors: Annotated[list[Tag], BeforeValidator(_objects)] = Field(
        default_factory=list, alias="Director"
    )
    roles: Annotated[list[Tag], BeforeValidator(_objects)] = Field(
        default_factory=list, alias="Role"
    )


class Hub(_Wire):
    # Hubs of tags (actors, genres) hold `Directory` entries, which are not titles: not read.
    type: Text = None
    metadata: Annotated[list[Item], BeforeValidator(_keyed)] = Field(
        default_factory=list, alias="Metadata"
    )


class Container(_Wire):
    size: Int = None
    total_size: Int = None
    offset: Int = None
    library_section_id: Text = Field(default=None, alias="librarySectionID")
    library_section_title: Text = None
    friendly_name: Text = None
    machine_identifier: Text = None
    version: Text = None
    platform: Text = None
    metadata: Annotated[list[Item], BeforeValidator(_keyed)] = Field(
        default_factory=list, alias="Metadata"
    )
    directory: Annotated[list[Section], BeforeValidator(_objects)] = Field(
        default_factory=list, alias="Directory"
    )
    hubs: Annotated[list[Hub], BeforeValidator(_objects)] = Field(default_factory=list, alias="Hub")
    # From the answer's headers and URL: the list's length when the body leaves it out, and
    # the path for the log line when the answer turns out unusable.
    header_total: int | None = Field(default=None, exclude=True)
    path: str = Field(default="", exclude=True)


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
    """The answer's `MediaContainer`; anything else is an `UpstreamUnavailable`."""
    try:
        found = _Envelope.model_validate_json(response.content).media_container
    except ValidationError:
        log.warning(
            "plex.unreadable_answer",
            path=response.request.url.path,
            status=response.status_code,
            content_type=response.headers.get("content-type"),
        )
        _unreadable_error()
    found.path = response.request.url.path
    found.header_total = _int(response.headers.get("X-Plex-Container-Total-Size"))
    return found


def unreadable(found: Container) -> NoReturn:
    log.warning("plex.unreadable_answer", path=found.path, reason="fields missing")
    _unreadable_error()


def _unreadable_error() -> NoReturn:
    raise UpstreamUnavailable(
        PLEX_SERVER, "Plex sent an answer MediaNest could not read. Try again in a few minutes."
    )


def page_of(found: Container, items: list[T], start: int) -> Page[T]:
    """A page, its offset and the list's full length (body, else header, else what is known)."""
    offset = found.offset if found.offset is not None else start
    total = found.total_size if found.total_size is not None else found.header_total
    known = offset + len(found.metadata)
    return Page(items=items, offset=offset, total_size=max(total or 0, known))


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


def external_ids(item: Item) -> ExternalIds:
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
    return ExternalIds(
        tmdb=_int(ids.get("tmdb")), imdb=ids.get("imdb") or None, tvdb=_int(ids.get("tvdb"))
    )


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
        "external_ids": external_ids(item),
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
