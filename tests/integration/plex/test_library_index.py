"""The library index against the fake Plex server over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from medianest.core.db import Database, utc_now
from medianest.core.errors import UpstreamUnavailable
from medianest.core.job_queue import JobQueue
from medianest.core.jobs import Job, JobStatus
from medianest.core.metrics import Metrics
from medianest.integrations.plex.errors import PLEX_SERVER
from medianest.integrations.plex.server import PlexServerClient
from medianest.plex.index_jobs import SYNC_FULL, SYNC_INCREMENTAL, register_index_jobs
from medianest.plex.library_index import IndexedItem, LibraryIndex
from medianest.plex.models import SYNC_RUN_ID, PlexItem, PlexSyncRun
from medianest.plex.sync_runs import SyncAlreadyRunning
from tests.conftest import SettingsFactory
from tests.fakes.plex_server import OWNER_TOKEN, FakePlexServer
from tests.support.plex import fresh, server_client

# The seeded 6 + 1 movies and 2 shows, and as many again generated: 449 in three libraries.
GENERATED = {"1": 300, "2": 100, "3": 40}
COUNTS = {"1": 306, "2": 102, "3": 41}
TOTAL = sum(COUNTS.values())
FRIEND = "server-token-of-a-friend"
# Plex's times are whole seconds, so an incremental sync reads again the item of each library
# stamped with its watermark (whatever changed in that same second is not missed).
AT_WATERMARK = 3


@pytest.fixture
def fake(plex_server: FakePlexServer) -> FakePlexServer:
    fresh(plex_server)
    for section, n in GENERATED.items():
        plex_server.library.add_items(section, n)
    return plex_server


@pytest.fixture
async def plex(
    make_settings: SettingsFactory, fake: FakePlexServer
) -> AsyncIterator[PlexServerClient]:
    settings = make_settings(http_connect_timeout=0.5, http_read_timeout=3.0)
    async with server_client(settings, fake.url) as client:
        yield client


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.close()


@pytest.fixture
def index(db: Database) -> LibraryIndex:
    return LibraryIndex(db)


@pytest.fixture
async def synced(index: LibraryIndex, plex: PlexServerClient) -> LibraryIndex:
    await index.full_sync(plex, OWNER_TOKEN)
    return index


async def _counts(db: Database) -> dict[str, int]:
    async with db.sessionmaker() as session:
        rows = await session.execute(
            sa.select(PlexItem.library_key, sa.func.count()).group_by(PlexItem.library_key)
        )
        return dict(rows.all())


async def _item(db: Database, rating_key: str) -> IndexedItem | None:
    async with db.sessionmaker() as session:
        return await LibraryIndex(db).get_item(session, rating_key)


async def _titles(db: Database, query: str, **options: Any) -> list[str]:
    async with db.sessionmaker() as session:
        return [item.title for item in await LibraryIndex(db).search(session, query, **options)]


class TestFullSync:
    async def test_every_movie_and_show_is_indexed_with_its_ids(
        self, index: LibraryIndex, plex: PlexServerClient, db: Database, fake: FakePlexServer
    ) -> None:
        result = await index.full_sync(plex, OWNER_TOKEN)

        assert (result.kind, result.libraries, result.items, result.removed) == (
            "full",
            3,
            TOTAL,
            0,
        )
        assert await _counts(db) == COUNTS
        alien = await _item(db, fake.library.find("Alien").rating_key)
        assert alien is not None
        assert (alien.type, alien.title, alien.year) == ("movie", "Alien", 1979)
        assert (alien.library_key, alien.library_title) == ("1", "Movies")
        assert (alien.external_ids.tmdb, alien.external_ids.imdb) == (348, "tt0078748")
        assert alien.summary == "Alien, from 1979."
        assert alien.duration == 6_000_000
        assert alien.thumb is not None and alien.thumb.startswith("/library/metadata/")
        assert alien.added_at is not None and alien.added_at.tzinfo is not None
        show = await _item(db, fake.library.find("Breaking Bad").rating_key)
        assert show is not None
        assert (show.type, show.library_key) == ("show", "2")
        assert (show.external_ids.tmdb, show.external_ids.tvdb) == (1396, 81189)
        clip = await _item(db, fake.library.find("Knife Skills 101").rating_key)
        assert clip is not None
        assert clip.library_title == "YouTube"
        assert clip.external_ids.tmdb is clip.external_ids.imdb is None
        # Seasons and episodes are Plex's to list on a show's page.
        assert await _item(db, fake.library.find("Episode 1x01").rating_key) is None

    async def test_a_music_library_has_its_artists_and_albums_indexed_not_its_tracks(
        self, index: LibraryIndex, plex: PlexServerClient, db: Database, fake: FakePlexServer
    ) -> None:
        fake.library.add_music()

        result = await index.full_sync(plex, OWNER_TOKEN)

        # Two artists, three albums; the ten tracks are for an album's page to ask Plex.
        assert result.items == TOTAL + 5
        assert (await _counts(db))["4"] == 5
        album = await _item(db, fake.library.find("Kind of Blue").rating_key)
        assert album is not None
        assert (album.type, album.year, album.library_title) == ("album", 1959, "Music")
        assert album.parent_rating_key == fake.library.find("Miles Davis").rating_key
        assert await _item(db, fake.library.find("So What").rating_key) is None
        async with db.sessionmaker() as session:
            status = await index.sync_status(session)
            artists = await index.browse(session, "4")
        # Counted and listed as Plex lists the library: by artist.
        assert {lib.library_key: lib.item_count for lib in status.libraries}["4"] == 2
        assert [item.title for item in artists.items] == ["Miles Davis", "Nina Simone"]
        assert artists.total_size == 2

    async def test_libraries_are_read_200_items_a_page(
        self, index: LibraryIndex, plex: PlexServerClient, fake: FakePlexServer
    ) -> None:
        await index.full_sync(plex, OWNER_TOKEN)

        listings = [page for page in fake.pages if page.path.endswith("/all") and page.size]
        assert {page.size for page in listings} == {200}
        assert [p.start for p in listings if p.path == "/library/sections/1/all"] == [0, 200]

    async def test_an_item_removed_in_plex_is_forgotten(
        self, synced: LibraryIndex, plex: PlexServerClient, db: Database, fake: FakePlexServer
    ) -> None:
        gone = fake.library.find("Blade Runner").rating_key
        fake.library.remove_item(gone)

        result = await synced.full_sync(plex, OWNER_TOKEN)

        assert result.removed == 1
        assert await _item(db, gone) is None
        assert await _counts(db) == {**COUNTS, "1": COUNTS["1"] - 1}
        assert await _titles(db, "blade") == []

    async def test_a_library_gone_from_plex_is_forgotten(
        self, synced: LibraryIndex, plex: PlexServerClient, db: Database, fake: FakePlexServer
    ) -> None:
        # The token the index syncs with no longer sees the YouTube library.
        fake.library.share(FRIEND, "1", "2")

        result = await synced.full_sync(plex, FRIEND)

        assert result.removed == COUNTS["3"]
        assert await _counts(db) == {"1": COUNTS["1"], "2": COUNTS["2"]}
        async with db.sessionmaker() as session:
            status = await synced.sync_status(session)
        assert [lib.library_key for lib in status.libraries] == ["1", "2"]


class TestIncrementalSync:
    async def test_added_and_changed_items_are_indexed(
        self, synced: LibraryIndex, plex: PlexServerClient, db: Database, fake: FakePlexServer
    ) -> None:
        added = fake.library.add_items("1", 3, prefix="Fresh Arrival")
        alien = fake.library.find("Alien").rating_key
        fake.library.update_item(alien, title="Alien: Director's Cut", year=2003)

        result = await synced.incremental_sync(plex, OWNER_TOKEN)

        assert (result.kind, result.items, result.removed) == ("incremental", 4 + AT_WATERMARK, 0)
        assert await _counts(db) == {**COUNTS, "1": COUNTS["1"] + 3}
        fresh = await _item(db, added[0])
        assert fresh is not None and fresh.title == f"Fresh Arrival {added[0]}"
        changed = await _item(db, alien)
        assert changed is not None and (changed.title, changed.year) == (
            "Alien: Director's Cut",
            2003,
        )
        assert await _titles(db, "director") == ["Alien: Director's Cut"]
        assert "Alien" not in await _titles(db, "alien", limit=50)

    async def test_only_what_changed_since_the_last_sync_is_asked_for(
        self, synced: LibraryIndex, plex: PlexServerClient, fake: FakePlexServer
    ) -> None:
        fake.library.update_item(fake.library.find("Arrival").rating_key, summary="Updated.")
        before = len(fake.pages)

        result = await synced.incremental_sync(plex, OWNER_TOKEN)

        assert result.items == 1 + AT_WATERMARK
        asked = [r for r in fake.requests if r.path.endswith("/all")][-3:]
        assert all("updatedAt%3E%3E=" in r.query for r in asked)
        assert len(fake.pages) - before == 3

    async def test_a_removed_item_stays_until_the_next_full_sync(
        self, synced: LibraryIndex, plex: PlexServerClient, db: Database, fake: FakePlexServer
    ) -> None:
        gone = fake.library.find("Arrival").rating_key
        fake.library.remove_item(gone)

        await synced.incremental_sync(plex, OWNER_TOKEN)
        assert await _item(db, gone) is not None

        await synced.full_sync(plex, OWNER_TOKEN)
        assert await _item(db, gone) is None

    async def test_a_library_never_synced_is_read_whole(
        self, index: LibraryIndex, plex: PlexServerClient, db: Database
    ) -> None:
        result = await index.incremental_sync(plex, OWNER_TOKEN)

        assert result.items == TOTAL
        assert await _counts(db) == COUNTS


class TestFindByTmdb:
    async def test_a_movie_is_found_with_its_library_in_one_query(
        self, synced: LibraryIndex, db: Database, fake: FakePlexServer
    ) -> None:
        statements: list[str] = []

        def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            statements.append(statement)

        sa.event.listen(db.engine.sync_engine, "before_cursor_execute", record)
        try:
            async with db.sessionmaker() as session:
                found = await synced.find_by_tmdb(session, 603, "movie")
        finally:
            sa.event.remove(db.engine.sync_engine, "before_cursor_execute", record)

        assert [(i.title, i.library_key, i.library_title) for i in found] == [
            ("The Matrix", "1", "Movies")
        ]
        assert found[0].rating_key == fake.library.find("The Matrix").rating_key
        assert len([s for s in statements if "plex_items" in s]) == 1

    async def test_movies_and_shows_are_told_apart(
        self, synced: LibraryIndex, db: Database
    ) -> None:
        async with db.sessionmaker() as session:
            show = await synced.find_by_tmdb(session, 2046, "tv")
            as_movie = await synced.find_by_tmdb(session, 2046, "movie")
            missing = await synced.find_by_tmdb(session, 999_999, "movie")

        assert [i.title for i in show] == ["Alias"]
        assert as_movie == missing == []

    async def test_the_lookup_is_served_by_the_type_and_tmdb_index(
        self, synced: LibraryIndex, db: Database
    ) -> None:
        async with db.engine.connect() as conn:
            indexes = await conn.run_sync(lambda c: sa.inspect(c).get_indexes("plex_items"))
            lookup = "SELECT * FROM plex_items WHERE type = 'movie' AND tmdb_id = 603"
            if db.engine.dialect.name == "sqlite":
                plan = str((await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {lookup}")).all())
            else:
                await conn.exec_driver_sql("SET enable_seqscan = off")
                plan = str((await conn.exec_driver_sql(f"EXPLAIN {lookup}")).all())

        columns = {i["name"]: list(i["column_names"]) for i in indexes}
        assert columns["ix_plex_items_type_tmdb_id"] == ["type", "tmdb_id"]
        assert "ix_plex_items_type_tmdb_id" in plan


class TestSearch:
    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ("matrix", "The Matrix"),
            ("MATRIX", "The Matrix"),
            ("matrix the", "The Matrix"),
            ("the matr", "The Matrix"),
            ("ex mach", "Ex Machina"),
            ("machina ex", "Ex Machina"),
            ("amelie", "Amélie"),
            ("AMÉLIE", "Amélie"),
            ("leon profess", "Léon: The Professional"),
            ("breaking", "Breaking Bad"),
        ],
    )
    async def test_titles_are_found_whatever_the_case_accents_word_order_or_completeness(
        self,
        plex: PlexServerClient,
        index: LibraryIndex,
        db: Database,
        fake: FakePlexServer,
        query: str,
        expected: str,
    ) -> None:
        fake.library.add_movie("1", "Amélie", year=2001, guids=("tmdb://194",))
        fake.library.add_movie("1", "Léon: The Professional", year=1994, guids=("tmdb://101",))
        await index.full_sync(plex, OWNER_TOKEN)

        assert (await _titles(db, query))[:1] == [expected]

    async def test_artists_and_albums_are_found_by_name(
        self, plex: PlexServerClient, index: LibraryIndex, db: Database, fake: FakePlexServer
    ) -> None:
        fake.library.add_music()
        await index.full_sync(plex, OWNER_TOKEN)

        assert await _titles(db, "miles") == ["Miles Davis"]
        assert await _titles(db, "davis") == ["Miles Davis"]
        assert await _titles(db, "nina sim") == ["Nina Simone"]
        assert await _titles(db, "kind of") == ["Kind of Blue"]
        assert await _titles(db, "blue") == ["Kind of Blue", "Pastel Blues"]
        assert await _titles(db, "ali", library_keys={"4"}) == []

    async def test_the_closest_titles_come_first(self, synced: LibraryIndex, db: Database) -> None:
        assert await _titles(db, "ali") == ["Alias", "Alien", "Aliens"]
        assert await _titles(db, "aliens") == ["Aliens"]

    async def test_results_come_only_from_the_libraries_given(
        self, synced: LibraryIndex, db: Database
    ) -> None:
        assert await _titles(db, "ali", library_keys={"2"}) == ["Alias"]
        assert await _titles(db, "ali", library_keys={"1", "3"}) == ["Alien", "Aliens"]
        assert await _titles(db, "ali", library_keys=set()) == []

    async def test_the_limit_holds(self, synced: LibraryIndex, db: Database) -> None:
        found = await _titles(db, "generated", limit=7)

        assert len(found) == 7

    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ("", []),
            ("  !! ", []),
            ('"', []),
            ('alien" OR "x', []),
            ("NEAR(alien", []),
            ("title:alien*", []),
            ("-alien", ["Alien", "Aliens"]),
            ("alien*", ["Alien", "Aliens"]),
        ],
    )
    async def test_a_query_is_only_ever_words_to_look_for(
        self, synced: LibraryIndex, db: Database, query: str, expected: list[str]
    ) -> None:
        assert await _titles(db, query) == expected


class TestBrowse:
    async def test_a_library_pages_in_title_order_while_plex_is_down(
        self, synced: LibraryIndex, db: Database, fake: FakePlexServer
    ) -> None:
        await asyncio.to_thread(fake.down)

        async with db.sessionmaker() as session:
            first = await synced.browse(session, "1", page=1, page_size=50)
            last = await synced.browse(session, "1", page=7, page_size=50)

        assert first.total_size == COUNTS["1"]
        assert [i.title for i in first.items[:5]] == [
            "Alien",
            "Aliens",
            "Arrival",
            "Blade Runner",
            "Ex Machina",
        ]
        assert len(last.items) == 6
        assert last.offset == 300
        assert last.items[-1].title == "The Matrix"

    async def test_newest_added_first(
        self, synced: LibraryIndex, db: Database, fake: FakePlexServer
    ) -> None:
        async with db.sessionmaker() as session:
            page = await synced.browse(session, "3", page_size=3, sort="addedAt:desc")

        newest = sorted(
            (fake.library.item(i.rating_key) for i in page.items),
            key=lambda item: item.added_at,
            reverse=True,
        )
        assert [i.rating_key for i in page.items] == [item.rating_key for item in newest]
        assert page.items[0].title.startswith("Generated")
        assert page.total_size == COUNTS["3"]


class TestSyncRun:
    async def test_progress_runs_then_rests_with_every_item_done(
        self, index: LibraryIndex, plex: PlexServerClient, db: Database
    ) -> None:
        seen: list[tuple[str, int, int | None]] = []

        async def progress(done: int, total: int | None) -> None:
            async with db.sessionmaker() as session:
                status = await index.sync_status(session)
            seen.append((status.state, status.items_done, status.items_total))

        await index.full_sync(plex, OWNER_TOKEN, progress=progress)

        assert seen[0][0] == "running"
        assert all(state == "running" and total == TOTAL for state, _, total in seen)
        assert [done for _, done, _ in seen] == sorted(done for _, done, _ in seen)
        async with db.sessionmaker() as session:
            status = await index.sync_status(session)
        assert (status.state, status.kind, status.error) == ("idle", "full", None)
        assert status.items_done == status.items_total == TOTAL
        assert status.last_succeeded_at is not None
        assert [(lib.library_key, lib.item_count) for lib in status.libraries] == list(
            COUNTS.items()
        )

    async def test_plex_going_down_mid_sync_fails_the_run_and_keeps_the_index(
        self,
        synced: LibraryIndex,
        plex: PlexServerClient,
        db: Database,
        fake: FakePlexServer,
    ) -> None:
        fake.library.add_items("1", 2000)
        pulled: list[int] = []

        async def pull_the_plug(done: int, total: int | None) -> None:
            if not pulled:
                pulled.append(done)
                await asyncio.to_thread(fake.down)

        with pytest.raises(UpstreamUnavailable):
            await synced.full_sync(plex, OWNER_TOKEN, progress=pull_the_plug)

        async with db.sessionmaker() as session:
            status = await synced.sync_status(session)
            matrix = await synced.find_by_tmdb(session, 603, "movie")
        assert status.state == "failed"
        assert status.error is not None and "Plex is unreachable" in status.error
        assert status.finished_at is not None
        counts = await _counts(db)
        assert (counts["2"], counts["3"]) == (COUNTS["2"], COUNTS["3"])
        assert max(COUNTS["1"], pulled[0]) <= counts["1"] < COUNTS["1"] + 2000
        assert [i.title for i in matrix] == ["The Matrix"]

        fake.healthy()
        await synced.full_sync(plex, OWNER_TOKEN)
        async with db.sessionmaker() as session:
            recovered = await synced.sync_status(session)
        assert (recovered.state, recovered.error) == ("idle", None)
        assert (await _counts(db))["1"] == COUNTS["1"] + 2000

    async def test_a_second_sync_waits_its_turn(
        self, index: LibraryIndex, plex: PlexServerClient
    ) -> None:
        refused: list[Exception] = []

        async def try_another(done: int, total: int | None) -> None:
            if not refused:
                with pytest.raises(SyncAlreadyRunning) as caught:
                    await index.incremental_sync(plex, OWNER_TOKEN)
                refused.append(caught.value)

        result = await index.full_sync(plex, OWNER_TOKEN, progress=try_another)

        assert result.items == TOTAL
        assert refused[0].status == 409

    async def test_a_sync_whose_runner_died_is_taken_over(
        self, index: LibraryIndex, plex: PlexServerClient, db: Database
    ) -> None:
        await index.record_failure("full", "placeholder")
        async with db.unit_of_work() as session:
            await session.execute(
                sa.update(PlexSyncRun)
                .where(PlexSyncRun.id == SYNC_RUN_ID)
                .values(state="running", heartbeat_at=utc_now() - timedelta(minutes=11))
            )

        result = await index.full_sync(plex, OWNER_TOKEN)

        assert result.items == TOTAL

    async def test_a_sync_cut_off_by_a_stop_is_taken_over_where_one_process_runs_jobs(
        self, index: LibraryIndex, plex: PlexServerClient, db: Database
    ) -> None:
        # A stop cancels a sync mid-way and leaves its record `running`, heartbeat fresh.
        await index.record_failure("full", "placeholder")
        async with db.unit_of_work() as session:
            await session.execute(
                sa.update(PlexSyncRun)
                .where(PlexSyncRun.id == SYNC_RUN_ID)
                .values(state="running", heartbeat_at=utc_now())
            )
        with pytest.raises(SyncAlreadyRunning):  # others may run jobs: it might be alive
            await index.full_sync(plex, OWNER_TOKEN)

        result = await LibraryIndex(db, sole_runner=True).full_sync(plex, OWNER_TOKEN)

        assert result.items == TOTAL

    async def test_the_sole_runner_still_refuses_a_second_sync_of_its_own(
        self, db: Database, plex: PlexServerClient
    ) -> None:
        index = LibraryIndex(db, sole_runner=True)
        refused: list[Exception] = []

        async def try_another(done: int, total: int | None) -> None:
            if not refused:
                with pytest.raises(SyncAlreadyRunning) as caught:
                    await index.incremental_sync(plex, OWNER_TOKEN)
                refused.append(caught.value)

        await index.full_sync(plex, OWNER_TOKEN, progress=try_another)

        assert refused and refused[0].status == 409


async def _run_job(queue: JobQueue, name: str) -> Job:
    job_id = await queue.enqueue_now(name)
    async with asyncio.timeout(30):
        while True:
            job = await queue.get(job_id)
            if job is not None and job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
                return job
            await asyncio.sleep(0.05)


class TestJobs:
    @pytest.fixture
    async def queue(self, make_settings: SettingsFactory, db: Database) -> AsyncIterator[JobQueue]:
        q = JobQueue(make_settings(), db, Metrics())
        await q.start(consume=True)
        yield q
        await q.stop()

    async def test_syncs_run_as_queue_jobs(
        self, queue: JobQueue, index: LibraryIndex, plex: PlexServerClient, db: Database
    ) -> None:
        async def connect() -> tuple[PlexServerClient, str]:
            return plex, OWNER_TOKEN

        register_index_jobs(queue, index, connect)

        full = await _run_job(queue, SYNC_FULL)
        incremental = await _run_job(queue, SYNC_INCREMENTAL)

        assert full.status == JobStatus.SUCCEEDED, full.error
        assert full.result is not None
        assert (full.result["kind"], full.result["items"]) == ("full", TOTAL)
        assert incremental.status == JobStatus.SUCCEEDED, incremental.error
        assert incremental.result is not None and incremental.result["items"] == AT_WATERMARK
        assert await _counts(db) == COUNTS
        async with db.sessionmaker() as session:
            status = await index.sync_status(session)
        assert (status.state, status.kind) == ("idle", "incremental")

    async def test_a_job_fails_cleanly_when_plex_is_down(
        self,
        queue: JobQueue,
        index: LibraryIndex,
        plex: PlexServerClient,
        db: Database,
        fake: FakePlexServer,
    ) -> None:
        async def connect() -> tuple[PlexServerClient, str]:
            return plex, OWNER_TOKEN

        register_index_jobs(queue, index, connect)
        await asyncio.to_thread(fake.down)

        job = await _run_job(queue, SYNC_FULL)

        assert job.status == JobStatus.FAILED
        assert job.error is not None and "Plex is unreachable" in job.error
        async with db.sessionmaker() as session:
            status = await index.sync_status(session)
        assert (status.state, status.error) == ("failed", job.error)

    async def test_a_job_says_when_no_plex_server_is_connected(
        self, queue: JobQueue, index: LibraryIndex, db: Database
    ) -> None:
        message = "MediaNest is not connected to a Plex server yet."

        async def connect() -> tuple[PlexServerClient, str]:
            raise UpstreamUnavailable(PLEX_SERVER, message, misconfigured=True)

        register_index_jobs(queue, index, connect)

        job = await _run_job(queue, SYNC_INCREMENTAL)

        assert job.status == JobStatus.FAILED
        async with db.sessionmaker() as session:
            status = await index.sync_status(session)
        assert (status.state, status.kind, status.error) == ("failed", "incremental", message)
