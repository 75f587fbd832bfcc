"""One open `/api/v1/ws` socket: who it is for, its queue of messages, and its two loops.

The writer sends what the hub queued, in order; the reader only listens for the client's
`pong` (anything it sends counts as a sign of life) and for it going away. A queue that
fills up means the client or its network cannot take what it is sent: the socket is then
closed rather than kept, since a client that reconnects catches up from the REST API.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import Any, Protocol

_CLOSE_WAIT = 1.0
"""Seconds a close frame may wait for a socket that stopped reading before it is dropped."""


class CloseCode(IntEnum):
    """Why the server closed a socket (docs/realtime.md); 44xx mirror the HTTP statuses."""

    RESTARTING = 1012
    """The server is stopping: reconnect (to another process, or once it is back)."""
    FELL_BEHIND = 1013
    """More messages waited than the socket could take: reconnect and catch up."""
    TOKEN_EXPIRED = 4001
    """The access token ran out: renew it (any API call does) and reconnect."""
    UNAUTHORIZED = 4401
    """Not signed in, or the session ended: do not reconnect."""
    FORBIDDEN = 4403
    """Not from this site's pages, or the password must be changed first: do not reconnect."""
    SILENT = 4408
    """Nothing heard from the client (no `pong`) for too long: reconnect."""
    TOO_MANY = 4429
    """Too many sockets or connection attempts for this person: reconnect later."""


@dataclass(frozen=True, slots=True)
class Access:
    """Who a socket is for, as its session said when last checked."""

    user_id: str
    session_id: str
    is_admin: bool
    expires_at: datetime
    """When the access token it was opened with runs out."""


class SocketRefused(Exception):
    """The session check's answer when the socket must close (`code`, `reason` for the client)."""

    def __init__(self, code: CloseCode, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


Recheck = Callable[[bool], Awaitable[Access]]
"""Checks the socket's session again (True: from the database, not the cache); raises
`SocketRefused` when it ended."""


class Peer(Protocol):
    """The socket's far end: what the hub needs of Starlette's `WebSocket`, already accepted."""

    async def send_text(self, data: str) -> None: ...

    async def receive(self) -> MutableMapping[str, Any]: ...

    async def close(self, code: int = 1000, reason: str | None = None) -> None: ...


class LiveSocket:
    def __init__(
        self,
        peer: Peer,
        access: Access,
        recheck: Recheck,
        *,
        queue_size: int,
        now: float,
        next_ping: float,
        next_check: float,
    ) -> None:
        self.peer = peer
        self.access = access
        self.recheck = recheck
        self.last_heard = now
        self.unanswered = 0
        """Pings sent since the client last said anything."""
        self.next_ping = next_ping
        self.next_check = next_check
        self.close_code: CloseCode | None = None
        self._close_reason = ""
        self._queue: deque[str] = deque()
        self._queue_size = queue_size
        self._wake = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None

    @property
    def ending(self) -> bool:
        return self.close_code is not None

    def offer(self, text: str) -> bool:
        """Queue `text`; False when the queue is full (the message is not queued)."""
        if self.close_code is not None:
            return True
        if len(self._queue) >= self._queue_size:
            return False
        self._queue.append(text)
        self._wake.set()
        return True

    def end(self, code: CloseCode, reason: str) -> None:
        """Close with `code` as soon as the message being sent is out; the rest is dropped."""
        if self.close_code is not None:
            return
        self.close_code, self._close_reason = code, reason
        self._queue.clear()
        self._wake.set()

    def fell_behind(self) -> None:
        """Close now: the writer may be stuck on a client that stopped reading, so it is
        stopped where it waits rather than allowed to finish its message."""
        self.end(CloseCode.FELL_BEHIND, "This tab fell behind. Reconnecting catches up.")
        if self._writer is not None:
            self._writer.cancel()

    async def run(self) -> None:
        """Until the client goes or `end` is called, and the close frame is sent (or given up)."""
        self._writer = writer = asyncio.create_task(self._write())
        reader = asyncio.create_task(self._read())
        try:
            await asyncio.wait({writer, reader}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (writer, reader):
                task.cancel()
            await asyncio.gather(writer, reader, return_exceptions=True)
        if self.close_code is CloseCode.FELL_BEHIND:
            # The writer was stopped mid-wait: try the close frame, but not for long.
            with suppress(Exception):
                async with asyncio.timeout(_CLOSE_WAIT):
                    await self.peer.close(self.close_code, self._close_reason)

    async def _write(self) -> None:
        while True:
            if self.close_code is not None:
                if self.close_code is not CloseCode.FELL_BEHIND:
                    await self.peer.close(self.close_code, self._close_reason)
                return
            if not self._queue:
                self._wake.clear()
                await self._wake.wait()
                continue
            await self.peer.send_text(self._queue.popleft())

    async def _read(self) -> None:
        while True:
            message = await self.peer.receive()
            if message["type"] == "websocket.disconnect":
                return
            self.last_heard = time.monotonic()
            self.unanswered = 0
