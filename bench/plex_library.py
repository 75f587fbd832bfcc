"""The library index: full-sync throughput and index search latency, against a fake Plex server.

    .venv/bin/python bench/plex_library.py [--items 100000] [--searches 200] [--page-requests 50]
                                           [--database-url postgresql+asyncpg://.../db]

The fake Plex Media Server (tests/fakes) runs in a process of its own on 127.0.0.1, as a real one
would, with `--items` movies of varied titles in one library. MediaNest's index syncs it in full
into a freshly migrated SQLite file in a temporary directory (or into `--database-url`, whose
library index is emptied first: use a throwaway database), then once more with nothing changed.
Then the same `--searches` queries (prefixes, whole words, words out of order, accents, capitals,
misses; every other one limited to some libraries, as a shared user's are) go to the index and
to the fake's own `/hubs/search`, one at a time. Last, a library page (API and HTML) uncached
against cached, through a MediaNest app connected to the fake (`bench/library_page.py`).
Targets: the sync under 30 s (Overseerr's scanner manages about 12 items/s because of a fixed
pause per page), index search p95 under 20 ms, a cached library page at least 10 times faster
than an uncached one. Figures only comparable within one run on one machine; nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import statistics
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.fakes

from tests.fakes.plex_server import OWNER_TOKEN, FakePlexServer

from library_page import page_bench
from medianest.config import load_settings
from medianest.core.db import Database
from medianest.core.metrics import Metrics
from medianest.core.migrate import upgrade
from medianest.core.resilience import Breakers
from medianest.integrations.plex.servers import build_plex_server_client
from medianest.plex.library_index import LibraryIndex
from medianest.plex.models import PlexItem, PlexSyncRun, PlexSyncState

OVERSEERR_ITEMS_PER_SECOND = 12
TARGET_SYNC_SECONDS = 30.0
TARGET_SEARCH_P95_MS = 20.0
SECTION = "1"
_VOCABULARY = (
    "silent river empire night storm golden shadow city last king winter star edge lost"
    " dark blood iron ocean fire heart secret garden wild road glass ghost dream broken"
    " red black white blue summer autumn spring moon sun north south west east little big"
    " great final first second war peace love death life house home island mountain"
    " valley forest desert station bridge tower castle empire kingdom crown sword"
    " hunter soldier doctor detective stranger brother sister mother father daughter son"
    " journey return rise fall revenge escape promise memory truth lie game machine"
    " signal code zero infinity planet galaxy voyage harbor circus carnival theatre"
    " café amélie léon noël señor über élan déjà naïve crème fiancée protégé"
)
WORDS = sorted(set(_VOCABULARY.split()))
ARTICLES = ("The ", "A ", "", "", "")


def titles(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [
        rng.choice(ARTICLES) + " ".join(rng.sample(WORDS, rng.randint(1, 3))).title()
        for _ in range(n)
    ]


def queries(n: int, seed: int) -> list[str]:
    """What people type: beginnings of words, whole words, two words either way round,
    capitals, accents left out or put in, and words no title has."""
    rng = random.Random(seed + 1)
    bare = {"café": "cafe", "amélie": "amelie", "léon": "leon", "noël": "noel", "über": "uber"}
    made: list[str] = []
    while len(made) < n:
        a, b = rng.sample(WORDS, 2)
        shape = len(made) % 8
        made.append(
            [
                a[: rng.randint(2, 4)],
                a,
                f"{a} {b[:3]}",
                f"{b} {a}",
                a.upper(),
                bare.get(a, a),
                f"the {a[:3]}",
                f"zq{a}x",
            ][shape]
        )
    return made


def serve_fake(items: int, seed: int, conn: Connection) -> None:
    """The fake Plex server's own process: fill, serve, stop when told."""
    fake = FakePlexServer()
    for title in titles(items, seed):
        fake.library.add_items(SECTION, 1, prefix=title)
    fake.start()
    conn.send((fake.url, len(fake.library.listing(SECTION, None, "addedAt", ()))))
    conn.recv()
    fake.stop()


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def empty_index(db: Database) -> None:
    async with db.unit_of_work() as session:
        for model in (PlexItem, PlexSyncState, PlexSyncRun):
            await session.execute(model.__table__.delete())


