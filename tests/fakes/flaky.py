"""A fake upstream whose behaviour a test switches at will, served by uvicorn on 127.0.0.1.

Every path answers every method. Switches: `healthy()`, `failing(status, times=)` (5xx, or any
status, optionally only for the next `times` requests), `slow(seconds)` (answers after the
client's read timeout), `unauthorised(status)`, and `down()`, which stops the server so
connections are refused until `healthy()` starts it again on the same port. `hits` counts the
requests that reached it; `last_headers` holds the headers of the latest one.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Literal

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.server import ThreadedServer, free_port

Mode = Literal["healthy", "failing", "slow", "unauthorised"]

_METHODS = ["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"]


class FlakyUpstream:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.app = Starlette(routes=[Route("/{path:path}", self._handle, methods=_METHODS)])
        self._server: ThreadedServer | None = None
        self._lock = threading.Lock()
        self.reset()

    # Lifecycle

    def start(self) -> FlakyUpstream:
        if self._server is None:
            self._server = ThreadedServer(self.app, port=self.port).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def reset(self) -> None:
        """Healthy, counters at zero (the server is left as it is)."""
        with self._lock:
            self._mode: Mode = "healthy"
            self._status = 200
            self._times: int | None = None
            self._slow_seconds = 0.0
            self._hits = 0
            self._last_headers: dict[str, str] = {}

    # Switches

    def healthy(self) -> None:
        self._switch("healthy", 200)
        self.start()

    def failing(self, status: int = 500, *, times: int | None = None) -> None:
        """Answer `status`; with `times`, only the next `times` requests, then healthy again."""
        self._switch("failing", status, times=times)

    def slow(self, seconds: float = 2.0) -> None:
        """Answer 200 after `seconds`, or as soon as the client gives up and disconnects."""
        self._switch("slow", 200)
        with self._lock:
            self._slow_seconds = seconds

    def unauthorised(self, status: int = 401) -> None:
        self._switch("unauthorised", status)

    def down(self) -> None:
        self.stop()

    # Observations

    @property
    def hits(self) -> int:
        with self._lock:
            return self._hits

    @property
    def last_headers(self) -> dict[str, str]:
        with self._lock:
            return dict(self._last_headers)

    def _switch(self, mode: Mode, status: int, *, times: int | None = None) -> None:
        with self._lock:
            self._mode, self._status, self._times = mode, status, times

    async def _handle(self, request: Request) -> Response:
        with self._lock:
            self._hits += 1
            hit = self._hits
            self._last_headers = dict(request.headers)
            mode, status, seconds = self._mode, self._status, self._slow_seconds
            if self._times is not None:
                self._times -= 1
                if self._times <= 0:
                    self._mode, self._status, self._times = "healthy", 200, None
        if mode == "slow":
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                if await request.is_disconnected():
                    return Response(status_code=499)
                await asyncio.sleep(0.02)
        if mode == "unauthorised":
            return JSONResponse({"error": "Unauthorized"}, status_code=status)
        if mode == "failing":
            return JSONResponse({"error": "Upstream exploded"}, status_code=status)
        body = {"ok": True, "hit": hit, "method": request.method, "path": request.url.path}
        return JSONResponse(body)
