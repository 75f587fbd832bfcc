"""The fake Uptime Kuma server: its HTTP surface, switches and call log."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import secrets
import string
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tests.fakes.uptime_kuma import wire
from tests.fakes.uptime_kuma.state import WINDOWS, FakeMonitor, FakePage, KumaState
from tests.fakes.uptime_kuma.wire import Mode, TimeFormat
from tests.support.server import ThreadedServer, free_port

# How long a v1 request for an unknown status page is held before the fake lets go (the real
# one never answers it); a client gives up well before.
HANG_LIMIT = 60.0
_ALPHANUMERIC = string.ascii_letters + string.digits
_SPA = (
    "<!DOCTYPE html><html><head><title>Uptime Kuma</title></head>"
    "<body><div id=app></div></body></html>"
)

Handler = Callable[[Request], Awaitable[Response]]


def new_api_key(key_id: int = 1) -> str:
    """A key as Kuma makes them: `uk<id>_` and a 40-character secret."""
    return f"uk{key_id}_" + "".join(secrets.choice(_ALPHANUMERIC) for _ in range(40))


class FakeUptimeKuma:
    def __init__(self, mode: Mode = "v2", *, api_key: str | None = None) -> None:
        self.mode: Mode = mode
        self.version = wire.VERSIONS[mode]
        self._initial_key = api_key or new_api_key()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._lock = threading.RLock()
        self._closing = threading.Event()
        self._server: ThreadedServer | None = None
        self.app = Starlette(routes=self._routes())
        self.reset()

    # Lifecycle

    def start(self) -> FakeUptimeKuma:
        if self._server is None:
            self._closing.clear()
            self._server = ThreadedServer(self.app, port=self.port).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            # Lets go of requests held open (a v1 unknown page, a slow answer) so it can stop.
            self._closing.set()
            self._server.stop()
            self._server = None

    def reset(self) -> None:
        """Forget monitors, pages, the call log and every switch; the API key is the one it
        started with (a stopped server stays stopped)."""
        with self._lock:
            self._state = KumaState()
            self._api_key: str | None = self._initial_key
            self._time_format: TimeFormat = "millis"
            self._slow_seconds = 0.0
            self._failing: tuple[int, str, int | None] | None = None
            self._calls: list[str] = []
            self._rendered: dict[tuple[str, str], bytes] = {}

    # Status pages and monitors

    def add_status_page(self, slug: str, title: str, *, description: str | None = None) -> None:
        """A status page; Kuma lower-cases a slug when a page is made."""
        with self._changing() as state:
            page_id = state.next_id("page")
            state.pages[slug.lower()] = FakePage(page_id, slug.lower(), title, description)

    def remove_status_page(self, slug: str) -> None:
        with self._changing() as state:
            del state.pages[state.page(slug).slug]

    def add_monitor(
        self,
        slug: str | None,
        id: int,
        name: str,
        type: str = "http",
        url: str | None = None,
        group: str = "Media",
        *,
        send_url: bool | None = None,
        hostname: str | None = None,
        port: int | None = None,
    ) -> None:
        """A monitor (or, when it exists, the same one with these details), shown on `slug`'s
        page in `group` (slug None: on no page, only in `/metrics`). The page shows its URL
        when `send_url`, by default when it has one."""
        with self._changing() as state:
            monitor = state.monitors.get(id)
            if monitor is None:
                monitor = state.monitors[id] = FakeMonitor(id, name)
            monitor.name, monitor.type, monitor.url = name, type, url
            monitor.hostname, monitor.port = hostname, port
            if slug is not None:
                shown = send_url if send_url is not None else url is not None
                state.group(state.page(slug), group).monitors[id] = shown

    def beat(
        self, id: int, status: int, ping: float | None = None, at: datetime | None = None
    ) -> None:
        """A check of monitor `id`: 0 down, 1 up, 2 pending, 3 maintenance; `ping` in ms; `at`
        (default now) any aware time, kept in time order."""
        with self._changing() as state:
            state.add_beat(state.monitor(id), status, ping, at)

    def set_uptime(
        self,
        id: int,
        ratio: float,
        *,
        month: float | None = None,
        year: float | None = None,
    ) -> None:
        """The 24 h uptime ratio (status page and the 1d window); 30d and 365d default to it.
        Until set, uptime is worked out from the beats."""
        with self._changing() as state:
            ratios = (ratio, ratio if month is None else month, ratio if year is None else year)
            state.monitor(id).uptime = dict(zip(WINDOWS, ratios, strict=True))

    def set_cert(self, id: int, days: int, *, valid: bool = True) -> None:
        """The certificate gauges of an https monitor (absent until set)."""
        with self._changing() as state:
            state.monitor(id).cert = (days, valid)

    def add_incident(self, slug: str, title: str, content: str, *, style: str = "warning") -> None:
        """A pinned incident: v2 lists every one, v1 shows only the latest."""
        with self._changing() as state:
            page = state.page(slug)
            found = wire.incident(self.mode, state.next_id("incident"), title, content, style)
            page.incidents.append(found)

    def clear_incidents(self, slug: str) -> None:
        with self._changing() as state:
            state.page(slug).incidents.clear()

    def add_maintenance(self, slug: str, title: str, description: str = "") -> None:
        """A maintenance window active now on `slug`'s page (Kuma lists only active ones)."""
        with self._changing() as state:
            maintenance_id = state.next_id("maintenance")
            state.page(slug).maintenance.append(
                wire.maintenance(maintenance_id, title, description)
            )

    def populate(
        self, slug: str, monitors: int = 1000, beats: int = 100, *, group: str = "Services"
    ) -> list[int]:
        """A large page: `monitors` new monitors with `beats` beats each (see
        `KumaState.populate`), the page made when missing. Returns their ids."""
        with self._changing() as state:
            if slug.lower() not in state.pages:
                state.pages[slug.lower()] = FakePage(state.next_id("page"), slug.lower(), slug)
            return state.populate(state.page(slug), group, monitors, beats)

    def set_time_format(self, style: TimeFormat) -> None:
        """How beat times are written: `millis` ("2025-06-01 12:00:00.123", the default),
        `seconds` ("2025-06-01 12:00:00") or `iso` ("2025-06-01T12:00:00.123Z")."""
        with self._changing():
            self._time_format = style

    def set_api_key(self, key: str | None) -> None:
        """The only key `/metrics` accepts as its Basic password; None: authentication disabled."""
        with self._lock:
            self._api_key = key

    @property
    def api_key(self) -> str | None:
        with self._lock:
            return self._api_key

    # Switches

    def down(self) -> None:
        """Stop listening: connections are refused until `healthy()`."""
        self.stop()

    def healthy(self) -> None:
        """Answer normally again, listening on the same port."""
        with self._lock:
            self._slow_seconds = 0.0
            self._failing = None
        self.start()

    def slow(self, seconds: float = 2.0) -> None:
        """Every answer waits `seconds`, or until the client gives up."""
        with self._lock:
            self._slow_seconds = seconds

    def failing(self, status: int = 503, msg: str | None = None, times: int | None = None) -> None:
        """Answer every call with Kuma's failure `{"status": "fail", "msg": ...}` and `status`
        (503 is its database busy, 403 anything else); with `times`, only the next `times`."""
        with self._lock:
            self._failing = (status, msg or "SQLITE_BUSY: database is locked", times)

    # Observations

    @property
    def calls(self) -> list[str]:
        """The path of every request that reached the fake, in order."""
        with self._lock:
            return list(self._calls)

    # HTTP

    def _routes(self) -> list[Route]:
        table: list[tuple[str, Handler]] = [
            ("/api/status-page/heartbeat/{slug}", self._heartbeat),
            ("/api/status-page/{slug}/manifest.json", self._manifest),
            ("/api/status-page/{slug}", self._status_page),
            ("/metrics", self._metrics),
        ]
        routes = [Route(path, self._endpoint(handler), methods=["GET"]) for path, handler in table]
        routes.append(Route("/{path:path}", self._endpoint(self._spa), methods=["GET"]))
        return routes

    def _endpoint(self, handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            with self._lock:
                self._calls.append(request.url.path)
                seconds = self._slow_seconds
                failing = self._failing
                if failing is not None and failing[2] is not None:
                    left = failing[2] - 1
                    self._failing = (failing[0], failing[1], left) if left > 0 else None
            if seconds and not await self._hold(request, seconds):
                return Response(status_code=499)
            if failing is not None:
                return JSONResponse({"status": "fail", "msg": failing[1]}, status_code=failing[0])
            return await handler(request)

        return endpoint

    async def _hold(self, request: Request, seconds: float) -> bool:
        """Wait `seconds`; False when the client gave up (or the fake stops) first."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self._closing.is_set() or await request.is_disconnected():
                return False
            await asyncio.sleep(0.02)
        return True

    def _page(self, request: Request) -> FakePage | None:
        slug: str = request.path_params["slug"]
        # v2 lower-cases the slug it is asked for; 1.23 looks it up as sent.
        return self._state.pages.get(slug.lower() if self.mode == "v2" else slug)

    async def _status_page(self, request: Request) -> Response:
        with self._lock:
            page = self._page(request)
            body = None if page is None else self._render(("page", page.slug), page)
        if body is not None:
            return Response(body, media_type="application/json")
        if self.mode == "v1":
            # 1.23 returns from its handler without answering: the request waits forever.
            await self._hold(request, HANG_LIMIT)
            return Response(status_code=504)
        return JSONResponse(wire.payload("status_page_not_found.json"), status_code=404)

    async def _heartbeat(self, request: Request) -> Response:
        with self._lock:
            page = self._page(request)
            body = self._render(("heartbeat", page.slug if page else ""), page)
        return Response(body, media_type="application/json")

    async def _manifest(self, request: Request) -> Response:
        with self._lock:
            page = self._page(request)
            if page is None:
                return JSONResponse({"status": "fail", "msg": "Not Found"}, status_code=404)
            return JSONResponse(wire.manifest(page))

    async def _metrics(self, request: Request) -> Response:
        with self._lock:
            key = self._api_key
            if key is not None and _basic_password(request) != key:
                # express-basic-auth's challenge: an empty 401.
                return Response(status_code=401, headers={"WWW-Authenticate": "Basic"})
            text = wire.metrics(self.mode, self._state)
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4; charset=utf-8")

    async def _spa(self, request: Request) -> Response:
        # Kuma's single-page app answers any other address with its page.
        return HTMLResponse(_SPA)

    def _render(self, key: tuple[str, str], page: FakePage | None) -> bytes:
        """A page's JSON, kept until anything changes (a large page is costly to build)."""
        found = self._rendered.get(key)
        if found is None:
            body: dict[str, Any]
            if key[0] == "page":
                assert page is not None
                body = wire.status_page(self.mode, self._state, page)
            else:
                body = wire.heartbeats(self.mode, self._state, page, self._time_format)
            found = self._rendered[key] = json.dumps(body, separators=(",", ":")).encode()
        return found

    def _changing(self) -> _Change:
        return _Change(self)


class _Change:
    """`with fake._changing() as state:` holds the lock and forgets rendered answers."""

    def __init__(self, fake: FakeUptimeKuma) -> None:
        self._fake = fake

    def __enter__(self) -> KumaState:
        self._fake._lock.acquire()
        self._fake._rendered.clear()
        return self._fake._state

    def __exit__(self, *exc: object) -> None:
        self._fake._lock.release()


def _basic_password(request: Request) -> str | None:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    # Kuma ignores the user name: the key is the password.
    return decoded.partition(":")[2]
