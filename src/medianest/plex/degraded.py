"""What the library pages show while Plex cannot be reached: what MediaNest still holds.

Two things are held. Every answer Plex gave for a view is kept for a day, well past the minutes
it is served fresh (`plex-held:{cache key}`, the key naming whose view it was). And the library
index holds every movie, show, artist and album of the owner's movie, TV and music libraries, as of
its last sync.
While Plex is down, a view gets its own held answer if there is one, else the index's; either
comes marked degraded, with the time its data is from. When neither holds anything, Plex's error
stands.

The index holds all of the owner's libraries, while a user may see only those shared with them.
So each time a user's libraries come from Plex, they are remembered for weeks
(`plex-held:known:{user id}`); while Plex is down, a user is shown only what belongs to those
libraries, from the index and from held answers alike. A user with no such record gets nothing
held (Plex's 503), and so does one Plex said has no access any more. Administrators see every
library, as they do when Plex is up.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import structlog
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from medianest.auth.sessions import Principal
from medianest.core.cache import CacheService
from medianest.core.db import Database, utc_now
from medianest.plex.library_index import IndexedItem, LibraryIndex
from medianest.plex.schemas import (
    ItemDetail,
    ItemSort,
    ItemType,
    Library,
    LibraryItem,
    Page,
    SearchHit,
)

log = structlog.get_logger(__name__)

T = TypeVar("T")

HELD_PREFIX = "plex-held:"
HELD_TTL = 86_400.0
KNOWN_LIBRARIES_TTL = 30 * 86_400.0

Visible = frozenset[str] | None
"""The library keys a caller may be shown; None: every library (an administrator)."""

Restrict = Callable[[T, frozenset[str]], T | None]
"""Keeps of a held answer only what is in the libraries given; None when nothing is left."""

FromIndex = Callable[[AsyncSession, Visible], Awaitable[T | None]]
"""The view answered from the index for the libraries given; None when it cannot answer it."""

_LIBRARIES = TypeAdapter(list[Library])
# The types of the items the index holds for a library of each type.
_INDEXED_TYPES: dict[str, tuple[ItemType, ...]] = {
    "movie": ("movie",),
    "show": ("show",),
    "artist": ("artist", "album"),
}


@dataclass(frozen=True, slots=True)
class Held(Generic[T]):
    value: T
    as_of: datetime
    from_cache: bool


@dataclass(frozen=True, slots=True)
class Fallback(Generic[T]):
    """How one view is answered from what is held."""

    restrict: Restrict[T]
    from_index: FromIndex[T]


def known_libraries_key(user_id: uuid.UUID) -> str:
    return f"{HELD_PREFIX}known:{user_id}"


class HeldAnswers:
    def __init__(self, cache: CacheService, db: Database, index: LibraryIndex) -> None:
        self._cache = cache
        self._db = db
        self._index = index

    async def keep(self, key: str, data: Any) -> None:
        """Keep Plex's answer for `key` (JSON data) to fall back on."""
        await self._cache.set(
            f"{HELD_PREFIX}{key}", {"at": utc_now().isoformat(), "value": data}, HELD_TTL
        )

    async def remember_libraries(self, user_id: uuid.UUID, libraries: list[Library]) -> None:
        """The libraries Plex just showed the user: all they may be shown while Plex is down."""
        data = _LIBRARIES.dump_python(libraries, mode="json")
        await self._cache.set(
            known_libraries_key(user_id),
            {"at": utc_now().isoformat(), "value": data},
            KNOWN_LIBRARIES_TTL,
        )

    async def forget_user(self, user_id: uuid.UUID) -> None:
        """The user lost access to the server: show them nothing held."""
        await self._cache.delete(known_libraries_key(user_id))

    async def known_libraries(self, principal: Principal) -> Held[list[Library]] | None:
        return await self._read(known_libraries_key(principal.id), _LIBRARIES)

    async def visible(self, principal: Principal | None) -> Visible:
        """The libraries `principal` may be shown from what is held (empty: none)."""
        if principal is None or principal.is_admin:
            return None
        known = await self.known_libraries(principal)
        if known is None:
            return frozenset()
        return frozenset(library.key for library in known.value)

    async def answer(
        self,
        principal: Principal | None,
        key: str,
        adapter: TypeAdapter[T],
        fallback: Fallback[T],
    ) -> Held[T] | None:
        """The held answer for the view cached under `key`, else the index's, restricted to
        what `principal` may see; None when nothing is held for them."""
        visible = await self.visible(principal)
        if visible is not None and not visible:
            return None
        held = await self._read(f"{HELD_PREFIX}{key}", adapter)
        if held is not None:
            value = held.value if visible is None else fallback.restrict(held.value, visible)
            if value is not None:
                return Held(value, held.as_of, True)
        async with self._db.sessionmaker() as session:
            as_of = await self._index.indexed_at(session)
            if as_of is None:
                return None
            value = await fallback.from_index(session, visible)
        return None if value is None else Held(value, as_of, False)

    # How each view is answered from the index

    def libraries_fallback(self) -> Fallback[list[Library]]:
        async def from_index(session: AsyncSession, visible: Visible) -> list[Library]:
            return [
                Library(
                    key=state.library_key,
                    type=state.library_type,
                    title=state.library_title,
                    item_count=state.item_count,
                )
                for state in await self._index.libraries(session)
                if visible is None or state.library_key in visible
            ]

        def restrict(libraries: list[Library], visible: frozenset[str]) -> list[Library]:
            return [library for library in libraries if library.key in visible]

        return Fallback(restrict, from_index)

    def items_fallback(
        self, key: str, *, page: int, page_size: int, sort: ItemSort, type: ItemType | None
    ) -> Fallback[Page[LibraryItem]]:
        async def from_index(session: AsyncSession, visible: Visible) -> Page[LibraryItem] | None:
            if visible is not None and key not in visible:
                return None
            libraries = await self._index.libraries(session)
            library = next((lib for lib in libraries if lib.library_key == key), None)
            # The index holds a library's movies, shows, artists and albums; not its seasons,
            # episodes or tracks.
            indexed = _INDEXED_TYPES.get(library.library_type, ()) if library else ()
            if library is None or (type is not None and type not in indexed):
                return None
            found = await self._index.browse(
                session, key, page=page, page_size=page_size, sort=sort, type=type
            )
            items = [LibraryItem(**indexed_fields(item)) for item in found.items]
            return Page(items=items, offset=found.offset, total_size=found.total_size)

        def restrict(found: Page[LibraryItem], visible: frozenset[str]) -> Page[LibraryItem] | None:
            return found if key in visible else None

        return Fallback(restrict, from_index)

    def item_fallback(self, rating_key: str) -> Fallback[ItemDetail]:
        async def from_index(session: AsyncSession, visible: Visible) -> ItemDetail | None:
            item = await self._index.get_item(session, rating_key)
            if item is None or (visible is not None and item.library_key not in visible):
                return None
            return ItemDetail(**indexed_fields(item), library_title=item.library_title)

        def restrict(item: ItemDetail, visible: frozenset[str]) -> ItemDetail | None:
            return item if item.library_key in visible else None

        return Fallback(restrict, from_index)

    def search_fallback(self, text: str, *, limit: int) -> Fallback[list[SearchHit]]:
        async def from_index(session: AsyncSession, visible: Visible) -> list[SearchHit]:
            found = await self._index.search(session, text, limit=limit, library_keys=visible)
            return [
                SearchHit(**indexed_fields(item), library_title=item.library_title)
                for item in found
            ]

        return Fallback(in_libraries, from_index)

    def recent_fallback(self, *, limit: int) -> Fallback[list[LibraryItem]]:
        async def from_index(session: AsyncSession, visible: Visible) -> list[LibraryItem]:
            found = await self._index.recently_added(session, limit=limit, library_keys=visible)
            return [LibraryItem(**indexed_fields(item)) for item in found]

        return Fallback(in_libraries, from_index)

    async def _read(self, key: str, adapter: TypeAdapter[T]) -> Held[T] | None:
        found = await self._cache.get(key)
        if not isinstance(found, dict):
            return None
        try:
            value = adapter.validate_python(found["value"])
            as_of = datetime.fromisoformat(str(found["at"]))
        except (KeyError, ValueError, ValidationError):
            # Kept by an older release in another shape: as good as nothing held.
            log.warning("plex.held_answer_unreadable")
            return None
        return Held(value, as_of, True)


def in_libraries(items: list[Any], visible: frozenset[str]) -> list[Any]:
    """The items (anything with a `library_key`) of the libraries in `visible`."""
    return [item for item in items if getattr(item, "library_key", None) in visible]


def indexed_fields(item: IndexedItem) -> dict[str, Any]:
    """An indexed item's fields as the API's `LibraryItem` names them."""
    return item.model_dump(
        include={
            "rating_key",
            "type",
            "title",
            "year",
            "summary",
            "thumb",
            "duration",
            "added_at",
            "updated_at",
            "library_key",
            "parent_rating_key",
            "external_ids",
        }
    )
