"""The status page with a thousand monitors, and one `service.status` event fanned out to a
thousand live-updates sockets.

    .venv/bin/python bench/status.py [--monitors 1000] [--days 30] [--requests 200]
                                     [--clients 1000] [--events 5]

One MediaNest (embedded default: SQLite, in-process cache and bus; one uvicorn worker,
`bench/status_app.py`) on 127.0.0.1, its checks off, its database seeded first with what the
recorder leaves after `--days` of checking `--monitors` Uptime Kuma monitors (ten status pages)
once a minute: the services, every hour's rollup, the heartbeats of the last 48 hours (pruning
took the older ones) and the uptimes the recorder reads from the rollups. Pages: a signed-in
member asks `GET /api/v1/status/services`, `/status` (HTML) and one service's 30-day history
`--requests` times each, one at a time: p50/p95, and the first request apart (the page reads
its 24-hour bars once an hour). Target: p95 under 200 ms.

Fan-out: `--clients` sockets on `/api/v1/ws` (a token in the header; one process keeps 20 per
person, so a member per 20), then `--events` `service.status` messages published on the
server's bus as the recorder publishes them, by a route of `status_app.py` that answers the
server's clock at publish. A socket's delay runs from then to when its bytes reach this process:
p50/p95/max over every socket and event (and each event's max), whether each heard each once.
Target: p95 under 100 ms. The sockets are bare asyncio protocols on uvloop that take the time
before parsing a read; the client's CPU time per event is printed next to the server's, and while
it stays below it the client keeps up and the delays are the server's. Figures, never assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import closing, suppress
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import cast

import httpx
import uvloop
from sqlalchemy import insert, make_url, update

from auth import SERVER_PIDS, cpu_seconds, medianest_with
from http_overhead import BenchError
from medianest.auth.models import User
from medianest.auth.passwords import PasswordHasher
from medianest.config import load_settings
from medianest.core.db import Database, utc_now
from medianest.core.migrate import upgrade
from medianest.notifications.realtime import MAX_SOCKETS_PER_USER
from medianest.notifications.ws import WS_PATH
from medianest.status.history import HEARTBEATS_KEPT, HOUR, hour_of, uptimes
from medianest.status.models import ServiceKind, ServiceState, Status
from status_app import PUBLISH_PATH

TARGET_PAGE_P95_MS, TARGET_FANOUT_P95_MS = 200.0, 100.0
PAGES = 10
BEAT = timedelta(seconds=60)  # Uptime Kuma's default interval
PASSWORD = "benchmark-member-passphrase"
STAMP = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores a time in SQLite
WAIT = 30.0  # seconds any one step may take before the run is given up


def percentiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49], cuts[94]


def monitor_id(n: int) -> str:
    return f"kuma:page{n % PAGES}:{n}"


def downs(rng: random.Random, hours: int, status: Status) -> list[int]:
    """How many checks found the service down in each hour, oldest first (60: all of it)."""
    found = [0] * hours
    for start in rng.sample(range(hours), rng.choice((0, 0, 0, 1, 2))):  # a few outages
        for h in range(start, min(start + rng.randint(1, 3), hours)):
            found[h] = rng.randint(5, 60)
    found[-1] = 60 if status is Status.DOWN else found[-1]
    return found


def service_row(n: int, status: Status, now: datetime) -> dict[str, object]:
    down = status is Status.DOWN
    return {
        "id": monitor_id(n), "name": f"Monitor {n:04d}", "kind": ServiceKind.KUMA,
        "group_key": f"kuma:page{n % PAGES}", "group_title": f"Status page {n % PAGES}",
        "position": n // PAGES, "status": status, "last_check_at": now, "updated_at": now,
        "since": now - HOUR if down else now - timedelta(hours=n % 500 + 2),
        "down_since": now - HOUR if down else None, "response_ms": 20.0 + n % 280,
        "message": None if status is Status.UP else f"Uptime Kuma says {status}.",
        "url": f"https://service-{n}.example.com/",
        "last_beat_at": hour_of(now) + BEAT * int((now - hour_of(now)) / BEAT),
    }  # fmt: skip


def seed_history(path: str, statuses: list[Status], days: int, now: datetime) -> None:
    """What the recorder leaves after `days` of one check a minute of each monitor: every hour's
    rollup, and the heartbeats of the last 48 hours (pruning took older ones). Written with
    sqlite3 itself, in the format SQLAlchemy stores times in: millions of rows."""
    rng, hours = random.Random(7), days * 24
    first_hour, raw_from = hour_of(now) - HOUR * (hours - 1), now - HEARTBEATS_KEPT
    with closing(sqlite3.connect(path)) as db, db:
        for n, status in enumerate(statuses):
            rollups, beats, service, ms = [], [], monitor_id(n), 20.0 + n % 280  # service_row's
            for index, down in enumerate(downs(rng, hours, status)):
                hour = first_hour + HOUR * index
                checks = min(60, int((now - hour) / BEAT) + 1)  # the current hour: so far
                down = min(down, checks)
                rollups.append((service, hour.strftime(STAMP), checks - down, down, checks, ms))
                beats += [
                    (service, at.strftime(STAMP), Status.DOWN if m < down else Status.UP, ms)
                    for m in range(checks if hour + HOUR > raw_from else 0)
                    if (at := hour + BEAT * m) >= raw_from
                ]
            db.executemany(
                "INSERT INTO service_rollups (service_id, hour, up, down, degraded, maintenance,"
                " response_sum, response_count) VALUES (?, ?, ?, ?, 0, 0, ?6 * ?5, ?5)",
                rollups,
            )
            db.executemany(
                "INSERT INTO service_heartbeats (service_id, at, status, response_ms)"
                " VALUES (?, ?, ?, ?)",
                beats,
            )


async def seed(database_url: str, monitors: int, days: int, people: int) -> list[str]:
    """`monitors` Uptime Kuma monitors on ten status pages with `days` of history each, their
    uptimes as the recorder reads them from the rollups, and `people` members (one password,
    hashed once: signing in costs the same); the members' names."""
    now, names = utc_now(), [f"viewer{n:03d}" for n in range(people)]
    statuses = random.Random(7).choices(
        (Status.UP, Status.DOWN, Status.DEGRADED), (95, 2, 3), k=monitors
    )
    ids, path = [monitor_id(n) for n in range(monitors)], make_url(database_url).database
    assert path is not None
    db = Database(database_url)
    try:
        async with db.unit_of_work() as session:
            rows = [service_row(n, status, now) for n, status in enumerate(statuses)]
            await session.execute(insert(ServiceState), rows)
            hashed = PasswordHasher().hash(PASSWORD)
            session.add_all(User(username=n, username_key=n, password_hash=hashed) for n in names)
        await asyncio.to_thread(seed_history, path, statuses, days, now)
        async with db.unit_of_work() as session:
            found = await uptimes(session, ids, now)
            if len(found) != monitors or None in found[ids[-1]]:
                raise BenchError("the history written is not what the rollups' reader reads")
            rows = [
                {"id": i, "uptime_24h": h24, "uptime_7d": d7, "uptime_30d": d30, "uptime_at": now}
                for i, (h24, d7, d30) in found.items()
            ]
            await session.execute(update(ServiceState), rows)
    finally:
        await db.close()
    return names


