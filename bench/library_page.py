"""A library page from MediaNest's cache against the same page from Plex (for plex_library.py).

MediaNest runs in this process on a fresh SQLite data dir, connected to the fake server through
the settings, and is driven over ASGI by an administrator's client (no sockets: the figure is
MediaNest's own cost). An uncached request follows the invalidation a library refresh does, so it
goes to Plex; a cached one is answered from the cache, as `X-Cache: HIT` confirms.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.types import Message
from tests.factories.users import PASSWORD, make_user
from tests.support.app import Started, started

from medianest.app import create_app
from medianest.auth.models import Role
from medianest.config import load_settings
from medianest.core.migrate import upgrade

TARGET_RATIO = 10.0
UNLIMITED = "1000000/second"


@dataclass(frozen=True)
class Page:
    label: str
    path: str


def pages(section: str, page_size: int) -> list[Page]:
    return [
        Page("API page", f"/api/v1/plex/libraries/{section}/items?page=2&pageSize={page_size}"),
        Page("HTML page", f"/library/{section}?sort=title"),
    ]


async def page_bench(
    fake_url: str, owner_token: str, workdir: Path, section: str, requests: int
) -> None:
    data_dir = workdir / "page-bench"
    data_dir.mkdir()
    settings = load_settings(
        data_dir=data_dir,
        database_url=None,
        log_level="WARNING",
        plex_url=fake_url,
        plex_token=owner_token,
        rate_limit_api=UNLIMITED,
        rate_limit_login=UNLIMITED,
        http_read_timeout=30.0,
    )
    # Alembic runs its own event loop, so not on this one.
    await asyncio.to_thread(upgrade, settings.resolved_database_url)
    await make_user(settings.resolved_database_url, username="owner", role=Role.ADMIN)
    app = create_app(settings)
    async with started(app) as handle, handle.client(ip="127.0.0.1") as http:
        signed_in = await http.post(
            "/api/v1/auth/login", json={"username": "owner", "password": PASSWORD}
        )
        signed_in.raise_for_status()
        cookie = "; ".join(f"{name}={value}" for name, value in http.cookies.items())
        call = Caller(handle, [(b"host", b"medianest"), (b"cookie", cookie.encode())])
        cache = handle.state["platform"].cache
        for page in pages(section, 50):
            cold = await timed(
                call, page, requests, before=lambda: cache.invalidate_pattern("plex:*")
            )
            warm = await timed(call, page, requests)
            ratio = cold / warm
            verdict = "met" if ratio >= TARGET_RATIO else "MISSED"
            print(
                f"{page.label} ({page.path}): uncached p50 {cold:.2f} ms, cached p50 {warm:.2f} ms"
                f" = {ratio:.0f}x faster; target at least {TARGET_RATIO:.0f}x: {verdict}"
            )


class Caller:
    """GET straight through the app's ASGI interface: no HTTP client in the figures (httpx's own
    ASGI transport costs a few hundred µs a request, more than a cached page)."""

    def __init__(self, handle: Started, headers: list[tuple[bytes, bytes]]) -> None:
        self._handle = handle
        self._headers = headers

    async def get(self, path_and_query: str) -> tuple[int, bytes, dict[bytes, bytes]]:
        path, _, query = path_and_query.partition("?")
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": self._headers,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 80),
            "state": dict(self._handle.state),  # what a server hands each request
        }
        sent: list[Message] = []

        async def receive() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Message) -> None:
            sent.append(message)

        await self._handle.app(scope, receive, send)
        start = sent[0]
        body = b"".join(m.get("body", b"") for m in sent[1:])
        return start["status"], body, dict(start["headers"])


async def timed(
    call: Caller,
    page: Page,
    requests: int,
    before: Callable[[], Awaitable[object]] | None = None,
) -> float:
    """p50 in ms of `requests` GETs of `page`, each after `before()` when given."""
    status, body, _ = await call.get(page.path)  # warms the cache and the connection pools
    if status != 200:
        raise RuntimeError(f"GET {page.path} answered {status}: {body[:500]!r}")
    samples: list[float] = []
    for _ in range(requests):
        if before is not None:
            await before()
        begun = time.perf_counter()
        status, _, headers = await call.get(page.path)
        samples.append((time.perf_counter() - begun) * 1000)
        if status != 200:
            raise RuntimeError(f"GET {page.path} answered {status}")
        if before is None and page.path.startswith("/api/") and headers.get(b"x-cache") != b"HIT":
            raise RuntimeError(f"GET {page.path} was not served from the cache")
    return statistics.median(samples)
