"""Live-updates sockets (`/api/v1/ws`) against a MediaNest under a real uvicorn, as a browser
opens them: the `websockets` client, a cookie or a token, an `Origin`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from medianest.app import create_app
from medianest.config import Settings
from medianest.core.bus import Bus, create_bus
from tests.support.server import ThreadedServer, serve

WS_PATH = "/api/v1/ws"
# Only a guard against a test hanging for ever; nothing is asserted on time.
WAIT = 10.0


@dataclass
class Site:
    url: str

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://", 1) + WS_PATH

    def browser(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=WAIT)


@contextmanager
def served(settings: Settings) -> Iterator[Site]:
    """MediaNest with these settings under uvicorn on 127.0.0.1, stopped afterwards."""
    server: ThreadedServer
    with serve(create_app(settings)) as server:
        yield Site(server.url)


@asynccontextmanager
async def bus_of(settings: Settings) -> AsyncIterator[Bus]:
    """The bus of an install with these settings (its Redis), as another process of it has."""
    bus = create_bus(settings)
    await bus.start()
    try:
        yield bus
    finally:
        await bus.close()


class Socket:
    """One open socket, read all the time as a page does: the heartbeat's pings are answered
    (unless `answer_pings` is turned off) and counted, everything else kept for `next()`."""

    def __init__(self, connection: ClientConnection, *, answer_pings: bool = True) -> None:
        self.connection = connection
        self.answer_pings = answer_pings
        self.pings = 0
        self.received = 0
        """Messages other than pings read so far."""
        self._messages: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._pinged = asyncio.Event()
        self._reading = asyncio.Event()
        self._reading.set()
        self._reader = asyncio.create_task(self._read())

    def pause(self) -> None:
        """Stop reading, as a tab whose page hangs (the socket's buffers then fill up)."""
        self._reading.clear()

    def resume(self) -> None:
        self._reading.set()

    async def _read(self) -> tuple[int, str]:
        try:
            while True:
                await self._reading.wait()
                raw = await self.connection.recv()
                message = json.loads(raw)
                if message["type"] == "ping":
                    self.pings += 1
                    self._pinged.set()
                    if self.answer_pings:
                        await self.connection.send('{"type":"pong"}')
                else:
                    self.received += 1
                    self._messages.put_nowait(message)
        except ConnectionClosed:
            pass
        received = self.connection.close_code
        return (received, self.connection.close_reason or "") if received else (1006, "")

    async def next(self) -> dict[str, Any]:
        """The next message other than a ping; fails if the socket closes first."""
        async with asyncio.timeout(WAIT):
            getting = asyncio.ensure_future(self._messages.get())
            await asyncio.wait({getting, self._reader}, return_when=asyncio.FIRST_COMPLETED)
            if not getting.done():
                getting.cancel()
                raise AssertionError(f"closed first: {self._reader.result()}")
            return getting.result()

    async def ping(self) -> None:
        """Wait for the server's next heartbeat."""
        self._pinged.clear()
        async with asyncio.timeout(WAIT):
            await self._pinged.wait()

    async def closed(self) -> tuple[int, str]:
        """(code, reason) of the close, once the socket is closed; 1006 without a close frame."""
        async with asyncio.timeout(WAIT):
            return await asyncio.shield(self._reader)

    async def stop(self) -> None:
        self._reader.cancel()
        await asyncio.gather(self._reader, return_exceptions=True)


def cookie_headers(http: httpx.AsyncClient) -> dict[str, str]:
    return {"Cookie": f"token={http.cookies.get('token')}"}


@asynccontextmanager
async def opened(
    site: Site,
    *,
    http: httpx.AsyncClient | None = None,
    token: str | None = None,
    origin: str | None = "same",
    headers: dict[str, str] | None = None,
    query: str = "",
    answer_pings: bool = True,
    max_queue: int | None = 16,
    compression: str | None = "deflate",
) -> AsyncIterator[Socket]:
    """A socket as a signed-in page opens it: with `http`'s cookie (and this site's Origin,
    unless another or None is given), or with `token` in the query."""
    extra = dict(headers or {})
    if http is not None:
        extra.update(cookie_headers(http))
    if token is not None:
        query = f"?token={token}"
    async with connect(
        site.ws_url + query,
        origin=site.url if origin == "same" else origin,  # type: ignore[arg-type]
        additional_headers=extra,
        proxy=None,
        max_queue=max_queue,
        compression=compression,
        open_timeout=WAIT,
    ) as connection:
        socket = Socket(connection, answer_pings=answer_pings)
        try:
            yield socket
        finally:
            await socket.stop()


@asynccontextmanager
async def ready(site: Site, **options: Any) -> AsyncIterator[Socket]:
    """`opened`, once the server said it is listening for this socket's events."""
    async with opened(site, **options) as socket:
        first = await socket.next()
        assert first["type"] == "ready", first
        yield socket