async def bench(args: argparse.Namespace, url: str, fake_url: str, workdir: Path) -> None:
    settings = load_settings(data_dir=workdir / "data", http_read_timeout=30.0)
    metrics = Metrics()
    breakers = Breakers(settings, metrics)
    await breakers.start()
    client = build_plex_server_client(
        settings, breakers, metrics, url=fake_url, client_identifier="medianest-bench"
    )
    db = Database(url)
    index = LibraryIndex(db)
    try:
        await empty_index(db)
        started = time.perf_counter()
        result = await index.full_sync(client, OWNER_TOKEN)
        seconds = time.perf_counter() - started
        rate = result.items / seconds
        print(f"full sync: {result.items:,} items in {seconds:.1f} s = {rate:,.0f} items/s")
        overseerr = result.items / OVERSEERR_ITEMS_PER_SECOND
        print(
            f"  Overseerr's scanner at ~{OVERSEERR_ITEMS_PER_SECOND} items/s: "
            f"~{overseerr / 3600:.1f} h ({rate / OVERSEERR_ITEMS_PER_SECOND:,.0f}x slower); "
            f"target under {TARGET_SYNC_SECONDS:.0f} s: "
            f"{'met' if seconds < TARGET_SYNC_SECONDS else 'MISSED'}"
        )
        started = time.perf_counter()
        again = await index.full_sync(client, OWNER_TOKEN)
        seconds = time.perf_counter() - started
        print(
            f"full sync again (nothing changed): {again.items:,} items in {seconds:.1f} s = "
            f"{again.items / seconds:,.0f} items/s"
        )

        asked = queries(args.searches, args.seed)
        index_ms: list[float] = []
        found = 0
        for n, query in enumerate(asked):
            # Every other search as a user shared some libraries makes it.
            libraries = {SECTION, "3"} if n % 2 else None
            begun = time.perf_counter()
            async with db.sessionmaker() as session:
                found += len(await index.search(session, query, library_keys=libraries))
            index_ms.append((time.perf_counter() - begun) * 1000)
        plex_ms: list[float] = []
        async with httpx.AsyncClient(
            base_url=fake_url,
            headers={"X-Plex-Token": OWNER_TOKEN, "Accept": "application/json"},
            timeout=30,
        ) as http:
            for query in asked:
                begun = time.perf_counter()
                response = await http.get("/hubs/search", params={"query": query, "limit": 20})
                response.raise_for_status()
                plex_ms.append((time.perf_counter() - begun) * 1000)
        p95 = percentile(index_ms, 95)
        print(
            f"index search ({len(asked)} queries, {found / len(asked):.1f} results on average): "
            f"p50 {statistics.median(index_ms):.2f} ms, p95 {p95:.2f} ms; target p95 under "
            f"{TARGET_SEARCH_P95_MS:.0f} ms: {'met' if p95 < TARGET_SEARCH_P95_MS else 'MISSED'}"
        )
        print(
            f"fake Plex /hubs/search (same queries): p50 {statistics.median(plex_ms):.2f} ms, "
            f"p95 {percentile(plex_ms, 95):.2f} ms"
        )
    finally:
        await db.close()
        await client.aclose()
        await breakers.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--searches", type=int, default=200)
    parser.add_argument("--page-requests", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--database-url", help="a throwaway database; default: SQLite in a temp dir"
    )
    parser.add_argument("--timeout", type=float, default=600, help="give up after this many s")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="medianest-bench-") as tmp:
        workdir = Path(tmp)
        url = args.database_url or f"sqlite+aiosqlite:///{workdir / 'medianest.db'}"
        upgrade(url)
        ours, theirs = multiprocessing.get_context("spawn").Pipe()
        fake = multiprocessing.get_context("spawn").Process(
            target=serve_fake, args=(args.items, args.seed, theirs), daemon=True
        )
        begun = time.perf_counter()
        fake.start()
        try:
            if not ours.poll(args.timeout):
                raise SystemExit("the fake Plex server did not start")
            fake_url, size = ours.recv()
            engine = url.split(":", 1)[0].split("+", 1)[0]
            print(
                f"fake Plex: {size:,} items in one movie library (and the seeded ones), ready in "
                f"{time.perf_counter() - begun:.1f} s; database: {engine}"
            )
            asyncio.run(asyncio.wait_for(bench(args, url, fake_url, workdir), args.timeout))
            page_run = page_bench(fake_url, OWNER_TOKEN, workdir, SECTION, args.page_requests)
            asyncio.run(asyncio.wait_for(page_run, args.timeout))
        finally:
            ours.send("stop")
            fake.join(timeout=15)
            if fake.is_alive():
                fake.terminate()


if __name__ == "__main__":
    main()
