"""`RealtimeHub`: the live updates behind `/api/v1/ws`, from the bus to this process's sockets.

A domain that has news for browsers publishes it on `platform.bus` once its change committed
(`core.db.after_commit`), on one of these channels; with Redis configured the bus is Redis
pub/sub, so whichever process publishes, every web process hears it. Each process holds ONE
subscription to these channels and hands each message to its own sockets by user id, so a
thousand open tabs cost a thousand small queues, not a thousand Redis connections.

- `notification.created` `{"userId", "notification"}`: to the user; the data is the
  notification as `GET /notifications` lists it.
- `request.updated` `{"userId", "requestId", "status", "title"}`: to the user.
- `download.progress` `{"userId", "downloadId", "videoId", "status", "percent",
  "downloadedBytes", "totalBytes", "speed", "eta"}`: to the user and every administrator.
- `download.updated` `{"userId", "downloadId", "status", "itemsDone", "itemCount"}`: to the
  user and every administrator.
- `service.status` `{"id", "name", "status", "responseTimeMs", "since"}`: to everyone.
- `session.revoked` `{"userId", "sessionId"}` (`sessionId` null: all the user's sessions):
  to nobody (below).

A socket message is `{"type": <channel>, "data": <the payload without "userId">}`. A message
naming no user on a user's channel is dropped, never sent to everyone. `session.revoked` is
not sent: the sockets it names check their session again at once, close with 4401 when it
ended and otherwise carry on with the user's current role (it is also how a role change
reaches open sockets). docs/realtime.md tells the same for people writing a domain.

Delivery is best effort, like the bus: a socket that cannot keep up is closed rather than
allowed to hold anyone else up, and the client catches up from the REST API when it
reconnects. The database stays the source of truth.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine, Iterable
from contextlib import suppress
from dataclasses import dataclass
from enum import Enum
from typing import Any

import orjson
import structlog

from medianest.auth.sessions import REVOKED_CHANNEL
from medianest.core.bus import Bus
from medianest.core.db import utc_now
from medianest.notifications.service import CREATED_CHANNEL
from medianest.notifications.sockets import (
    Access,
    CloseCode,
    LiveSocket,
    Peer,
    Recheck,
    SocketRefused,
)

log = structlog.get_logger(__name__)

NOTIFICATION_CREATED = CREATED_CHANNEL
REQUEST_UPDATED = "request.updated"
DOWNLOAD_PROGRESS = "download.progress"
DOWNLOAD_UPDATED = "download.updated"
SERVICE_STATUS = "service.status"
SESSION_REVOKED = REVOKED_CHANNEL

HEARTBEAT_SECONDS = 25.0
"""How often a socket is sent `ping`; proxies cut idle connections after about a minute."""
RECHECK_SECONDS = 60.0
"""How often an open socket's session is looked at again (a cached lookup, as on each request)."""
QUEUE_SIZE = 256
"""Messages waiting for one socket before it counts as unable to keep up."""
MAX_SOCKETS_PER_USER = 20
"""Open sockets per person in one process: one per tab, with room for many tabs."""
_SUBSCRIPTION_BACKLOG = 10_000
_STOP_WAIT = 5.0


class Audience(Enum):
    USER = "user"
    USER_AND_ADMINS = "user_and_admins"
    EVERYONE = "everyone"


def _without_user(message: dict[str, Any]) -> Any:
    return {key: value for key, value in message.items() if key != "userId"}


def _notification(message: dict[str, Any]) -> Any:
    # API.md: the data of `notification.created` is the notification as the inbox lists it.
    return message["notification"]


@dataclass(frozen=True, slots=True)
class Channel:
    audience: Audience
    data: Callable[[dict[str, Any]], Any] = _without_user


CHANNELS: dict[str, Channel] = {
    NOTIFICATION_CREATED: Channel(Audience.USER, _notification),
    REQUEST_UPDATED: Channel(Audience.USER),
    DOWNLOAD_PROGRESS: Channel(Audience.USER_AND_ADMINS),
    DOWNLOAD_UPDATED: Channel(Audience.USER_AND_ADMINS),
    SERVICE_STATUS: Channel(Audience.EVERYONE),
}


def encode(type: str, data: Any) -> str:
    return orjson.dumps({"type": type, "data": data}).decode()


