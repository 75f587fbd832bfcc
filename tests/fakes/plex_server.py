"""A fake Plex Media Server, served by uvicorn on 127.0.0.1 (reference/upstream-apis.md §2).

`GET /identity` is open to anyone; every other route needs a token the server knows (the owner's,
or one `library.share()` made) in the `X-Plex-Token` header or query, else PMS's 401 HTML page.
JSON with `Accept: application/json`, XML otherwise; errors are HTML pages, never JSON.

Routes: `/`, `/library/sections`, `…/{key}/all` (paging by query or header, answered with
`offset`/`totalSize` and the `X-Plex-Container-Start`/`-Total-Size` headers; size 0 counts only;
`sort`, `type`, `title`, `year`, `updatedAt>>=`/`addedAt>>=` filters), `…/{key}/recentlyAdded`,
`…/{key}/collections`, `…/{key}/refresh` (`?path=` only inside a Location, else 400),
`/library/recentlyAdded`, `/library/metadata/{ids}` (comma-joined, `includeChildren=1`),
`…/{rk}/children`, `…/{rk}/thumb/{ts}`, `/hubs/search`, collections (create, add, remove,
children) and `/photo/:/transcode` (a real PNG of the size asked for).

What is served is `library` (`plex_library.FakeLibrary`: seeded content and the helpers that
change it). Switches: `slow(seconds)`, `failing(status)`, `down()` (connections refused),
`healthy()`. Observations: `requests`, `hits`, `calls(path)`, `pages` (start and size of every
listing, size None when unpaged), `library.refreshes`, `transcodes`. `reset()` restores it all.
"""

from __future__ import annotations

import asyncio
import functools
import re
import struct
import threading
import time
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tests.fakes.plex_library import (
    PAYLOADS,
    FakeItem,
    FakeLibrary,
    FakeSection,
    Filter,
    Refused,
    payload,
)
from tests.fakes.plex_tv import RecordedRequest
from tests.support.server import ThreadedServer, free_port

MACHINE_IDENTIFIER = "0123456789abcdef0123456789abcdef01234567"
OWNER_TOKEN = "owner-token-of-the-server"

_FILTER = re.compile(r"(addedAt|updatedAt)(>>|<<)")
_IMAGE = re.compile(r"/library/(?:metadata|collections)/(\d+)/(?:thumb|art|composite)/\d+")
_PAGES = {
    400: "<html><head><title>Bad Request</title></head><body><h1>400 Bad Request</h1></body></html>",
    404: "<html><head><title>Not Found</title></head><body><h1>404 Not Found</h1></body></html>",
}

Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class PageRequest:
    path: str
    start: int
    size: int | None


