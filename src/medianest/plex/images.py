"""Plex posters and artwork for the browser: which paths may be asked for, and a disk cache.

Only the images of library items, collections and libraries are served, named by the paths Plex
itself hands out (`/library/metadata/{ratingKey}/thumb/{stamp}`): nothing with a scheme, a host,
dots, percent escapes or a query can pass, so the proxy cannot be pointed anywhere else on the
Plex server (media files under `/library/parts` included) nor at another host.

Fetched images are kept on disk under `<data dir>/cache/images`, one file per (server, path,
size), within a total size: past it the least recently read files go first. Plex's paths carry
the artwork's timestamp, so a changed poster has a new path and never needs invalidating. The
directory may be shared by several processes: eviction reads the directory itself.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import structlog
from pydantic import TypeAdapter

from medianest.core.cache import CacheService
from medianest.integrations.plex.errors import (
    CollectionNotFound,
    ImageNotFound,
    InvalidImagePath,
    ItemNotFound,
)
from medianest.plex.callers import PlexServer

log = structlog.get_logger(__name__)

MAX_BYTES = 200 * 1024 * 1024
OWNER_TTL = 3600.0
MAX_SIDE = 1000
# Raster formats only: an SVG served from MediaNest's own origin could carry script.
CONTENT_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif", "image/avif"})
# Eviction goes a little below the bound, so the next few writes do not each evict again.
_LOW_WATER = 0.9

_PATH = re.compile(
    r"/library/(?:"
    r"(?P<metadata>metadata)/(?P<item>[0-9]{1,12})/(?:thumb|art|banner)"
    r"|(?P<collections>collections)/(?P<collection>[0-9]{1,12})/(?:thumb|art|composite)"
    r"|(?P<sections>sections)/(?P<section>[0-9]{1,12})/composite"
    r")/[0-9]{1,12}"
)

ImageOwner = Literal["item", "collection", "library"]
_KEY = TypeAdapter(str)


@dataclass(frozen=True, slots=True)
class ImageRef:
    """A Plex image path, and whose image it is: an item's, a collection's or a library's."""

    path: str
    owner: ImageOwner
    key: str


@dataclass(frozen=True, slots=True)
class Image:
    content: bytes
    content_type: str


def parse_image_path(path: str) -> ImageRef:
    """Raises `InvalidImagePath` (400, field `path`) for anything but a Plex artwork path."""
    match = _PATH.fullmatch(path)
    if match is None:
        message = (
            "Only Plex artwork paths can be shown (like /library/metadata/123/thumb/1700000000)."
        )
        raise InvalidImagePath.on("path", message)
    if match["metadata"]:
        return ImageRef(path, "item", match["item"])
    if match["collections"]:
        return ImageRef(path, "collection", match["collection"])
    return ImageRef(path, "library", match["section"])


def image_key(server: str, path: str, width: int | None, height: int | None) -> str:
    raw = f"{server}\n{path}\n{width or ''}\n{height or ''}"
    return hashlib.sha256(raw.encode()).hexdigest()


class ImageDiskCache:
    """Image bytes on disk, bounded in total size; a file holds its content type, a newline,
    then the bytes. Writes land under a temporary name and are renamed into place, so a reader
    never sees half a file."""

    def __init__(self, directory: Path, *, max_bytes: int = MAX_BYTES) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        # What this process believes the directory holds; None until first measured.
        self._size: int | None = None
        self._evicting = asyncio.Lock()

    async def get(self, key: str) -> Image | None:
        return await asyncio.to_thread(self._read, key)

    async def put(self, key: str, image: Image) -> None:
        """Keep `image`; one larger than the whole bound is not kept."""
        if len(image.content) > self.max_bytes * _LOW_WATER:
            return
        written = await asyncio.to_thread(self._write, key, image)
        if self._size is not None:
            self._size += written
        if self._size is None or self._size > self.max_bytes:
            async with self._evicting:
                self._size = await asyncio.to_thread(self._evict)

    async def size(self) -> int:
        """Bytes held on disk now."""
        return sum(size for _, size, _ in await asyncio.to_thread(self._entries))

    def _file(self, key: str) -> Path:
        return self.directory / key

    def _read(self, key: str) -> Image | None:
        file = self._file(key)
        try:
            data = file.read_bytes()
            # Reading counts as use: least recently read goes first.
            os.utime(file)
        except FileNotFoundError:
            return None
        content_type, _, content = data.partition(b"\n")
        if content_type.decode("ascii", "replace") not in CONTENT_TYPES or not content:
            log.warning("plex.image_cache_damaged", key=key)
            file.unlink(missing_ok=True)
            return None
        return Image(content, content_type.decode("ascii"))

    def _write(self, key: str, image: Image) -> int:
        self.directory.mkdir(parents=True, exist_ok=True)
        temporary = self.directory / f".{key}.{uuid.uuid4().hex}.tmp"
        data = image.content_type.encode("ascii") + b"\n" + image.content
        temporary.write_bytes(data)
        temporary.replace(self._file(key))
        return len(data)

    def _entries(self) -> list[tuple[Path, int, float]]:
        entries = []
        try:
            with os.scandir(self.directory) as found:
                for entry in found:
                    try:
                        stat = entry.stat()
                    except FileNotFoundError:
                        continue
                    entries.append((Path(entry.path), stat.st_size, stat.st_mtime))
        except FileNotFoundError:
            return []
        return entries

    def _evict(self) -> int:
        """Remove the least recently read files until the total is below the bound; returns
        the total left."""
        entries = sorted(self._entries(), key=lambda entry: entry[2])
        total = sum(size for _, size, _ in entries)
        if total <= self.max_bytes:
            return total
        target = self.max_bytes * _LOW_WATER
        removed = 0
        for path, size, _ in entries:
            if total <= target:
                break
            path.unlink(missing_ok=True)
            total -= size
            removed += 1
        log.info("plex.image_cache_evicted", files=removed, bytes_left=total)
        return total


class PlexImages:
    """Artwork fetched with the server owner's token, once for everyone, and kept on disk."""

    def __init__(self, cache: CacheService, disk: ImageDiskCache) -> None:
        self._cache = cache
        self.disk = disk

    async def fetch(
        self, server: PlexServer, ref: ImageRef, *, width: int | None, height: int | None
    ) -> tuple[Image, bool]:
        """The image, and whether it came from the disk cache. Raises `ImageNotFound`."""
        key = image_key(server.url, ref.path, width, height)
        found = await self.disk.get(key)
        if found is not None:
            return found, True
        content, content_type = await server.client.image(
            ref.path, token=server.owner_token, width=width, height=height
        )
        if content_type not in CONTENT_TYPES:
            log.warning("plex.image_type_refused", content_type=content_type)
            raise ImageNotFound
        image = Image(content, content_type)
        await self.disk.put(key, image)
        return image, False

    async def library_of(self, server: PlexServer, ref: ImageRef) -> str:
        """The key of the library the image belongs to (cached for everyone: it tells nothing
        about any user). Raises `ImageNotFound` when its item or collection does not exist."""
        if ref.owner == "library":
            return ref.key

        async def fetch() -> str:
            try:
                if ref.owner == "item":
                    item = await server.client.item(
                        ref.key, token=server.owner_token, include_children=False
                    )
                    return item.library_key or ""
                collection = await server.client.collection(ref.key, token=server.owner_token)
                return collection.library_key or ""
            except (ItemNotFound, CollectionNotFound):
                raise ImageNotFound from None

        found = await self._cache.get_or_set(
            f"plex:artwork:{ref.owner}-{ref.key}", fetch, OWNER_TTL
        )
        return _KEY.validate_python(found)