class RealtimeHub:
    def __init__(
        self,
        bus: Bus,
        *,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
        recheck_seconds: float = RECHECK_SECONDS,
        queue_size: int = QUEUE_SIZE,
        max_per_user: int = MAX_SOCKETS_PER_USER,
    ) -> None:
        self._bus = bus
        self._heartbeat = heartbeat_seconds
        self._recheck_every = recheck_seconds
        # Two pings unanswered, and a margin for a busy client or network (60 s by default).
        self._silence = 2.4 * heartbeat_seconds
        self._queue_size = queue_size
        self._max_per_user = max_per_user
        self._sockets: set[LiveSocket] = set()
        self._by_user: dict[str, set[LiveSocket]] = {}
        self._admins: set[LiveSocket] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._subscribed = asyncio.Event()
        self._all_gone = asyncio.Event()
        self._stopping = False
        self._ping = encode("ping", {})
        self._ready = encode("ready", {"heartbeatSeconds": heartbeat_seconds})

    @property
    def connected(self) -> int:
        return len(self._sockets)

    async def start(self) -> None:
        """Subscribe to the bus; returns once the subscription is in place."""
        self._spawn(self._listen(), name="realtime-listen")
        self._spawn(self._sweep(), name="realtime-sweep")
        await self._subscribed.wait()

    async def stop(self) -> None:
        """Close every socket with 1012 (waiting a few seconds for them to go), then stop."""
        self._stopping = True
        for sock in list(self._sockets):
            sock.end(CloseCode.RESTARTING, "MediaNest is restarting.")
        if self._sockets:
            self._all_gone.clear()
            with suppress(TimeoutError):
                async with asyncio.timeout(_STOP_WAIT):
                    await self._all_gone.wait()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def serve(self, peer: Peer, access: Access, recheck: Recheck) -> None:
        """Carry `peer` (accepted, its session checked) until either side closes it."""
        if self._stopping:
            await peer.close(CloseCode.RESTARTING, "MediaNest is restarting.")
            return
        if len(self._by_user.get(access.user_id, ())) >= self._max_per_user:
            await peer.close(CloseCode.TOO_MANY, "Too many open tabs. Close some and reload.")
            return
        now = time.monotonic()
        sock = LiveSocket(
            peer,
            access,
            recheck,
            queue_size=self._queue_size,
            now=now,
            next_ping=now + self._heartbeat,
            next_check=now + self._recheck_every,
        )
        self._add(sock)
        sock.offer(self._ready)
        started = now
        try:
            await sock.run()
        finally:
            self._remove(sock)
            log.info(
                "realtime.socket_closed",
                user_id=sock.access.user_id,
                code=sock.close_code,
                seconds=round(time.monotonic() - started, 1),
            )

    # The one subscription, and what each message becomes

    async def _listen(self) -> None:
        channels = [*CHANNELS, SESSION_REVOKED]
        try:
            async with self._bus.subscribe(*channels, max_pending=_SUBSCRIPTION_BACKLOG) as inbox:
                self._subscribed.set()
                async for channel, message in inbox:
                    try:
                        self._dispatch(channel, message)
                    except Exception:
                        log.exception("realtime.dispatch_failed", channel=channel)
        finally:
            # Never leave `start` waiting on a subscription that could not be made.
            self._subscribed.set()
        if not self._stopping:
            log.error("realtime.subscription_ended")

    def _dispatch(self, channel: str, message: dict[str, Any]) -> None:
        user_id = message.get("userId")
        if channel == SESSION_REVOKED:
            self._revoked(user_id, message.get("sessionId"))
            return
        route = CHANNELS[channel]
        if route.audience is Audience.EVERYONE:
            targets: Iterable[LiveSocket] = self._sockets
        elif not isinstance(user_id, str):
            log.warning("realtime.message_without_user", channel=channel)
            return
        else:
            targets = self._by_user.get(user_id, set())
            if route.audience is Audience.USER_AND_ADMINS and self._admins:
                targets = self._admins | targets
        if not targets:
            return
        try:
            text = encode(channel, route.data(message))
        except (KeyError, TypeError):
            log.warning("realtime.message_unreadable", channel=channel)
            return
        for sock in list(targets):
            if not sock.offer(text):
                log.warning("realtime.socket_fell_behind", user_id=sock.access.user_id)
                sock.fell_behind()

    def _revoked(self, user_id: Any, session_id: Any) -> None:
        for sock in list(self._by_user.get(user_id, ())) if isinstance(user_id, str) else ():
            if session_id is None or session_id == sock.access.session_id:
                self._spawn(self._check(sock, fresh=True), name="realtime-recheck")

    # Heartbeats, token expiry and session checks, for every socket from one task

    async def _sweep(self) -> None:
        tick = max(0.05, min(self._heartbeat, self._recheck_every) / 5)
        while True:
            await asyncio.sleep(tick)
            now, wall = time.monotonic(), utc_now()
            for sock in list(self._sockets):
                if sock.ending:
                    continue
                if sock.access.expires_at <= wall:
                    sock.end(CloseCode.TOKEN_EXPIRED, "Your session needs renewing.")
                elif sock.unanswered >= 2 and now - sock.last_heard > self._silence:
                    # Counting pings too: after this process stalled (a long password hash),
                    # answers already on their way are not taken for silence.
                    sock.end(CloseCode.SILENT, "Nothing heard from this tab for too long.")
                else:
                    if now >= sock.next_ping:
                        sock.next_ping = now + self._heartbeat
                        sock.unanswered += 1
                        if not sock.offer(self._ping):
                            sock.fell_behind()
                    if now >= sock.next_check:
                        sock.next_check = now + self._recheck_every
                        self._spawn(self._check(sock, fresh=False), name="realtime-recheck")

    async def _check(self, sock: LiveSocket, *, fresh: bool) -> None:
        try:
            access = await sock.recheck(fresh)
        except SocketRefused as refused:
            sock.end(refused.code, refused.reason)
            return
        except Exception as exc:
            # The database or cache is down: the socket stays, and is checked again next time.
            log.warning("realtime.recheck_failed", error=type(exc).__name__)
            return
        if sock in self._sockets and access.is_admin != sock.access.is_admin:
            (self._admins.add if access.is_admin else self._admins.discard)(sock)
        sock.access = access

    # The registry

    def _add(self, sock: LiveSocket) -> None:
        self._sockets.add(sock)
        self._by_user.setdefault(sock.access.user_id, set()).add(sock)
        if sock.access.is_admin:
            self._admins.add(sock)

    def _remove(self, sock: LiveSocket) -> None:
        self._sockets.discard(sock)
        self._admins.discard(sock)
        mine = self._by_user.get(sock.access.user_id)
        if mine is not None:
            mine.discard(sock)
            if not mine:
                del self._by_user[sock.access.user_id]
        if not self._sockets:
            self._all_gone.set()

    def _spawn(self, work: Coroutine[Any, Any, None], *, name: str) -> None:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