class FakePlexServer:
    def __init__(
        self,
        *,
        machine_identifier: str = MACHINE_IDENTIFIER,
        owner_token: str = OWNER_TOKEN,
        friendly_name: str = "Home",
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.machine_identifier = machine_identifier
        self.owner_token = owner_token
        self.friendly_name = friendly_name
        self.version = payload("identity.json")["MediaContainer"]["version"]
        self.library = FakeLibrary(machine_identifier, owner_token)
        get = ["GET"]
        routes: list[tuple[str, Handler, list[str]]] = [
            ("/identity", self._identity, get),
            ("/", self._root, get),
            ("/library/sections", self._sections, get),
            ("/library/sections/{key}/all", self._section_all, get),
            ("/library/sections/{key}/recentlyAdded", self._recently_added, get),
            ("/library/sections/{key}/collections", self._section_collections, get),
            ("/library/sections/{key}/refresh", self._refresh, ["GET", "POST"]),
            ("/library/recentlyAdded", self._recently_added, get),
            ("/library/metadata/{ids}", self._metadata, get),
            ("/library/metadata/{key}/children", self._children, get),
            ("/library/metadata/{key}/{kind}/{stamp}", self._thumb, get),
            ("/library/collections", self._create_collection, ["POST"]),
            ("/library/collections/{ids}", self._metadata, get),
            ("/library/collections/{key}/children", self._children, get),
            ("/library/collections/{key}/items", self._children, get),
            ("/library/collections/{key}/items", self._add_to_collection, ["PUT"]),
            ("/library/collections/{key}/items/{item}", self._remove_item, ["DELETE"]),
            ("/library/collections/{key}/{kind}/{stamp}", self._thumb, get),
            ("/hubs/search", self._search, get),
            ("/photo/:/transcode", self._transcode, get),
        ]
        self.app = Starlette(
            routes=[Route(path, self._guarded(h), methods=m) for path, h, m in routes]
        )
        self._server: ThreadedServer | None = None
        self._lock = threading.Lock()
        self.reset()

    # Lifecycle

    def start(self) -> FakePlexServer:
        if self._server is None:
            self._server = ThreadedServer(self.app, port=self.port).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def reset(self) -> None:
        """The seeded library, no shared users, healthy, nothing recorded."""
        self.library.reset()
        with self._lock:
            self._slow_seconds = 0.0
            self._failing: int | None = None
            self._requests: list[RecordedRequest] = []
            self.pages: list[PageRequest] = []
            self.transcodes: list[tuple[str, int, int]] = []

    # Switches

    def slow(self, seconds: float = 2.0) -> None:
        """Answer after `seconds`, or as soon as the client gives up."""
        with self._lock:
            self._slow_seconds = seconds

    def failing(self, status: int = 500) -> None:
        """Answer every call but `/identity` with `status` and a plain text body."""
        with self._lock:
            self._failing = status

    def down(self) -> None:
        self.stop()

    def healthy(self) -> None:
        with self._lock:
            self._slow_seconds = 0.0
            self._failing = None
        self.start()

    # Observations

    @property
    def hits(self) -> int:
        with self._lock:
            return len(self._requests)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def calls(self, path: str) -> int:
        with self._lock:
            return sum(1 for r in self._requests if r.path == path)

    # Routes: the server

    async def _identity(self, request: Request) -> Response:
        body = payload("identity.json")
        body["MediaContainer"].update(
            machineIdentifier=self.machine_identifier, version=self.version
        )
        return _answer(request, body)

    async def _root(self, request: Request) -> Response:
        _scope(self.library, request)
        body = payload("root.json")
        body["MediaContainer"].update(
            friendlyName=self.friendly_name,
            machineIdentifier=self.machine_identifier,
            version=self.version,
        )
        return _answer(request, body)

    # Routes: libraries

    async def _sections(self, request: Request) -> Response:
        directory = self.library.sections(_scope(self.library, request))
        container = {"size": len(directory), "allowSync": False, "title1": "Plex Library"}
        return _answer(request, {"MediaContainer": {**container, "Directory": directory}})

    async def _section_all(self, request: Request) -> Response:
        section = self._section(request)
        params = request.query_params
        filters: list[Filter] = []
        for name, value in params.items():
            if match := _FILTER.fullmatch(name):
                filters.append((match[1], match[2], _int(value)))
        if title := params.get("title"):
            filters.append(("title", "~", title.lower()))
        if "year" in params:
            filters.append(("year", "=", _int(params["year"])))
        type_id = _int(params.get("type"), default=None)
        sort = params.get("sort", "titleSort")
        items = self.library.listing(section.key, type_id, sort, tuple(filters))
        guids = params.get("includeGuids") == "1"
        return self._listing(request, {"title2": f"All {section.title}"}, items, section, guids)

    async def _recently_added(self, request: Request) -> Response:
        scope = _scope(self.library, request)
        keys = [self._section(request).key] if "key" in request.path_params else sorted(scope)
        items = self.library.recently_added(keys)
        section = self.library.section(keys[0]) if len(keys) == 1 else None
        return self._listing(request, {"title1": "Recently Added"}, items, section, True)

    async def _section_collections(self, request: Request) -> Response:
        section = self._section(request)
        items = self.library.collections_of(section.key)
        return self._listing(request, {"title2": "Collections"}, items, section, False)

    async def _refresh(self, request: Request) -> Response:
        self.library.refresh(self._section(request), request.query_params.get("path"))
        return Response(status_code=200)

    # Routes: items

    async def _metadata(self, request: Request) -> Response:
        scope = _scope(self.library, request)
        ids = request.path_params["ids"].split(",")
        if not all(i.isdigit() for i in ids):
            raise Refused(400)
        found = []
        for key in ids:
            try:
                found.append(self.library.visible_item(key, scope))
            except Refused as refused:
                if refused.status != 404:
                    raise
        if not found:
            raise Refused(404)
        with_children = request.query_params.get("includeChildren") == "1"
        metadata = []
        for item in found:
            entry = self.library.wire(item, guids=True)
            if with_children and item.type != "collection" and item.children:
                kids = [self.library.wire(k, guids=True) for k in self.library.children_of(item)]
                entry["Children"] = {"size": len(kids), "Metadata": kids}
            metadata.append(entry)
        section = self.library.section(found[0].section_key)
        container = {
            "size": len(metadata),
            "allowSync": True,
            "identifier": "com.plexapp.plugins.library",
            "librarySectionID": int(section.key),
            "librarySectionTitle": section.title,
            "Metadata": metadata,
        }
        return _answer(request, {"MediaContainer": container})

    async def _children(self, request: Request) -> Response:
        parent = self._item(request)
        items = self.library.children_of(parent)
        section = self.library.section(parent.section_key)
        container = {"key": parent.rating_key, "title2": parent.title, "parentTitle": parent.title}
        return self._listing(request, container, items, section, True)

    async def _thumb(self, request: Request) -> Response:
        self._item(request)
        if request.path_params["kind"] not in ("thumb", "art", "composite"):
            raise Refused(404)
        return Response(png(100, 150), media_type="image/png")

    async def _transcode(self, request: Request) -> Response:
        scope = _scope(self.library, request)
        params = request.query_params
        url = params.get("url", "")
        width, height = _int(params.get("width")), _int(params.get("height"))
        if not url.startswith("/library/") or not (0 < width <= 4000 and 0 < height <= 4000):
            raise Refused(400)
        match = _IMAGE.fullmatch(url)
        if match is None:
            raise Refused(404)
        self.library.visible_item(match[1], scope)
        self.transcodes.append((url, width, height))
        return Response(png(width, height), media_type="image/png")

    async def _search(self, request: Request) -> Response:
        scope = _scope(self.library, request)
        params = request.query_params
        query = params.get("query", "").strip().lower()
        if not query:
            raise Refused(400)
        section = params.get("sectionId")
        visible = {key for key in scope if section is None or key == section}
        hubs = self.library.search(query, visible, _int(params.get("limit"), default=10))
        return _answer(request, {"MediaContainer": {"size": len(hubs), "Hub": hubs}})

    # Routes: collections

    async def _create_collection(self, request: Request) -> Response:
        scope = _scope(self.library, request)
        params = request.query_params
        section = self.library.visible_section(params.get("sectionId", ""), scope)
        if params.get("smart") != "0":
            raise Refused(400)
        title, type_id, uri = params.get("title", ""), _int(params.get("type")), params.get("uri")
        collection = self.library.create_collection(section, title, type_id, uri)
        container = {"size": 1, "Metadata": [self.library.wire(collection, guids=False)]}
        return _answer(request, {"MediaContainer": container})

    async def _add_to_collection(self, request: Request) -> Response:
        collection = self._item(request, kind="collection")
        uri = request.query_params.get("uri")
        if not uri:
            raise Refused(400)
        self.library.add_to_collection(collection, uri)
        container = {"size": 1, "Metadata": [self.library.wire(collection, guids=False)]}
        return _answer(request, {"MediaContainer": container})

    async def _remove_item(self, request: Request) -> Response:
        collection = self._item(request, kind="collection")
        self.library.remove_from_collection(collection, request.path_params["item"])
        return Response(status_code=200)

    # Plumbing

    def _guarded(self, handler: Handler) -> Handler:
        """Record the call, apply the switches, answer Refused as PMS does."""

        async def guarded(request: Request) -> Response:
            with self._lock:
                self._requests.append(
                    RecordedRequest(
                        request.method, request.url.path, request.url.query, dict(request.headers)
                    )
                )
                seconds, failing = self._slow_seconds, self._failing
            await _wait(request, seconds)
            if failing is not None and request.url.path != "/identity":
                return PlainTextResponse("Internal Server Error", status_code=failing)
            try:
                # The handlers never await: each runs whole while it holds the library.
                with self.library.lock:
                    return await handler(request)
            except Refused as refused:
                return _refusal(refused.status)

        return guarded

    def _section(self, request: Request) -> FakeSection:
        scope = _scope(self.library, request)
        return self.library.visible_section(request.path_params["key"], scope)

    def _item(self, request: Request, *, kind: str | None = None) -> FakeItem:
        scope = _scope(self.library, request)
        return self.library.visible_item(request.path_params["key"], scope, kind=kind)

    def _listing(
        self,
        request: Request,
        container: dict[str, Any],
        items: list[FakeItem],
        section: FakeSection | None,
        guids: bool,
    ) -> Response:
        """One page of `items`, as paged lists come from PMS: O(page), however long the list."""
        start, size = _paging(request)
        with self._lock:
            self.pages.append(PageRequest(request.url.path, start, size))
        window = items[start : start + size] if size is not None else items[start:]
        body: dict[str, Any] = {
            **container,
            "size": len(window),
            "totalSize": len(items),
            "offset": start,
            "allowSync": True,
            "identifier": "com.plexapp.plugins.library",
        }
        if section is not None:
            body.update(librarySectionID=int(section.key), librarySectionTitle=section.title)
        if window:
            body["Metadata"] = [self.library.wire(item, guids=guids) for item in window]
        headers = {
            "X-Plex-Container-Start": str(start),
            "X-Plex-Container-Total-Size": str(len(items)),
        }
        return _answer(request, {"MediaContainer": body}, headers)


def _scope(library: FakeLibrary, request: Request) -> set[str]:
    token = request.headers.get("x-plex-token") or request.query_params.get("X-Plex-Token")
    return library.scope(token)


def _int(value: str | None, *, default: Any = 0) -> Any:
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise Refused(400) from None


def _paging(request: Request) -> tuple[int, int | None]:
    """Start and size from the query, else from the headers, as PMS reads them."""

    def read(name: str) -> str | None:
        return request.query_params.get(name) or request.headers.get(name.lower())

    start = _int(read("X-Plex-Container-Start"), default=0)
    size = _int(read("X-Plex-Container-Size"), default=None)
    if start < 0 or (size is not None and size < 0):
        raise Refused(400)
    return start, size


async def _wait(request: Request, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await request.is_disconnected():
            return
        await asyncio.sleep(0.02)


@functools.lru_cache(maxsize=64)
def png(width: int, height: int) -> bytes:
    """A valid RGB PNG of that size (one colour, so it compresses to little)."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = (b"\x00" + b"\xc8\x78\x28" * width) * height
    return b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            chunk(b"IHDR", header),
            chunk(b"IDAT", zlib.compress(rows, 6)),
            chunk(b"IEND", b""),
        ]
    )


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's header."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _refusal(status: int) -> Response:
    if status == 401:
        return HTMLResponse((PAYLOADS / "unauthorized.html").read_text(), status_code=401)
    return HTMLResponse(_PAGES.get(status, ""), status_code=status)


def _answer(
    request: Request, body: dict[str, Any], headers: dict[str, str] | None = None
) -> Response:
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(body, headers=headers)
    xml = _to_xml("MediaContainer", body["MediaContainer"])
    return Response(xml, media_type="text/xml", headers=headers)


def _to_xml(tag: str, node: dict[str, Any]) -> bytes:
    """PMS's XML form of a JSON answer: scalars are attributes, objects and lists children."""

    def build(parent: ET.Element | None, name: str, value: dict[str, Any]) -> ET.Element:
        element = ET.Element(name) if parent is None else ET.SubElement(parent, name)
        for key, item in value.items():
            if isinstance(item, list):
                for child in item:
                    build(element, key, child)
            elif isinstance(item, dict):
                build(element, key, item)
            elif isinstance(item, bool):
                element.set(key, "1" if item else "0")
            elif item is not None:
                element.set(key, str(item))
        return element

    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(build(None, tag, node))
