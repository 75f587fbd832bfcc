"""Plex answers as a user sees them: made with their caller, kept in the cache service as JSON,
read back typed, held for when Plex is down (`degraded.py`), forgotten by pattern.

Keys are `plex:{scope}:{what}` (`scope` is `owner` or `u:{user id}`, see `callers.scope_of`), so
forgetting a library, its collections or the whole server is a handful of patterns, reaching
every process that shares the cache.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import structlog
from pydantic import TypeAdapter

from medianest.auth.sessions import Principal
from medianest.core.cache import CacheService
from medianest.core.errors import UpstreamTimeout, UpstreamUnavailable
from medianest.integrations.plex.errors import UserTokenRefused
from medianest.plex.callers import (
    OWNER_SCOPE,
    NotSharedWithYou,
    PlexCaller,
    PlexCallers,
    PlexNotConnected,
    scope_of,
)
from medianest.plex.degraded import HELD_PREFIX, Fallback, HeldAnswers
from medianest.plex.schemas import (
    Collection,
    ItemDetail,
    Library,
    LibraryItem,
    Page,
    SearchHit,
    ServerInfo,
)

log = structlog.get_logger(__name__)

T = TypeVar("T")


class CollectionDetails(Collection):
    """A collection with one page of its items; `item_total` counts them all."""

    items: list[LibraryItem]
    item_total: int


@dataclass(frozen=True, slots=True)
class Cached(Generic[T]):
    """An answer, and whether it came from the cache (the API's `X-Cache: HIT`).

    `degraded`: Plex could not be reached and this is what MediaNest held instead (a page says
    "Plex is unreachable; showing the library as of `as_of`"); `as_of` is when that data was
    Plex's (None for a live answer).
    """

    value: T
    hit: bool
    degraded: bool = False
    as_of: datetime | None = None


SERVER_ANSWER = TypeAdapter(ServerInfo)
LIBRARIES_ANSWER = TypeAdapter(list[Library])
ITEM_PAGE_ANSWER = TypeAdapter(Page[LibraryItem])
ITEM_ANSWER = TypeAdapter(ItemDetail)
HITS_ANSWER = TypeAdapter(list[SearchHit])
ITEMS_ANSWER = TypeAdapter(list[LibraryItem])
COLLECTIONS_ANSWER = TypeAdapter(list[Collection])
DETAILS_ANSWER = TypeAdapter(CollectionDetails)


class PlexAnswers:
    def __init__(self, cache: CacheService, held: HeldAnswers, callers: PlexCallers) -> None:
        self._cache = cache
        self._held = held
        self._callers = callers

    async def view(
        self,
        principal: Principal | None,
        what: str,
        ttl: float,
        adapter: TypeAdapter[T],
        call: Callable[[PlexCaller], Awaitable[T]],
        fallback: Fallback[T] | None = None,
    ) -> Cached[T]:
        """`call` made as `principal` would see it, cached under `plex:{scope}:{what}`: the
        owner's view is shared by every administrator, a user's own view is theirs alone.
        With `fallback`, what is held answers while Plex cannot be reached."""

        async def fetch() -> T:
            try:
                caller = await self._callers.for_user(principal)
            except NotSharedWithYou:
                if principal is not None:
                    await self._held.forget_user(principal.id)
                raise
            try:
                return await call(caller)
            except UserTokenRefused:
                # Plex refused the user's own token: find it again on the next call.
                if principal is not None and caller.scope != OWNER_SCOPE:
                    await self._callers.forget_user(principal.id)
                raise

        key = f"plex:{scope_of(principal)}:{what}"
        try:
            return await self.get(key, ttl, adapter, fetch, hold=fallback is not None)
        except (UpstreamUnavailable, UpstreamTimeout) as exc:
            if fallback is None or isinstance(exc, PlexNotConnected):
                raise
            held = await self._held.answer(principal, key, adapter, fallback)
            if held is None:
                raise
            log.info(
                "plex.degraded_answer",
                view=what.partition(":")[0],
                source="held" if held.from_cache else "index",
                error=type(exc).__name__,
            )
            return Cached(held.value, held.from_cache, degraded=True, as_of=held.as_of)

    async def get(
        self,
        key: str,
        ttl: float,
        adapter: TypeAdapter[T],
        fetch: Callable[[], Awaitable[T]],
        *,
        hold: bool = False,
    ) -> Cached[T]:
        """With `hold`, a fresh answer is also kept to fall back on while Plex is down."""
        fetched = False

        async def load() -> Any:
            nonlocal fetched
            fetched = True
            data = adapter.dump_python(await fetch(), mode="json")
            if hold:
                await self._held.keep(key, data)
            return data

        # A fresh answer is read back from what was cached, so a hit and a miss look alike.
        value = await self._cache.get_or_set_typed(key, load, adapter, ttl)
        return Cached(value, hit=not fetched)

    async def libraries_changed(self, keys: Iterable[str]) -> None:
        """Forget what was cached about libraries whose titles changed (a sync found new,
        changed or removed titles), in every process sharing the cache."""
        # Titles appear in item pages, searches, "recently added" and collections, whatever
        # library they belong to: those go whole, library listings only for `keys`.
        await self.invalidate(
            "plex:*:libraries",
            *(f"plex:*:library:{key}:*" for key in keys),
            "plex:*:item:*",
            "plex:*:search:*",
            "plex:*:recent:*",
            "plex:*:collection:*",
        )

    async def collections_changed(self, library_key: str | None) -> None:
        library = library_key or "*"
        await self.invalidate(
            f"plex:*:library:{library}:collections", "plex:*:collection:*", "plex:*:search:*"
        )

    async def invalidate(self, *patterns: str) -> None:
        removed = await asyncio.gather(*(self._cache.invalidate_pattern(p) for p in patterns))
        log.info("plex.cache_invalidated", keys=sum(removed))

    async def forget_all(self) -> None:
        """Every Plex answer, held answer and image: the Plex connection changed."""
        await self.invalidate(
            "plex:server", "plex:owner:*", "plex:u:*", "plex:artwork:*", f"{HELD_PREFIX}*"
        )
