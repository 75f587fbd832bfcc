"""Drive a MediaNest app in the test's own event loop: lifespan started, real ASGI, no sockets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from starlette.types import Receive, Scope, Send


class Started:
    """An app whose lifespan runs; `client()` opens as many browsers on it as a test needs."""

    def __init__(self, app: FastAPI, state: dict[str, Any]) -> None:
        self.app = app
        self.state = state

    async def _asgi(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Like a server, hand the lifespan's state to every request (httpx's ASGITransport does
        # not run the lifespan itself).
        if scope["type"] in ("http", "websocket"):
            scope["state"] = dict(self.state)
        await self.app(scope, receive, send)

    def client(
        self, *, ip: str = "203.0.113.9", base_url: str = "http://testserver"
    ) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self._asgi, client=(ip, 50000))
        return httpx.AsyncClient(transport=transport, base_url=base_url)


@asynccontextmanager
async def started(app: FastAPI) -> AsyncIterator[Started]:
    async with app.router.lifespan_context(app) as state:
        yield Started(app, dict(state or {}))


@asynccontextmanager
async def running(
    app: FastAPI,
    *,
    client: tuple[str, int] = ("203.0.113.9", 50000),
    base_url: str = "http://testserver",
) -> AsyncIterator[httpx.AsyncClient]:
    """Start the app and yield one client speaking ASGI to it."""
    async with started(app) as handle, handle.client(ip=client[0], base_url=base_url) as http:
        yield http


def ok_data(response: httpx.Response) -> Any:
    """The `data` of a success envelope, after checking it is one."""
    body = response.json()
    assert body["success"] is True, body
    return body["data"]
