"""Drive a MediaNest app in the test's own event loop: lifespan started, real ASGI, no sockets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from starlette.types import Receive, Scope, Send


@asynccontextmanager
async def running(
    app: FastAPI,
    *,
    client: tuple[str, int] = ("203.0.113.9", 50000),
    base_url: str = "http://testserver",
) -> AsyncIterator[httpx.AsyncClient]:
    """Start the app's lifespan and yield a client speaking ASGI to it.

    Like a server, it hands the lifespan's state to every request (httpx's ASGITransport does not
    run the lifespan itself).
    """
    async with app.router.lifespan_context(app) as state:

        async def with_state(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] in ("http", "websocket"):
                scope["state"] = dict(state or {})
            await app(scope, receive, send)

        transport = httpx.ASGITransport(app=with_state, client=client)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as http:
            yield http


def ok_data(response: httpx.Response) -> Any:
    """The `data` of a success envelope, after checking it is one."""
    body = response.json()
    assert body["success"] is True, body
    return body["data"]
