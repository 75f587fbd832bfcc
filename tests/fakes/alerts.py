"""A fake receiver of alerts, as a real HTTP server on 127.0.0.1: stands in for a JSON webhook
and for an ntfy server (both take a JSON POST), logging each body, with a switch for failing."""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.server import serve


@dataclass(frozen=True)
class Posted:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class AlertReceiver:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._posted: list[Posted] = []
        self._answers: deque[int] = deque()
        self.url = ""
        self.app = Starlette(routes=[Route("/{path:path}", self._take, methods=["POST"])])

    @property
    def posted(self) -> list[Posted]:
        with self._lock:
            return list(self._posted)

    def fail(self, *statuses: int) -> None:
        """The next posts are answered with `statuses` in turn (then 200)."""
        with self._lock:
            self._answers.extend(statuses)

    async def _take(self, request: Request) -> Response:
        body = json.loads(await request.body() or b"null")
        with self._lock:
            self._posted.append(
                Posted("/" + request.path_params["path"], dict(request.headers), body)
            )
            status = self._answers.popleft() if self._answers else 200
        # ntfy answers with the message it published; a webhook with anything.
        return JSONResponse({"id": "fake", "event": "message"}, status_code=status)


@contextmanager
def alert_receiver() -> Iterator[AlertReceiver]:
    receiver = AlertReceiver()
    with serve(receiver.app) as server:
        receiver.url = server.url
        yield receiver