def sign_in(http: httpx.Client, username: str) -> str:
    login = http.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    if login.status_code != 200:
        raise BenchError(f"login of {username} answered {login.status_code}: {login.text[:200]}")
    return str(login.json()["data"]["token"])


def time_gets(http: httpx.Client, path: str, count: int, check: str) -> list[float]:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        answer = http.get(path)
        samples.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200 or check not in answer.text:
            raise BenchError(f"GET {path} answered {answer.status_code}: {answer.text[:200]}")
    return samples


class Listener(asyncio.Protocol):
    """One socket, as bare as a WebSocket client can be: the time of each read is taken first."""

    def __init__(self, handshake: bytes, heard: Callable[[str], None]) -> None:
        self.handshake, self.heard = handshake, heard
        self.transport: asyncio.Transport | None = None
        self.buffer, self.upgraded = bytearray(), False
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.times: dict[str, list[float]] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.transport.write(self.handshake)

    def connection_lost(self, exc: Exception | None) -> None:
        self.fail(f"a socket was dropped: {exc}")

    def data_received(self, data: bytes) -> None:
        now, buf = time.monotonic(), self.buffer
        buf += data
        if not self.upgraded:
            if (end := buf.find(b"\r\n\r\n")) < 0:
                return
            if not buf.startswith(b"HTTP/1.1 101"):
                self.fail(f"handshake refused: {bytes(buf[:80])!r}")
                return
            del buf[: end + 4]
            self.upgraded = True
        # Each whole frame in the buffer (the server's are never masked nor fragmented).
        while len(buf) >= 2:
            length, start = buf[1] & 0x7F, 2
            if length >= 126:
                start = 4 if length == 126 else 10
                length = int.from_bytes(buf[2:start], "big") if len(buf) >= start else 1 << 62
            if len(buf) < start + length:
                return
            opcode, payload = buf[0] & 0x0F, bytes(buf[start : start + length])
            del buf[: start + length]
            if opcode == 0x1:
                message = json.loads(payload)
                if message["type"] == "service.status":
                    self.times.setdefault(event := str(message["data"]["id"]), []).append(now)
                    self.heard(event)
                elif message["type"] == "ping":
                    self.send(0x1, b'{"type":"pong"}')
                elif message["type"] == "ready" and not self.ready.done():
                    self.ready.set_result(None)
            elif opcode == 0x9:
                self.send(0xA, payload)
            elif opcode == 0x8:
                self.fail(f"closed by the server: {payload[:2].hex()} {payload[2:]!r}")

    def send(self, opcode: int, payload: bytes) -> None:
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        assert self.transport is not None
        self.transport.write(bytes((0x80 | opcode, 0x80 | len(payload))) + mask + masked)

    def fail(self, why: str) -> None:
        if not self.ready.done():
            self.ready.set_exception(BenchError(why))
        if self.transport is not None:
            self.transport.close()


