"""What is checked and built before anything is sent to a Plex Media Server.

Keys, paths, sizes and page bounds are checked here so a value that cannot be Plex's never
reaches a URL: a key that is not a Plex id cannot exist there (nor climb out of a path).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import PurePath, PurePosixPath, PureWindowsPath

from medianest.core.errors import NotFound, ValidationFailed
from medianest.integrations.plex.errors import LibraryNotFound, PathOutsideLibrary

MAX_PAGE_SIZE = 200
# Keys per collection create/add call: keeps each URL near 700 characters, well below the
# 2,000 or so that proxies in front of a Plex server can be relied on to accept.
COLLECTION_BATCH = 50
MAX_IMAGE_SIDE = 4000

TYPE_IDS: dict[str, int] = {
    "movie": 1,
    "show": 2,
    "season": 3,
    "episode": 4,
    "artist": 8,
    "album": 9,
    "track": 10,
    "collection": 18,
}
PARENT_TYPES = frozenset({"show", "season", "artist", "album"})
RATING_KEY = re.compile(r"[0-9]{1,12}")
# Poster, art and composite paths of items and collections: no dots, percent signs, colons or
# query strings, so nothing can climb out of /library/ or name another host.
IMAGE_PATH = re.compile(r"/library/[A-Za-z0-9_-]+(?:/[A-Za-z0-9_-]+)*")


def check_page(start: int, size: int) -> None:
    if start < 0 or not 1 <= size <= MAX_PAGE_SIZE:
        raise ValueError(f"pages start at 0 or later and hold 1..{MAX_PAGE_SIZE} items")


def plex_key(key: str, missing: type[NotFound]) -> str:
    """`key` when it can be a Plex key; anything else cannot exist (nor climb out of a path)."""
    if not RATING_KEY.fullmatch(key):
        raise missing
    return key


def section_path(key: str, rest: str) -> str:
    return f"/library/sections/{plex_key(key, LibraryNotFound)}/{rest}"


def item_keys(keys: Iterable[str]) -> list[str]:
    result = [str(key).strip() for key in keys]
    bad = [key for key in result if not RATING_KEY.fullmatch(key)]
    if bad:
        message = f"These are not Plex item ids: {', '.join(bad[:5])}."
        raise ValidationFailed.on("ratingKeys", message)
    return list(dict.fromkeys(result))


def image_size(width: int | None, height: int | None) -> tuple[int, int]:
    sides = {
        "width": width if width is not None else height or 0,
        "height": height if height is not None else width or 0,
    }
    for field, value in sides.items():
        if not 1 <= value <= MAX_IMAGE_SIDE:
            message = f"The image {field} must be between 1 and {MAX_IMAGE_SIDE} pixels."
            raise ValidationFailed.on(field, message)
    return sides["width"], sides["height"]


def _flavour(path: str) -> type[PurePath]:
    # A Plex server on Windows names its folders `D:\Movies`; everything else is POSIX.
    return PureWindowsPath if re.match(r"[A-Za-z]:[\\/]|\\\\", path) else PurePosixPath


def check_scan_path(path: str) -> None:
    message = None
    if not path.strip():
        message = "Give the folder to scan."
    elif any(ord(c) < 32 for c in path):
        message = "The folder name holds control characters."
    elif ".." in re.split(r"[\\/]", path):
        message = "The folder may not contain '..'."
    elif not _flavour(path)(path).is_absolute():
        message = "Give the folder's full path, as the Plex server sees it."
    if message is not None:
        raise PathOutsideLibrary.on("path", message)


def inside(path: str, locations: Sequence[str]) -> str | None:
    """`path`, normalised, when it is one of `locations` or inside one."""
    flavour = _flavour(path)
    for location in locations:
        if _flavour(location) is not flavour:
            continue
        folder, root = flavour(path), flavour(location)
        if folder == root or root in folder.parents:
            return str(folder)
    return None
