"""Requests: a search through MediaNest next to the same search straight to Overseerr, and how
fast Overseerr's webhooks are taken in.

    .venv/bin/python bench/media_requests.py [--searches 100] [--webhooks 400] [--followers 10]

One MediaNest (embedded default, one uvicorn worker, `auth_app`) against the fake Overseerr
(tests/fakes), both on 127.0.0.1, with a catalogue where every query finds a full page of 20.
Searches: each query and page once uncached (MediaNest asks Overseerr, then adds each title's
state for the caller from its own tables), once cached, and the same URL straight to the fake;
p50/p95 of each, one at a time, and what MediaNest adds at p95 (target: under 10 ms). Webhooks:
`--webhooks` requests, each with `--followers` followers, then one "available" notification
each in Overseerr's default template, 16 at a time; webhooks/s (target: at least 500) and
whether every request moved on once and every person was told once. Figures, never assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.fakes

from sqlalchemy import func, select, text
from tests.fakes.overseerr import FakeOverseerr

from auth import SERVER_PIDS, UNLIMITED, cpu_seconds, first_run, medianest_with
from http_overhead import BenchError
from medianest.auth.models import User
from medianest.config import load_settings
from medianest.core.db import Database
from medianest.core.migrate import upgrade
from medianest.requests.models import MediaRequest, RequestFollower, RequestStatus

WORDS = ["amber", "birch", "cedar", "dune", "ember", "fjord", "grove", "heath", "iris", "juniper"]
PER_WORD = 100
TARGET_ADDED_P95_MS = 10.0
TARGET_WEBHOOKS_PER_SECOND = 500.0
# Overseerr ids of the followed requests, clear of the ones the fake gives real requests.
SEEDED = 1_000_000


def percentiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49], cuts[94]


def catalogue(overseerr: FakeOverseerr) -> None:
    tmdb_id = 100_000
    for word in WORDS:
        for n in range(PER_WORD):
            tmdb_id += 1
            overseerr.add_movie(tmdb_id, f"The {word.title()} Film {n:03d}", year=1990 + n % 30)


def time_searches(
    base: str, overseerr: FakeOverseerr, token: str, count: int
) -> tuple[list[float], list[float], list[float]]:
    queries = [(WORDS[i % len(WORDS)], 1 + (i // len(WORDS)) % 5) for i in range(count)]
    ours, cached, straight = [], [], []
    auth = {"Authorization": f"Bearer {token}"}
    key = {"X-Api-Key": overseerr.api_key}
    with httpx.Client(base_url=base, timeout=30) as http, httpx.Client(timeout=30) as direct:
        for samples, through in ((ours, True), (cached, True), (straight, False)):
            for word, page in queries:
                started = time.perf_counter()
                if through:
                    found = http.get(
                        "/api/v1/media/search", params={"query": word, "page": page}, headers=auth
                    )
                else:
                    found = direct.get(
                        f"{overseerr.url}/api/v1/search?query={word}&page={page}", headers=key
                    )
                samples.append((time.perf_counter() - started) * 1000)
                if found.status_code != 200:
                    raise BenchError(f"search answered {found.status_code}: {found.text[:200]}")
                results = found.json()["data" if through else "results"]
                if len(results) != 20:
                    raise BenchError(f"expected 20 results, got {len(results)}")
    # Distinct pages: the first pass missed the cache, the second hit it.
    return ours[: len(set(queries))], cached, straight


async def seed_followed(database_url: str, requests: int, followers: int) -> list[int]:
    """`requests` approved requests (Overseerr ids 1..n), each followed by `followers` people."""
    db = Database(database_url)
    try:
        async with db.unit_of_work() as session:
            people = []
            for n in range(followers + 1):
                person = User(username=f"viewer{n}", username_key=f"viewer{n}")
                session.add(person)
                people.append(person)
            await session.flush()
            for n in range(1, requests + 1):
                request = MediaRequest(
                    user_id=people[0].id,
                    media_type="movie",
                    tmdb_id=200_000 + n,
                    title=f"Followed Film {n}",
                    status=RequestStatus.PROCESSING,
                    overseerr_id=SEEDED + n,
                )
                session.add(request)
                await session.flush()
                session.add_all(
                    RequestFollower(request_id=request.id, user_id=p.id) for p in people[1:]
                )
    finally:
        await db.close()
    return [SEEDED + n for n in range(1, requests + 1)]


def webhook_body(overseerr_id: int) -> dict[str, object]:
    return {
        "notification_type": "MEDIA_AVAILABLE",
        "event": "Movie Request Now Available",
        "subject": f"Followed Film {overseerr_id} (2024)",
        "message": "",
        "image": "",
        "media": {
            "media_type": "movie",
            "tmdbId": str(200_000 + overseerr_id - SEEDED),
            "tvdbId": "",
            "status": "AVAILABLE",
            "status4k": "UNKNOWN",
        },
        "request": {"request_id": str(overseerr_id), "requestedBy_username": "viewer0"},
        "issue": None,
        "comment": None,
        "extra": [],
    }


async def post_webhooks(base: str, authorization: str, ids: list[int]) -> float:
    """Seconds to deliver one webhook per id, 16 at a time, each on its own kept-alive
    connection. Written on bare sockets: an HTTP client library in this process spends more
    time per request than MediaNest does, and the figure would be the client's."""
    host, port = base.removeprefix("http://").split(":")
    queue: asyncio.Queue[int] = asyncio.Queue()
    for overseerr_id in ids:
        queue.put_nowait(overseerr_id)
    failures: list[str] = []

    async def deliver() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while not queue.empty():
                body = json.dumps(webhook_body(queue.get_nowait())).encode()
                writer.write(
                    b"POST /api/v1/webhooks/overseerr HTTP/1.1\r\n"
                    + f"Host: {host}:{port}\r\nAuthorization: {authorization}\r\n".encode()
                    + b"Content-Type: application/json\r\n"
                    + f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                head = await reader.readuntil(b"\r\n\r\n")
                status = head.split(b" ", 2)[1].decode()
                length = re.search(rb"(?i)content-length: *(\d+)", head)
                answer = await reader.readexactly(int(length.group(1))) if length else b""
                if status != "204":
                    failures.append(f"{status} {answer[:100]!r}")
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(deliver() for _ in range(16)))
    seconds = time.perf_counter() - started
    if failures:
        raise BenchError(f"{len(failures)} webhooks refused, first: {failures[0]}")
    return seconds