def handshake(host: str, port: int, token: str) -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    return (f"GET {WS_PATH} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Authorization: Bearer {token}\r\n\r\n").encode()  # fmt: skip


async def fan_out(base: str, tokens: list[str], clients: int, events: int) -> None:
    host, port = base.removeprefix("http://").rsplit(":", 1)
    loop = asyncio.get_running_loop()
    counts: dict[str, int] = {}
    everyone: dict[str, asyncio.Event] = {}

    def heard(event: str) -> None:
        counts[event] = counts.get(event, 0) + 1
        if counts[event] == clients and event in everyone:
            everyone[event].set()

    listeners: list[Listener] = []
    started = time.perf_counter()
    for n in range(clients):
        made = partial(Listener, handshake(host, int(port), tokens[n % len(tokens)]), heard)
        listeners.append((await loop.create_connection(made, host, int(port)))[1])
        if n % 50 == 49 or n == clients - 1:  # 50 handshakes at a time
            async with asyncio.timeout(WAIT):
                await asyncio.gather(*(lis.ready for lis in listeners[-50:]))
    connected = time.perf_counter() - started
    pid, ids = SERVER_PIDS[base], [monitor_id(n) for n in range(events)]
    published: dict[str, float] = {}
    client_cpu = server_cpu = 0.0
    await asyncio.sleep(1)
    for n, event in enumerate(ids):
        everyone[event] = asyncio.Event()
        # As `Change.message_for_bus` has it; sent bare, so no HTTP client adds to our CPU time.
        body = json.dumps({"id": event, "name": f"Monitor {n:04d}", "status": "down"}
                          | {"responseTimeMs": None, "since": utc_now().isoformat()})  # fmt: skip
        before = time.process_time(), cpu_seconds(pid)
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(
            f"POST {PUBLISH_PATH} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n{body}".encode()
        )
        head, _, answer = (await reader.read()).partition(b"\r\n\r\n")
        writer.close()
        if not head.startswith(b"HTTP/1.1 200"):
            raise BenchError(f"publishing answered {head[:40]!r}: {answer[:200]!r}")
        published[event] = float(json.loads(answer)["publishedAt"])
        with suppress(TimeoutError):  # whoever did not hear it is counted below
            async with asyncio.timeout(WAIT):
                await everyone[event].wait()
        client_cpu += time.process_time() - before[0]
        server_cpu += cpu_seconds(pid) - before[1]
        await asyncio.sleep(0.5)  # a second copy, if any, would arrive by now
    for lis in listeners:
        cast(asyncio.Transport, lis.transport).close()
    firsts = [(event, at[0]) for lis in listeners for event, at in lis.times.items()]
    delays = [(at - published[event]) * 1000 for event, at in firsts]
    paired = list(zip(firsts, delays, strict=True))
    worst = [max((d for (ev, _), d in paired if ev == e), default=0) for e in ids]
    twice = sum(len(t) - 1 for lis in listeners for t in lis.times.values())
    p50, p95 = percentiles(delays) if len(delays) > 1 else (float("nan"),) * 2
    met = "met" if p95 < TARGET_FANOUT_P95_MS else "MISSED"
    print(
        f"\nfan-out to {clients} sockets ({len(tokens)} members, connected in {connected:.1f} s),"
        f" {events} events: p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {max(delays, default=0):.1f}"
        f" ms (target: p95 under {TARGET_FANOUT_P95_MS:g} ms): {met}\n  not heard: "
        f"{clients * events - len(delays)}, heard twice: {twice}; CPU time per event: MediaNest "
        f"{server_cpu * 1000 / events:.1f} ms, these sockets {client_cpu * 1000 / events:.1f} ms"
        f"\n  each event's max (ms): {', '.join(f'{ms:.0f}' for ms in worst)}"
    )


