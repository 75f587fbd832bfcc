"""A TCP proxy on 127.0.0.1 that a test can cut and restore, to take a real server "offline".

`cut()` behaves like a stopped server: open connections are reset and new ones are refused.
`stall()` behaves like a network black hole: connections open, but no byte goes through until
`restore()`, so clients only notice through their own timeouts.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit, urlunsplit


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._links: set[asyncio.Task[None]] = set()
        self._transports: set[asyncio.WriteTransport] = set()

    async def start(self) -> None:
        # Restarting on the port of the first start keeps clients' URLs valid across a cut.
        self._server = await asyncio.start_server(self._link, "127.0.0.1", self.port)
        self.port = int(self._server.sockets[0].getsockname()[1])

    def url_for(self, url: str) -> str:
        """`url` (e.g. a redis:// URL) with its host and port replaced by the proxy's."""
        parts = urlsplit(url)
        netloc = f"127.0.0.1:{self.port}"
        if "@" in parts.netloc:
            netloc = parts.netloc.rsplit("@", 1)[0] + "@" + netloc
        return urlunsplit(parts._replace(netloc=netloc))

    async def cut(self) -> None:
        await self._stop_listening()
        self._reset_links()

    def stall(self) -> None:
        self._flowing.clear()

    async def restore(self) -> None:
        self._flowing.set()
        if self._server is None:
            await self.start()

    async def close(self) -> None:
        self._flowing.set()
        await self._stop_listening()
        self._reset_links()
        for task in list(self._links):
            task.cancel()
        await asyncio.gather(*self._links, return_exceptions=True)

    async def _stop_listening(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def _reset_links(self) -> None:
        for transport in list(self._transports):
            transport.abort()
        self._transports.clear()

    async def _link(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._links.add(task)
        self._transports.add(client_out.transport)
        try:
            try:
                server_in, server_out = await asyncio.open_connection(*self._target)
            except OSError:
                return
            self._transports.add(server_out.transport)
            pipes = [
                asyncio.create_task(self._pipe(client_in, server_out)),
                asyncio.create_task(self._pipe(server_in, client_out)),
            ]
            try:
                # Either side closing ends the whole connection, as a real server would.
                await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for pipe in pipes:
                    pipe.cancel()
                await asyncio.gather(*pipes, return_exceptions=True)
                server_out.transport.abort()
                self._transports.discard(server_out.transport)
        finally:
            client_out.transport.abort()
            self._transports.discard(client_out.transport)
            self._links.discard(task)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                await self._flowing.wait()
                writer.write(data)
                await writer.drain()


@asynccontextmanager
async def tcp_proxy(url: str) -> AsyncIterator[TcpProxy]:
    """A started proxy in front of the host and port of `url` (Redis's port by default)."""
    parts = urlsplit(url)
    assert parts.hostname is not None
    proxy = TcpProxy(parts.hostname, parts.port or 6379)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.close()