async def told(database_url: str) -> tuple[int, int, int]:
    """Requests available, notifications made, and distinct (person, request) among them."""
    db = Database(database_url)
    try:
        async with db.unit_of_work() as session:
            available = await session.scalar(
                select(func.count())
                .select_from(MediaRequest)
                .where(MediaRequest.status == RequestStatus.AVAILABLE)
            )
            try:
                made, distinct = (
                    await session.execute(
                        text(
                            "SELECT count(*), count(DISTINCT user_id || ':' || dedup_key) "
                            "FROM notifications WHERE type = 'request.available'"
                        )
                    )
                ).one()
            except Exception:
                made = distinct = 0
    finally:
        await db.close()
    return available or 0, made, distinct


def run(args: argparse.Namespace) -> None:
    overseerr = FakeOverseerr().start()
    catalogue(overseerr)
    try:
        with tempfile.TemporaryDirectory(prefix="medianest-bench-requests-") as tmp:
            workdir = Path(tmp)
            (workdir / "data").mkdir()
            settings = load_settings(data_dir=workdir / "data")
            upgrade(settings.resolved_database_url)
            env = {
                "MEDIANEST_OVERSEERR_URL": overseerr.url,
                "MEDIANEST_OVERSEERR_API_KEY": overseerr.api_key,
                "MEDIANEST_RATE_LIMIT_MEDIA_REQUESTS": UNLIMITED,
                "MEDIANEST_OVERSEERR_SYNC_INTERVAL_SECONDS": "0",
            }
            with medianest_with(workdir, env) as base:
                token = first_run(base)
                with httpx.Client(base_url=base, timeout=30) as http:
                    auth = {"Authorization": f"Bearer {token}"}
                    service = http.get("/api/v1/admin/services/overseerr", headers=auth).json()
                    authorization = service["data"]["webhook"]["authorization"]
                    for tmdb_id in (100_001, 100_002, 100_101):  # some states to look up
                        http.post(
                            "/api/v1/media/request",
                            json={"mediaType": "movie", "tmdbId": tmdb_id},
                            headers=auth,
                        )
                time_searches(base, overseerr, token, 10)  # warm-up, its own queries cached
                ours, cached, straight = time_searches(base, overseerr, token, args.searches)
                ids = asyncio.run(
                    seed_followed(settings.resolved_database_url, args.webhooks, args.followers)
                )
                cpu_before = cpu_seconds(SERVER_PIDS[base])
                seconds = asyncio.run(post_webhooks(base, authorization, ids))
                cpu = cpu_seconds(SERVER_PIDS[base]) - cpu_before
                available, made, distinct = asyncio.run(told(settings.resolved_database_url))
    finally:
        overseerr.stop()
    print(f"{'search (20 results with states)':<38} {'p50 ms':>8} {'p95 ms':>8}")
    for label, samples in (
        ("through MediaNest, uncached", ours),
        ("through MediaNest, cached", cached),
        ("straight to Overseerr (fake)", straight),
    ):
        p50, p95 = percentiles(samples)
        print(f"{label:<38} {p50:>8.2f} {p95:>8.2f}")
    added = percentiles(ours)[1] - percentiles(straight)[1]
    met = "met" if added < TARGET_ADDED_P95_MS else "MISSED"
    print(f"MediaNest adds {added:.2f} ms at p95 (target: under {TARGET_ADDED_P95_MS:g} ms): {met}")
    rate = len(ids) / seconds
    met = "met" if rate >= TARGET_WEBHOOKS_PER_SECOND else "MISSED"
    print(
        f"webhooks: {len(ids)} in {seconds:.2f} s = {rate:.0f}/s with {args.followers} followers "
        f"each (target: at least {TARGET_WEBHOOKS_PER_SECOND:g}/s): {met}"
    )
    print(
        f"  MediaNest's CPU time: {cpu * 1000 / len(ids):.2f} ms per webhook "
        f"({len(ids) / cpu:.0f} webhooks per CPU second)"
    )
    people = len(ids) * (args.followers + 1)
    print(
        f"  requests available: {available}/{len(ids)}; notifications: {made} for {people} "
        f"people-requests, {distinct} distinct"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--searches", type=int, default=100)
    parser.add_argument("--webhooks", type=int, default=400)
    parser.add_argument("--followers", type=int, default=10)
    args = parser.parse_args()
    try:
        run(args)
    except BenchError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