def raise_file_limit(needed: int) -> None:
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if 0 <= hard < needed:  # RLIM_INFINITY is -1
        raise BenchError(f"{needed} open files are needed and the limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the server inherits it


def time_pages(base: str, member: str, monitors: int, count: int) -> None:
    last = monitor_id(monitors - 1)
    pages = {
        "GET /api/v1/status/services": ("/api/v1/status/services", f'"{last}"'),
        "GET /status (HTML)": ("/status", f'data-service="{last}"'),
        "GET .../history?range=30d": (
            f"/api/v1/status/services/{last}/history?range=30d", '"bucket":"day"'
        ),
    }  # fmt: skip
    head = f"{'first ms':>9} {'p50 ms':>8} {'p95 ms':>8} {'CPU ms':>7}"
    print(f"\n{'request (a signed-in member)':<32} {head}")
    with httpx.Client(base_url=base, timeout=WAIT) as http:  # by the cookie, as a browser
        sign_in(http, member)
        for label, (path, check) in pages.items():
            first = time_gets(http, path, 1, check)[0]  # the page: its bars, read once an hour
            time_gets(http, path, 5, check)
            cpu = cpu_seconds(SERVER_PIDS[base])
            samples = time_gets(http, path, count, check)
            cpu = (cpu_seconds(SERVER_PIDS[base]) - cpu) * 1000 / count
            p50, p95 = percentiles(samples)
            met = "met" if p95 < TARGET_PAGE_P95_MS else "MISSED"
            print(f"{label:<32} {first:>9.1f} {p50:>8.2f} {p95:>8.2f} {cpu:>7.2f}  {met}")
        size = len(http.get("/status").content) / 1024
    print(f"(target: p95 under {TARGET_PAGE_P95_MS:g} ms; {count} each, one at a time; /status is"
          f" {size:.0f} KiB)", flush=True)  # fmt: skip


def run(args: argparse.Namespace) -> None:
    raise_file_limit(args.clients + 200)
    people = -(-args.clients // MAX_SOCKETS_PER_USER)
    with tempfile.TemporaryDirectory(prefix="medianest-bench-status-") as tmp:
        workdir = Path(tmp)
        (workdir / "data").mkdir()
        database_url = load_settings(data_dir=workdir / "data").resolved_database_url
        upgrade(database_url)
        started = time.perf_counter()
        names = asyncio.run(seed(database_url, args.monitors, args.days, people))
        print(
            f"seeded {args.monitors} monitors with {args.days} days of history each and {people}"
            f" members in {time.perf_counter() - started:.1f} s"
        )
        env = {"MEDIANEST_STATUS_INTERVAL_SECONDS": "0"}  # nothing but the seeded history
        with medianest_with(workdir, env, app="status_app:app") as base:
            with httpx.Client(base_url=base, timeout=WAIT) as http:
                tokens = [sign_in(http, name) for name in names]
            time_pages(base, names[0], args.monitors, args.requests)
            uvloop.run(fan_out(base, tokens, args.clients, args.events))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for name, default in (("monitors", 1000), ("days", 30), ("requests", 200), ("clients", 1000)):
        parser.add_argument(f"--{name}", type=int, default=default)
    parser.add_argument("--events", type=int, default=5)
    args = parser.parse_args()
    if not (args.days <= 90 and args.requests >= 5 and 1 <= args.events <= args.monitors):
        parser.error("--days at most 90, --requests at least 5, --events 1 to --monitors")
    try:
        run(args)
    except BenchError as exc:
        print(f"\nbenchmark failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
