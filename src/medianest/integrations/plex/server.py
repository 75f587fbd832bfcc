"""The Plex Media Server wire adapter: libraries, items, search, collections, scans and images.

One `PlexServerClient` per server serves every user: each call takes the token to use. The owner's
token is a plain `str`; a shared user's own server token is wrapped in `PlexUserToken`, so Plex
refusing it means "not shared with this user" (the matching `NotFound`) rather than "MediaNest is
misconfigured". Tokens travel in the `X-Plex-Token` header only, never in a URL: PMS reads the
header on every endpoint, the photo transcoder included (only URLs handed to a browser need the
token in their query, and MediaNest hands none out).

Lists are always paged (`X-Plex-Container-Start/Size`, at most 200 a page): unpaged `/all` on a
large library times out. What a status means is decided in `transport.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from datetime import datetime

import structlog

from medianest.core.errors import ValidationFailed
from medianest.integrations.plex import wire
from medianest.integrations.plex.checks import (
    COLLECTION_BATCH,
    IMAGE_PATH,
    MAX_PAGE_SIZE,
    PARENT_TYPES,
    TYPE_IDS,
    check_page,
    check_scan_path,
    image_size,
    inside,
    item_keys,
    plex_key,
    section_path,
)
from medianest.integrations.plex.errors import (
    CollectionNotFound,
    ImageNotFound,
    InvalidImagePath,
    ItemNotFound,
    LibraryNotFound,
    PathOutsideLibrary,
    ProbeFailure,
)
from medianest.integrations.plex.schemas import (
    Collection,
    ItemDetail,
    ItemSort,
    ItemType,
    Library,
    LibraryItem,
    Page,
    PlexIdentity,
    SearchHit,
    ServerInfo,
)
from medianest.integrations.plex.transport import ServerTransport, unexpected

log = structlog.get_logger(__name__)


class PlexServerClient:
    """One Plex Media Server. Every failure to reach it leaves as `UpstreamUnavailable` or
    `UpstreamTimeout` naming Plex; the owner's token being refused is misconfiguration."""

    def __init__(self, transport: ServerTransport) -> None:
        self._wire = transport

    async def aclose(self) -> None:
        await self._wire.aclose()

    # The server

    async def identity(self) -> PlexIdentity:
        """The server's machine identifier and version; needs no token.

        The one way MediaNest tells a Plex server from anything else at an address: browsing
        and sign-in read it through the breaker, the connection test through a probing client
        (`PlexServers.probing`), which raises `PlexProbeFailed` (`NOT_PLEX` for an answer that
        is not a Plex identity) rather than `PlexUnreadableAnswer` or `PlexUnexpectedAnswer`.
        """
        found, machine_identifier = await self._wire.read_server(
            "/identity", token=None, failure=ProbeFailure.NOT_PLEX
        )
        return PlexIdentity(machine_identifier=machine_identifier, version=found.version)

    async def server_info(self, *, token: str) -> ServerInfo:
        """The server's name and version, as `token` may read them; a probing client raises
        `PlexProbeFailed` (`TOKEN_REFUSED`, `SERVER_ERROR` for any other answer)."""
        found, machine_identifier = await self._wire.read_server(
            "/", token=token, failure=ProbeFailure.SERVER_ERROR
        )
        return ServerInfo(
            name=found.friendly_name or machine_identifier,
            machine_identifier=machine_identifier,
            version=found.version,
            platform=found.platform,
        )

    # Libraries

    async def libraries(self, *, token: str, include_counts: bool = False) -> list[Library]:
        """The libraries `token` may see (a shared user's token: only those shared with them).

        With `include_counts`, each library's `item_count` is asked for too, one call each.
        """
        found = await self._wire.get("/library/sections", token=token)
        libraries = [wire.library(section) for section in found.directory if section.key]
        if not include_counts:
            return libraries
        sizes = await asyncio.gather(
            *(self.library_size(lib.key, token=token) for lib in libraries)
        )
        return [
            lib.model_copy(update={"item_count": size})
            for lib, size in zip(libraries, sizes, strict=True)
        ]

    async def library(self, key: str, *, token: str) -> Library:
        """Raises `LibraryNotFound`."""
        plex_key(key, LibraryNotFound)
        for library in await self.libraries(token=token):
            if library.key == key:
                return library
        raise LibraryNotFound

    async def library_size(self, key: str, *, token: str, type: ItemType | None = None) -> int:
        """How many items the library holds (of `type`: e.g. a music library's albums rather
        than its artists), without listing any. Raises `LibraryNotFound`."""
        path = section_path(key, "all")
        params: dict[str, object] = wire.paging(0, 0)
        if type is not None:
            params["type"] = TYPE_IDS[type]
        found = await self._wire.get(path, token=token, params=params, missing=LibraryNotFound)
        return wire.page_of(found, [], 0).total_size

    async def library_items(
        self,
        key: str,
        *,
        token: str,
        start: int = 0,
        size: int = 50,
        sort: ItemSort = "titleSort:asc",
        type: ItemType | None = None,
        include_guids: bool = False,
        updated_since: int | datetime | None = None,
    ) -> Page[LibraryItem]:
        """One page of the library. `type` lists e.g. the episodes of a TV library rather than
        its shows; `updated_since` (epoch seconds or a datetime) keeps only items changed at or
        after it. Raises `LibraryNotFound`, and `ValueError` for a size outside 1..200."""
        check_page(start, size)
        params: dict[str, object] = {**wire.paging(start, size), "sort": sort}
        if type is not None:
            params["type"] = TYPE_IDS[type]
        if include_guids:
            params["includeGuids"] = 1
        if updated_since is not None:
            # PMS's `>>=` filter is strictly "after": one second earlier keeps the items
            # changed in the very second asked for (a bulk edit stamps many with one second).
            params["updatedAt>>"] = wire.epoch(updated_since) - 1
        path = section_path(key, "all")
        found = await self._wire.get(path, token=token, params=params, missing=LibraryNotFound)
        library_key = found.library_section_id or key
        return wire.page_of(
            found, [wire.library_item(m, library_key) for m in found.metadata], start
        )

    async def iter_library_items(
        self,
        key: str,
        *,
        token: str,
        page_size: int = MAX_PAGE_SIZE,
        include_guids: bool = True,
        updated_since: int | datetime | None = None,
        type: ItemType | None = None,
    ) -> AsyncIterator[LibraryItem]:
        """Every item of the library (or those changed since `updated_since`; of `type`, else
        the library's own: movies, shows, artists), page after page.

        The next page is already on its way while the caller works through the current one;
        there is no pause between pages. Items come oldest-added first, so items added during
        the walk land at its end instead of shifting pages not read yet; an item removed
        during the walk can push one item past a page boundary, for the next sync to find.
        """

        def fetch(start: int) -> asyncio.Task[Page[LibraryItem]]:
            page = self.library_items(
                key,
                token=token,
                start=start,
                size=page_size,
                sort="addedAt:asc",
                type=type,
                include_guids=include_guids,
                updated_since=updated_since,
            )
            return asyncio.ensure_future(page)

        check_page(0, page_size)
        pending = fetch(0)
        try:
            while True:
                page = await pending
                following = page.offset + len(page.items)
                more = bool(page.items) and following < page.total_size
                if more:
                    pending = fetch(following)
                for item in page.items:
                    yield item
                if not more:
                    return
        finally:
            if not pending.done():
                pending.cancel()
            # Awaited even when done: a page that failed after the walk was abandoned (the
            # client closed at shutdown) is then not reported as an exception never retrieved.
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pending

    # Items

    async def item(
        self, rating_key: str, *, token: str, include_children: bool = True
    ) -> ItemDetail:
        """One item; a show comes with its seasons, a season with its episodes.

        Raises `ItemNotFound`.
        """
        path = f"/library/metadata/{plex_key(rating_key, ItemNotFound)}"
        found = await self._wire.get(
            path, token=token, params={"includeGuids": 1}, missing=ItemNotFound
        )
        item = next((m for m in found.metadata if m.rating_key == rating_key), None)
        if item is None:
            raise ItemNotFound
        children: list[LibraryItem] = []
        if include_children and item.type in PARENT_TYPES:
            children = await self.children(rating_key, token=token)
        return wire.item_detail(item, found, children)

    async def children(self, rating_key: str, *, token: str) -> list[LibraryItem]:
        """A show's seasons or a season's episodes, in Plex's order. Raises `ItemNotFound`."""
        path = f"/library/metadata/{plex_key(rating_key, ItemNotFound)}/children"
        entries = self._wire.all_pages(path, token, ItemNotFound)
        return [wire.library_item(item, library) async for item, library in entries]

    async def search(
        self, query: str, *, token: str, limit: int = 20, section: str | None = None
    ) -> list[SearchHit]:
        """Titles matching `query` in the libraries `token` may see (or in one `section`), in
        Plex's order: at most `limit` of each kind (movies, shows, episodes, artists, albums,
        tracks, collections), as Plex counts its limit.

        Actors, genres and other tags Plex finds too are left out.
        """
        query = query.strip()
        if not query:
            raise ValidationFailed.on("query", "Search query is required")
        check_page(0, limit)
        params: dict[str, object] = {"query": query, "limit": limit, "includeCollections": 1}
        if section is not None:
            params["sectionId"] = plex_key(section, LibraryNotFound)
        found = await self._wire.get("/hubs/search", token=token, params=params)
        return [wire.search_hit(m) for hub in found.hubs for m in hub.metadata]

    async def recently_added(
        self, *, token: str, limit: int = 20, section: str | None = None
    ) -> list[LibraryItem]:
        """The newest additions, newest first. Raises `LibraryNotFound` for `section`."""
        check_page(0, limit)
        path = (
            "/library/recentlyAdded" if section is None else section_path(section, "recentlyAdded")
        )
        found = await self._wire.get(
            path, token=token, params=wire.paging(0, limit), missing=LibraryNotFound
        )
        return [wire.library_item(m, found.library_section_id) for m in found.metadata][:limit]

    # Collections

    async def collections(self, section_key: str, *, token: str) -> list[Collection]:
        """Raises `LibraryNotFound`."""
        entries = self._wire.all_pages(
            section_path(section_key, "collections"), token, LibraryNotFound
        )
        return [wire.collection(item, library or section_key) async for item, library in entries]

    async def collection(self, rating_key: str, *, token: str) -> Collection:
        """Raises `CollectionNotFound`."""
        path = f"/library/metadata/{plex_key(rating_key, CollectionNotFound)}"
        found = await self._wire.get(path, token=token, missing=CollectionNotFound)
        item = next((m for m in found.metadata if m.rating_key == rating_key), None)
        if item is None or item.type != "collection":
            raise CollectionNotFound
        return wire.collection(item, found.library_section_id)

    async def collection_items(
        self, rating_key: str, *, token: str, start: int = 0, size: int = 50
    ) -> Page[LibraryItem]:
        """Raises `CollectionNotFound`."""
        check_page(start, size)
        path = f"/library/collections/{plex_key(rating_key, CollectionNotFound)}/children"
        params = wire.paging(start, size)
        found = await self._wire.get(path, token=token, params=params, missing=CollectionNotFound)
        items = [wire.library_item(m, found.library_section_id) for m in found.metadata]
        return wire.page_of(found, items, start)

    async def create_collection(
        self,
        section_key: str,
        title: str,
        rating_keys: Sequence[str],
        *,
        token: str,
        machine_identifier: str,
        item_type: ItemType | int = 1,
    ) -> Collection:
        """A new collection holding `rating_keys`, which must all be of `item_type`.

        Plex takes the keys in the URL, so a long list is created with its first batch and
        extended batch by batch; should a later batch fail, the collection exists with the
        items added so far. Raises `LibraryNotFound`, `PlexRejected` (items of another type
        or library) and `ValidationFailed`.
        """
        title = title.strip()
        if not title:
            raise ValidationFailed.on("title", "A collection needs a title.")
        keys = item_keys(rating_keys)
        batches = [keys[i : i + COLLECTION_BATCH] for i in range(0, len(keys), COLLECTION_BATCH)]
        params: dict[str, object] = {
            "type": item_type if isinstance(item_type, int) else TYPE_IDS[item_type],
            "title": title,
            "smart": 0,
            "sectionId": plex_key(section_key, LibraryNotFound),
        }
        if batches:
            params["uri"] = wire.items_uri(machine_identifier, batches[0])
        response = await self._wire.call(
            "POST",
            "/library/collections",
            token=token,
            params=params,
            missing=LibraryNotFound,
            rejected="Plex refused to create the collection: its items must all be in that "
            "library and of one type.",
        )
        found = wire.container(response)
        if not found.metadata:
            wire.unreadable(found)
        created = wire.collection(found.metadata[0], section_key)
        log.info("plex.collection_created", collection=created.rating_key, items=len(keys))
        if len(batches) <= 1:
            return created
        for batch in batches[1:]:
            await self._add_batch(created.rating_key, batch, token, machine_identifier)
        return await self.collection(created.rating_key, token=token)

    async def add_to_collection(
        self,
        collection_key: str,
        rating_keys: Sequence[str],
        *,
        token: str,
        machine_identifier: str,
    ) -> None:
        """Raises `CollectionNotFound` and `PlexRejected` (items of another type or library)."""
        plex_key(collection_key, CollectionNotFound)
        keys = item_keys(rating_keys)
        for i in range(0, len(keys), COLLECTION_BATCH):
            batch = keys[i : i + COLLECTION_BATCH]
            await self._add_batch(collection_key, batch, token, machine_identifier)

    async def remove_from_collection(
        self, collection_key: str, item_key: str, *, token: str
    ) -> None:
        """Raises `CollectionNotFound` when the collection, or the item in it, is not there."""
        collection = plex_key(collection_key, CollectionNotFound)
        path = f"/library/collections/{collection}/items/{plex_key(item_key, CollectionNotFound)}"
        await self._wire.call("DELETE", path, token=token, missing=CollectionNotFound)

    # Scans

    async def refresh_library(self, key: str, *, token: str) -> None:
        """Ask Plex to scan the whole library for new and changed files; returns at once."""
        await self._wire.call(
            "GET", section_path(key, "refresh"), token=token, missing=LibraryNotFound
        )
        log.info("plex.library_refresh_requested", library=key)

    async def scan_path(
        self, key: str, path: str, *, token: str, library: Library | None = None
    ) -> None:
        """Ask Plex to scan one folder of the library; returns at once.

        `path` is as the Plex server sees it and must lie inside one of the library's folders
        (read from Plex unless `library`, as last read, is given): anything else raises
        `PathOutsideLibrary` before Plex is asked to scan.
        """
        plex_key(key, LibraryNotFound)
        check_scan_path(path)
        if library is None or library.key != key:
            library = await self.library(key, token=token)
        folder = inside(path, library.locations)
        if folder is None:
            folders = ", ".join(library.locations) or "none"
            message = (
                f"{path} is not inside the folders of the library {library.title!r} "
                f"({folders}); Plex can only scan those."
            )
            raise PathOutsideLibrary.on("path", message)
        await self._wire.call(
            "GET",
            section_path(key, "refresh"),
            token=token,
            params={"path": folder},
            missing=LibraryNotFound,
            rejected="Plex refused to scan that folder; it must be inside the library's folders.",
        )
        log.info("plex.folder_scan_requested", library=key)

    async def is_refreshing(self, key: str, *, token: str) -> bool:
        """Whether Plex is scanning the library right now. Raises `LibraryNotFound`."""
        return (await self.library(key, token=token)).refreshing

    # Images

    async def image(
        self, path: str, *, token: str, width: int | None = None, height: int | None = None
    ) -> tuple[bytes, str]:
        """A library image's bytes and content type, resized by Plex when a size is given (a
        missing side takes the other's value).

        Raises `InvalidImagePath` for anything but a `/library/...` path before any call,
        `ValidationFailed` for a side outside 1..4000, and `ImageNotFound`.
        """
        if not IMAGE_PATH.fullmatch(path):
            raise InvalidImagePath.on("path", InvalidImagePath.message)
        params: dict[str, object] | None = None
        if width is not None or height is not None:
            side_w, side_h = image_size(width, height)
            params = {"url": path, "width": side_w, "height": side_h, "minSize": 1, "upscale": 1}
            path = "/photo/:/transcode"
        headers = {"Accept": "image/*"}
        response = await self._wire.call(
            "GET", path, token=token, params=params, headers=headers, missing=ImageNotFound
        )
        content_type = response.headers.get("content-type", "").split(";")[0].strip()
        if not content_type.startswith("image/"):
            raise unexpected(response)
        return response.content, content_type

    # Batches

    async def _add_batch(
        self, collection_key: str, keys: Sequence[str], token: str, machine_identifier: str
    ) -> None:
        # Adding items already in a collection changes nothing: safe to send again.
        await self._wire.call(
            "PUT",
            f"/library/collections/{collection_key}/items",
            token=token,
            params={"uri": wire.items_uri(machine_identifier, keys)},
            idempotent=True,
            missing=CollectionNotFound,
            rejected="Plex refused to add those items: they must be in the collection's "
            "library and of its type.",
        )
