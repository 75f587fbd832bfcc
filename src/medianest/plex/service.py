"""PlexService: the Plex library as each MediaNest user may see it, cached.

Who calls Plex with what (`get_client_for_user`): administrators (the server owner signs in as
one) browse with the owner's token and see every library; anyone else browses with their own
token for this server (`callers.PlexCallers`), so Plex itself shows them only what the owner
shares with them. Refreshing, scanning and collections are administrators' actions, made with
the owner's token. An account without Plex (a local one) that is not an administrator has no
token to browse with and is told to sign in with Plex.

Answers are cached through the cache service: under `plex:owner:...` when made with the owner's
token (the same for every administrator), under `plex:u:{user id}:...` when made with a user's
own, so no answer reaches a user it was not made for. A cached answer needs no call to Plex or
plex.tv. Each method says whether its answer came from the cache (`Cached.hit`).

When Plex cannot be reached (`UpstreamUnavailable`, `UpstreamTimeout`, an open breaker), the
library views (libraries, a library's items, an item, search, recently added) answer from what is
held instead: the last answer Plex gave for that view, else the library index, restricted to the
libraries the user was last seen to have (`degraded.py`). Such an answer says so (`Cached.degraded`)
and when its data is from (`Cached.as_of`). With nothing held, and while no server is connected,
the error stands (503/504, naming Plex).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from collections.abc import Set as AbstractSet
from pathlib import Path, PurePosixPath
from typing import Literal, TypeVar

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from medianest.auth.plex_access import ConnectionSource
from medianest.auth.plex_tokens import PlexTokens
from medianest.auth.sessions import Principal
from medianest.config import Settings
from medianest.core.cache import CacheService
from medianest.core.db import Database
from medianest.core.errors import ValidationFailed
from medianest.core.security import EncryptionService
from medianest.integrations.plex.errors import (
    CollectionNotFound,
    ImageNotFound,
    ItemNotFound,
    LibraryNotFound,
)
from medianest.integrations.plex.servers import PlexServers
from medianest.integrations.plex.tv import PlexTvClient
from medianest.plex.answers import (
    COLLECTIONS_ANSWER,
    DETAILS_ANSWER,
    HITS_ANSWER,
    ITEM_ANSWER,
    ITEM_PAGE_ANSWER,
    ITEMS_ANSWER,
    LIBRARIES_ANSWER,
    SERVER_ANSWER,
    Cached,
    CollectionDetails,
    PlexAnswers,
)
from medianest.plex.callers import (
    CLEANUP_INTERVAL,
    IDLE_SECONDS,
    OWNER_SCOPE,
    PlexCaller,
    PlexCallers,
    scope_of,
)
from medianest.plex.degraded import HeldAnswers
from medianest.plex.images import MAX_SIDE, Image, ImageDiskCache, PlexImages, parse_image_path
from medianest.plex.index_search import closeness
from medianest.plex.library_index import MAX_SEARCH_RESULTS, LibraryIndex, MediaType
from medianest.plex.schemas import (
    Collection,
    ItemDetail,
    ItemSort,
    ItemType,
    Library,
    LibraryItem,
    Page,
    SearchHit,
    ServerInfo,
)

log = structlog.get_logger(__name__)

T = TypeVar("T")

LibrariesChanged = Callable[[list[str]], Awaitable[None]]

SERVER_TTL = 3600.0
LIBRARIES_TTL = 3600.0
CONTENT_TTL = 300.0
MAX_PAGE_SIZE = 100
MAX_QUERY_LENGTH = 200
# Plex is asked for this many titles of each kind a search finds; they are all paged through.
SEARCH_EACH = 100

ItemOrder = Literal["title", "addedAt", "year"]
CollectionOrder = Literal["title", "addedAt", "updatedAt"]

_ITEM_SORTS: dict[str, ItemSort] = {
    "title": "titleSort:asc",
    "addedAt": "addedAt:desc",
    "year": "year:desc",
}
# The type of the items a collection of a library holds: Plex wants it said when creating one.
_COLLECTION_ITEM_TYPES: dict[str, ItemType] = {"movie": "movie", "show": "show", "artist": "artist"}
_DIGITS = re.compile(r"[0-9]{1,12}")


class PlexService:
    def __init__(
        self,
        *,
        settings: Settings,
        cache: CacheService,
        db: Database,
        encryption: EncryptionService,
        plex_tokens: PlexTokens,
        plex_tv: PlexTvClient,
        connection: ConnectionSource,
        servers: PlexServers,
        image_dir: Path | None = None,
        youtube_path: str | None = None,
        token_idle_seconds: float = IDLE_SECONDS,
        cleanup_interval: float = CLEANUP_INTERVAL,
    ) -> None:
        """`image_dir` defaults to `<data dir>/cache/images`; `youtube_path` is MediaNest's
        YouTube folder as the Plex server sees it (by default the folder's own path: right when
        both run on one host or share the mount)."""
        # Without Redis, this process is the only one that runs jobs (several need Redis).
        self.index = LibraryIndex(db, sole_runner=settings.redis_url is None)
        self.held = HeldAnswers(cache, db, self.index)
        self.callers = PlexCallers(
            plex_tokens=plex_tokens,
            cache=cache,
            encryption=encryption,
            plex_tv=plex_tv,
            connection=connection,
            servers=servers,
            idle_seconds=token_idle_seconds,
            cleanup_interval=cleanup_interval,
        )
        self._answers = PlexAnswers(cache, self.held, self.callers)
        self._library_listeners: list[LibrariesChanged] = []
        disk = ImageDiskCache(image_dir or settings.data_dir / "cache" / "images")
        self.images = PlexImages(cache, disk)
        self._youtube_path = youtube_path or str(settings.resolved_youtube_dir.absolute())

    # Lifecycle

    def start_cleanup_timer(self) -> None:
        """Evict idle users' Plex tokens regularly until `aclose()`. The first shared user's
        call starts it, so a process that never serves one (a worker) runs no timer."""
        self.callers.start_cleanup_timer()

    async def aclose(self) -> None:
        await self.callers.aclose()

    async def forget_server(self) -> None:
        """Drop every cached answer and user token: for when the Plex connection changes."""
        self.callers.forget_all()
        await self._answers.forget_all()

    # Who calls with what

    async def get_client_for_user(self, principal: Principal) -> PlexCaller:
        """Raises `PlexSignInRequired` (403) for a local account that is not an administrator,
        `NotSharedWithYou` / `UserTokenRefused` (403) when the user's Plex account cannot use
        this server, and `PlexNotConnected` (503) while no server is connected."""
        return await self.callers.for_user(principal)

    # Reading the library

    async def get_server_info(self) -> Cached[ServerInfo]:
        async def fetch() -> ServerInfo:
            server = await self.callers.server()
            return await server.client.server_info(token=server.owner_token)

        return await self._answers.get("plex:server", SERVER_TTL, SERVER_ANSWER, fetch)

    async def get_libraries(self, principal: Principal | None) -> Cached[list[Library]]:
        """The libraries the user may see, each with its item count (`None`: every library)."""

        async def call(c: PlexCaller) -> list[Library]:
            libraries = await c.client.libraries(token=c.token, include_counts=True)
            if principal is not None and c.scope != OWNER_SCOPE:
                await self.held.remember_libraries(principal.id, libraries)
            return libraries

        return await self._answers.view(
            principal,
            "libraries",
            LIBRARIES_TTL,
            LIBRARIES_ANSWER,
            call,
            self.held.libraries_fallback(),
        )

    async def get_library_items(
        self,
        principal: Principal,
        key: str,
        *,
        page: int = 1,
        page_size: int = 20,
        sort: ItemOrder = "title",
        type: ItemType | None = None,
    ) -> Cached[Page[LibraryItem]]:
        """One page of a library; titles A to Z, newest added first, or newest year first.

        Raises `LibraryNotFound` for a library that does not exist or is not shared with the user.
        """
        _check_page(page, page_size)
        _digits(key, LibraryNotFound)
        start = (page - 1) * page_size

        async def fetch(c: PlexCaller) -> Page[LibraryItem]:
            return await c.client.library_items(
                key, token=c.token, start=start, size=page_size, sort=_ITEM_SORTS[sort], type=type
            )

        what = f"library:{key}:items:{sort}:{type or 'all'}:{start}:{page_size}"
        return await self._answers.view(
            principal,
            what,
            CONTENT_TTL,
            ITEM_PAGE_ANSWER,
            fetch,
            self.held.items_fallback(
                key, page=page, page_size=page_size, sort=_ITEM_SORTS[sort], type=type
            ),
        )

    async def get_item(self, principal: Principal, rating_key: str) -> Cached[ItemDetail]:
        """One item with its seasons or episodes. Raises `ItemNotFound`."""
        _digits(rating_key, ItemNotFound)
        return await self._answers.view(
            principal,
            f"item:{rating_key}",
            CONTENT_TTL,
            ITEM_ANSWER,
            lambda c: c.client.item(rating_key, token=c.token),
            self.held.item_fallback(rating_key),
        )

    async def search(
        self, principal: Principal, query: str, *, page: int = 1, page_size: int = 20
    ) -> Cached[Page[SearchHit]]:
        """One page of the titles matching `query` in the libraries the user may see, the
        closest first (`index_search.closeness`); `total_size` counts them all.

        Every page is cut from one answer per query, so pages neither overlap nor skip.
        """
        text = " ".join(query.split())
        if not text:
            raise ValidationFailed.on("query", "Search query is required")
        if len(text) > MAX_QUERY_LENGTH:
            raise ValidationFailed.on("query", f"Search for at most {MAX_QUERY_LENGTH} characters.")
        _check_page(page, page_size)
        # Plex matches regardless of case, so "Alien" and "alien" share one cached answer.
        digest = hashlib.sha256(text.casefold().encode()).hexdigest()[:32]

        async def fetch(c: PlexCaller) -> list[SearchHit]:
            hits: dict[str, SearchHit] = {}
            for hit in await c.client.search(text, token=c.token, limit=SEARCH_EACH):
                hits.setdefault(hit.rating_key, hit)
            # Plex lists its finds kind by kind; a title named as asked comes first whatever
            # its kind (an artist among a hundred movies with the word in their titles).
            return sorted(hits.values(), key=lambda hit: closeness(text, hit.title))

        found = await self._answers.view(
            principal,
            f"search:{digest}",
            CONTENT_TTL,
            HITS_ANSWER,
            fetch,
            self.held.search_fallback(text, limit=MAX_SEARCH_RESULTS),
        )
        start = (page - 1) * page_size
        shown = Page[SearchHit](
            items=found.value[start : start + page_size], offset=start, total_size=len(found.value)
        )
        return Cached(shown, found.hit, found.degraded, found.as_of)

    async def get_recently_added(
        self, principal: Principal, *, limit: int = 20
    ) -> Cached[list[LibraryItem]]:
        _check_limit(limit)
        return await self._answers.view(
            principal,
            f"recent:{limit}",
            CONTENT_TTL,
            ITEMS_ANSWER,
            lambda c: c.client.recently_added(token=c.token, limit=limit),
            self.held.recent_fallback(limit=limit),
        )

    # Collections

    async def get_collections(
        self,
        principal: Principal,
        library_key: str,
        *,
        search: str | None = None,
        sort: CollectionOrder = "title",
    ) -> Cached[list[Collection]]:
        """The library's collections whose title contains `search` (any case). Raises
        `LibraryNotFound`."""
        _digits(library_key, LibraryNotFound)
        found = await self._answers.view(
            principal,
            f"library:{library_key}:collections",
            CONTENT_TTL,
            COLLECTIONS_ANSWER,
            lambda c: c.client.collections(library_key, token=c.token),
        )
        collections = found.value
        if search and search.strip():
            needle = search.strip().casefold()
            collections = [c for c in collections if needle in c.title.casefold()]
        return Cached(_sorted_collections(collections, sort), found.hit)

    async def get_collection_details(
        self, principal: Principal, key: str, *, page: int = 1, page_size: int = 50
    ) -> Cached[CollectionDetails]:
        """The collection and one page of its items. Raises `CollectionNotFound`."""
        _check_page(page, page_size)
        _digits(key, CollectionNotFound)
        start = (page - 1) * page_size

        async def fetch(c: PlexCaller) -> CollectionDetails:
            collection, items = await asyncio.gather(
                c.client.collection(key, token=c.token),
                c.client.collection_items(key, token=c.token, start=start, size=page_size),
            )
            return CollectionDetails(
                **collection.model_dump(), items=items.items, item_total=items.total_size
            )

        what = f"collection:{key}:{start}:{page_size}"
        return await self._answers.view(principal, what, CONTENT_TTL, DETAILS_ANSWER, fetch)

    async def create_collection(
        self, library_key: str, title: str, rating_keys: Sequence[str]
    ) -> Collection:
        """A new collection in the library, holding `rating_keys` (added in batches).

        Raises `LibraryNotFound`, and `PlexRejected` when the items are not all of the
        library's type and in it.
        """
        library = await self._owner_library(library_key)
        server = await self.callers.server()
        machine_identifier = await self.callers.machine_identifier(server)
        collection = await server.client.create_collection(
            library_key,
            title,
            rating_keys,
            token=server.owner_token,
            machine_identifier=machine_identifier,
            item_type=_COLLECTION_ITEM_TYPES.get(library.type, "movie"),
        )
        await self._answers.collections_changed(library_key)
        return collection

    async def add_to_collection(self, collection_key: str, rating_keys: Sequence[str]) -> None:
        """Raises `CollectionNotFound` and `PlexRejected` (items of another type or library)."""
        server = await self.callers.server()
        machine_identifier = await self.callers.machine_identifier(server)
        await server.client.add_to_collection(
            collection_key,
            rating_keys,
            token=server.owner_token,
            machine_identifier=machine_identifier,
        )
        await self._answers.collections_changed(None)

    # Scans

    async def refresh_library(self, key: str) -> None:
        """Ask Plex to scan the whole library; returns once Plex has accepted. Raises
        `LibraryNotFound`."""
        server = await self.callers.server()
        await server.client.refresh_library(key, token=server.owner_token)
        # A scan can add, change and remove items anywhere in what was cached about the library.
        await self._answers.libraries_changed((key,))

    async def scan_directory(self, key: str, path: str) -> None:
        """Ask Plex to scan one folder (as the Plex server sees it) of the library. Raises
        `LibraryNotFound` and `PathOutsideLibrary`."""
        server = await self.callers.server()
        await server.client.scan_path(key, path, token=server.owner_token)
        await self._answers.libraries_changed((key,))

    async def find_youtube_library(self) -> Library | None:
        """The library holding MediaNest's YouTube folder: the one with the deepest folder that
        is, or contains, that folder. None when no library does."""
        target = PurePosixPath(self._youtube_path)
        best: tuple[int, Library] | None = None
        for library in (await self.get_libraries(None)).value:
            for location in library.locations:
                root = PurePosixPath(location)
                if (root == target or root in target.parents) and (
                    best is None or len(root.parts) > best[0]
                ):
                    best = (len(root.parts), library)
        return best[1] if best is not None else None

    # Images

    async def get_image(
        self,
        principal: Principal,
        path: str,
        *,
        width: int | None = None,
        height: int | None = None,
    ) -> Cached[Image]:
        """An artwork image, resized by Plex when a side is given, from the disk cache when
        it holds it. The user must be able to see the item, collection or library it belongs
        to, else `ImageNotFound`, as for an image that does not exist.

        Raises `InvalidImagePath` before anything else is done, and `ValidationFailed` for a
        side outside 1..1000.
        """
        ref = parse_image_path(path)
        for field, side in (("width", width), ("height", height)):
            if side is not None and not 1 <= side <= MAX_SIDE:
                message = f"The image {field} must be between 1 and {MAX_SIDE}."
                raise ValidationFailed.on(field, message)
        scope = scope_of(principal)
        server = await self.callers.server()
        if scope != OWNER_SCOPE:
            # Images are fetched and kept once for everyone with the owner's token; who may
            # see one follows from its library and the user's libraries, both usually cached.
            visible = {library.key for library in (await self.get_libraries(principal)).value}
            if await self.images.library_of(server, ref) not in visible:
                raise ImageNotFound
        image, hit = await self.images.fetch(server, ref, width=width, height=height)
        return Cached(image, hit)

    async def _owner_library(self, key: str) -> Library:
        _digits(key, LibraryNotFound)
        for library in (await self.get_libraries(None)).value:
            if library.key == key:
                return library
        raise LibraryNotFound

    async def in_plex(
        self, session: AsyncSession, titles: AbstractSet[tuple[MediaType, int]]
    ) -> dict[tuple[MediaType, int], str]:
        """Which of these (media type, TMDB id) the library index holds, with a rating key to
        open each at; for the requests pages, one query per page of titles."""
        return await self.index.in_plex(session, titles)

    def on_libraries_changed(self, listener: LibrariesChanged) -> None:
        """Run `listener` after a sync changed titles, with the libraries' keys, in the process
        that ran the sync (another domain's way of hearing that titles reached Plex). A
        failing listener is logged, not raised."""
        self._library_listeners.append(listener)

    async def libraries_changed(self, keys: Iterable[str]) -> None:
        """Forget what was cached about libraries whose titles changed (a sync found new,
        changed or removed titles), in every process sharing the cache, then tell the
        listeners."""
        changed = list(keys)
        await self._answers.libraries_changed(changed)
        for listener in list(self._library_listeners):
            try:
                await listener(changed)
            except Exception:
                log.exception("plex.library_listener_failed")


def _digits(key: str, missing: type[Exception]) -> str:
    """A key that cannot be Plex's cannot exist; it never reaches a cache key either."""
    if not _DIGITS.fullmatch(key):
        raise missing
    return key


def _check_page(page: int, page_size: int) -> None:
    if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"pages count from 1 and hold 1..{MAX_PAGE_SIZE} items")


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValueError(f"a limit is 1..{MAX_PAGE_SIZE}")


def _sorted_collections(collections: list[Collection], sort: CollectionOrder) -> list[Collection]:
    if sort == "title":
        return sorted(collections, key=lambda c: c.title.casefold())

    def moment(collection: Collection) -> float:
        value = collection.added_at if sort == "addedAt" else collection.updated_at
        return value.timestamp() if value is not None else 0.0

    return sorted(collections, key=moment, reverse=True)
