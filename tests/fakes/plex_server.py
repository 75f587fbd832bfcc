"""A fake Plex Media Server, served by uvicorn on 127.0.0.1 (reference/upstream-apis.md §2).

For now: `GET /identity` (open to anyone) and `GET /` (server info, needs the owner token in the
`X-Plex-Token` header or query, else PMS's 401 HTML page). JSON with `Accept: application/json`,
XML otherwise, like PMS. Shapes come from `payloads/plex_server/`.

Switches: `slow(seconds)`, `down()` (connections refused), `healthy()`; `reset()` also zeroes
`hits` and `requests`.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from tests.fakes.plex_tv import RecordedRequest
from tests.support.server import ThreadedServer, free_port

PAYLOADS = Path(__file__).parent / "payloads" / "plex_server"

MACHINE_IDENTIFIER = "0123456789abcdef0123456789abcdef01234567"
OWNER_TOKEN = "owner-token-of-the-server"


def payload(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text())


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
        self.app = Starlette(
            routes=[
                Route("/identity", self._identity, methods=["GET"]),
                Route("/", self._root, methods=["GET"]),
            ]
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
        with self._lock:
            self._slow_seconds = 0.0
            self._requests: list[RecordedRequest] = []

    # Switches

    def slow(self, seconds: float = 2.0) -> None:
        """Answer after `seconds`, or as soon as the client gives up."""
        with self._lock:
            self._slow_seconds = seconds

    def down(self) -> None:
        self.stop()

    def healthy(self) -> None:
        with self._lock:
            self._slow_seconds = 0.0
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

    # Routes

    async def _identity(self, request: Request) -> Response:
        await self._enter(request)
        body = payload("identity.json")
        body["MediaContainer"].update(
            machineIdentifier=self.machine_identifier, version=self.version
        )
        return _answer(request, body)

    async def _root(self, request: Request) -> Response:
        await self._enter(request)
        if not self._authorised(request):
            return _unauthorised()
        body = payload("root.json")
        body["MediaContainer"].update(
            friendlyName=self.friendly_name,
            machineIdentifier=self.machine_identifier,
            version=self.version,
        )
        return _answer(request, body)

    async def _enter(self, request: Request) -> None:
        with self._lock:
            self._requests.append(
                RecordedRequest(
                    request.method, request.url.path, request.url.query, dict(request.headers)
                )
            )
            seconds = self._slow_seconds
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if await request.is_disconnected():
                return
            await asyncio.sleep(0.02)

    def _authorised(self, request: Request) -> bool:
        token = request.headers.get("x-plex-token") or request.query_params.get("X-Plex-Token")
        return token == self.owner_token


def _unauthorised() -> Response:
    return HTMLResponse((PAYLOADS / "unauthorized.html").read_text(), status_code=401)


def _answer(request: Request, body: dict[str, Any]) -> Response:
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(body)
    return Response(_to_xml("MediaContainer", body["MediaContainer"]), media_type="text/xml")


def _to_xml(tag: str, node: dict[str, Any]) -> bytes:
    """PMS's XML form of a JSON answer: scalars are attributes, lists of objects are children."""

    def build(parent: ET.Element | None, name: str, value: dict[str, Any]) -> ET.Element:
        element = ET.Element(name) if parent is None else ET.SubElement(parent, name)
        for key, item in value.items():
            if isinstance(item, list):
                for child in item:
                    build(element, key, child)
            elif isinstance(item, bool):
                element.set(key, "1" if item else "0")
            elif item is not None:
                element.set(key, str(item))
        return element

    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(build(None, tag, node))
