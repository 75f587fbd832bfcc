"""The library index: every movie, show, artist and album of the owner's Plex libraries, kept in
MediaNest's database so "is TMDB id X in Plex, and where" is one indexed query and search and
browsing keep working while Plex is down.

A full sync reads every movie, TV and music library (Other Videos libraries are movie libraries;
a music library is read twice, its artists then its albums) page
after page, 200 items a page with no pause. Each batch of items is upserted (one statement run for
the whole batch) in a short transaction of its own while the next pages are read, so other
writers, SQLite's included, are never held up for the whole sync; then the sync forgets the items
of that library it did not see. An incremental sync asks each library only
for what changed since the newest `updatedAt` indexed (Plex's clock, so skew loses nothing) and
upserts it; Plex lists no deletions, so an item removed from Plex stays until the next full sync.

Seasons, episodes and tracks are not indexed: a show's or an album's page asks Plex for them, and
the index answers what the requests and search need (movies and shows; artists and albums, which
people look for by name). The parent columns are there for them: an album's parent is its artist.

One sync runs at a time, as its run record says (sync_runs.py); a sync that failed keeps
everything it indexed. The jobs that run syncs are in index_jobs.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Collection
from contextlib import aclosing
from datetime import datetime
from typing import Any, Literal, cast

import structlog
from sqlalchemy import (
    CursorResult,
    Table,
    delete,
    func,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert

from medianest.core.db import Database, utc_now
from medianest.core.schemas import ApiModel
from medianest.integrations.plex.server import PlexServerClient
from medianest.plex.index_search import fold, search_statement, short_summary, sort_title
from medianest.plex.models import SYNC_RUN_ID, PlexItem, PlexSyncRun, PlexSyncState
from medianest.plex.schemas import ExternalIds, ItemSort, ItemType, Library, LibraryItem, Page
from medianest.plex.sync_runs import (
    Progress,
    SyncKind,
    SyncResult,
    SyncRun,
    SyncRuns,
)

log = structlog.get_logger(__name__)

INDEXED_LIBRARY_TYPES = frozenset({"movie", "show", "artist"})
# What is indexed of a library besides its own items (movies, shows, artists).
NESTED: dict[str, tuple[ItemType, ...]] = {"artist": ("album",)}
NESTED_TYPES = frozenset(kind for kinds in NESTED.values() for kind in kinds)
# Items per upsert and per progress update: a few pages, so the run record stays current
# without a write per page.
BATCH = 500
MAX_PAGE_SIZE = 200
MAX_SEARCH_RESULTS = 500
_DELETE_CHUNK = 500

MediaType = Literal["movie", "tv"]

_SORTS = {
    "titleSort": PlexItem.sort_title,
    "addedAt": PlexItem.added_at,
    "updatedAt": PlexItem.updated_at,
    "year": PlexItem.year,
}
# A library's own items, as Plex lists the library: what it counts and browses.
_OWN_ITEMS = PlexItem.type.not_in(sorted(NESTED_TYPES))
# Everything a sync writes but the key it matches on.
_SYNCED = [c.name for c in PlexItem.__table__.columns if c.name not in ("id", "rating_key")]


class IndexedItem(ApiModel):
    """A movie, show, artist or album as the library index holds it."""

    rating_key: str
    library_key: str
    library_title: str
    type: str
    title: str
    year: int | None = None
    summary: str = ""
    thumb: str | None = None
    duration: int | None = None
    parent_rating_key: str | None = None
    grandparent_rating_key: str | None = None
    added_at: datetime | None = None
    updated_at: datetime | None = None
    external_ids: ExternalIds


class LibrarySyncStatus(ApiModel):
    library_key: str
    library_title: str
    library_type: str
    item_count: int
    last_full_sync_at: datetime | None = None
    last_incremental_sync_at: datetime | None = None


class SyncStatus(ApiModel):
    """The current or last sync, and how current each library's index is."""

    state: Literal["idle", "running", "failed"] = "idle"
    kind: SyncKind | None = None
    items_done: int = 0
    items_total: int | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    # "showing the library as of ...": when the index last finished a sync.
    last_succeeded_at: datetime | None = None
    error: str | None = None
    libraries: list[LibrarySyncStatus] = []


class LibraryIndex:
    def __init__(self, db: Database, *, sole_runner: bool = False) -> None:
        """`sole_runner`: this process is the only one that runs sync jobs (the embedded queue),
        so a run recorded as `running` while none runs here was cut off by a stop."""
        self._db = db
        self._upserts: dict[str, Insert] = {}
        self.runs = SyncRuns(db, sole_runner=sole_runner)

    # Syncs

    async def full_sync(
        self, client: PlexServerClient, token: str, *, progress: Progress | None = None
    ) -> SyncResult:
        """Index every item of the owner's movie and TV libraries and forget what Plex no
        longer has (libraries included).

        Raises `SyncAlreadyRunning`, and what the client raises when Plex fails
        (`UpstreamUnavailable`, `UpstreamTimeout`): the run is then recorded as failed, and what
        was indexed before stays.
        """
        async with self.runs.running("full", progress) as run:
            found = await client.libraries(token=token, include_counts=True)
            libraries = [lib for lib in found if lib.type in INDEXED_LIBRARY_TYPES]
            nested = await asyncio.gather(
                *(
                    client.library_size(lib.key, token=token, type=kind)
                    for lib in libraries
                    for kind in NESTED.get(lib.type, ())
                )
            )
            run.items_total = sum(lib.item_count or 0 for lib in libraries) + sum(nested)
            for library in libraries:
                await self._sync_library(client, token, library, run, full=True)
            run.removed += await self._forget_libraries({lib.key for lib in libraries}, run)
            await self._refresh_statistics()
            return run.result()

    async def incremental_sync(
        self, client: PlexServerClient, token: str, *, progress: Progress | None = None
    ) -> SyncResult:
        """Index the items added or changed in Plex since the last sync. A library never
        synced in full is read whole; removals wait for the next full sync.

        Raises as `full_sync` does.
        """
        async with self.runs.running("incremental", progress) as run:
            found = await client.libraries(token=token)
            for library in found:
                if library.type in INDEXED_LIBRARY_TYPES:
                    await self._sync_library(client, token, library, run, full=False)
            return run.result()

    async def record_failure(self, kind: SyncKind, message: str) -> None:
        """Show a sync that could not even start (Plex not connected) as failed, unless
        another sync is running."""
        await self.runs.record_failure(kind, message)

    # Reads

    async def find_by_tmdb(
        self, session: AsyncSession, tmdb_id: int, media_type: MediaType
    ) -> list[IndexedItem]:
        """Where the movie or TV show with this TMDB id is in Plex: one row per library."""
        item_type = "movie" if media_type == "movie" else "show"
        rows = await session.scalars(
            select(PlexItem)
            .where(PlexItem.type == item_type, PlexItem.tmdb_id == tmdb_id)
            .order_by(PlexItem.library_key)
        )
        return [IndexedItem.model_validate(row) for row in rows]

    async def in_plex(
        self, session: AsyncSession, titles: Collection[tuple[MediaType, int]]
    ) -> dict[tuple[MediaType, int], str]:
        """Which of these (media type, TMDB id) are in Plex, each with the rating key of one
        place it is; one indexed query for a whole page of titles."""
        if not titles:
            return {}
        ids = {tmdb_id for _, tmdb_id in titles}
        rows = await session.execute(
            select(PlexItem.type, PlexItem.tmdb_id, func.min(PlexItem.rating_key))
            .where(PlexItem.tmdb_id.in_(ids), PlexItem.type.in_(("movie", "show")))
            .group_by(PlexItem.type, PlexItem.tmdb_id)
        )
        found: dict[tuple[MediaType, int], str] = {}
        for item_type, tmdb_id, rating_key in rows:
            media_type: MediaType = "movie" if item_type == "movie" else "tv"
            if tmdb_id is not None and (media_type, tmdb_id) in titles:
                found[(media_type, tmdb_id)] = rating_key
        return found

    async def get_item(self, session: AsyncSession, rating_key: str) -> IndexedItem | None:
        row = await session.scalar(select(PlexItem).where(PlexItem.rating_key == rating_key))
        return None if row is None else IndexedItem.model_validate(row)

    async def search(
        self,
        session: AsyncSession,
        query: str,
        *,
        limit: int = 20,
        library_keys: Collection[str] | None = None,
    ) -> list[IndexedItem]:
        """Titles holding a word beginning with each word of `query`, best first, from the
        libraries in `library_keys` only (None: all). Raises `ValueError` for a limit outside
        1..500."""
        if not 1 <= limit <= MAX_SEARCH_RESULTS:
            raise ValueError(f"a search returns 1..{MAX_SEARCH_RESULTS} items")
        if library_keys is not None and not library_keys:
            return []
        statement = search_statement(
            _dialect(session), query, limit=limit, library_keys=library_keys
        )
        if statement is None:
            return []
        return [IndexedItem.model_validate(row) for row in await session.scalars(statement)]

    async def browse(
        self,
        session: AsyncSession,
        library_key: str,
        *,
        page: int = 1,
        page_size: int = 50,
        sort: ItemSort = "titleSort:asc",
        type: str | None = None,
    ) -> Page[IndexedItem]:
        """One page (from 1) of a library's items of `type` (None: its own items, as Plex
        lists them: a music library's artists, not its albums), in the orders Plex lists it
        in. Raises `ValueError` for a page below 1 or a size outside 1..200."""
        if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"pages start at 1 and hold 1..{MAX_PAGE_SIZE} items")
        name, _, direction = sort.partition(":")
        column = _SORTS[name]
        order = (column.desc() if direction == "desc" else column.asc()).nulls_last()
        of_type = PlexItem.type == type if type is not None else _OWN_ITEMS
        in_library = (PlexItem.library_key == library_key) & of_type
        total = await session.scalar(select(func.count()).select_from(PlexItem).where(in_library))
        offset = (page - 1) * page_size
        rows = await session.scalars(
            select(PlexItem)
            .where(in_library)
            .order_by(order, PlexItem.sort_title, PlexItem.id)
            .offset(offset)
            .limit(page_size)
        )
        items = [IndexedItem.model_validate(row) for row in rows]
        return Page(items=items, offset=offset, total_size=total or 0)

    async def recently_added(
        self, session: AsyncSession, *, limit: int = 20, library_keys: Collection[str] | None = None
    ) -> list[IndexedItem]:
        """The newest additions to the libraries in `library_keys` (None: all), newest first:
        as Plex lists them, a music library's albums rather than their artists."""
        if not 1 <= limit <= MAX_SEARCH_RESULTS:
            raise ValueError(f"a list holds 1..{MAX_SEARCH_RESULTS} items")
        statement = select(PlexItem).where(PlexItem.type != "artist")
        if library_keys is not None:
            statement = statement.where(PlexItem.library_key.in_(sorted(library_keys)))
        rows = await session.scalars(
            statement.order_by(PlexItem.added_at.desc().nulls_last(), PlexItem.id.desc()).limit(
                limit
            )
        )
        return [IndexedItem.model_validate(row) for row in rows]

    async def libraries(self, session: AsyncSession) -> list[LibrarySyncStatus]:
        """The libraries indexed, by key."""
        states = await session.scalars(select(PlexSyncState).order_by(PlexSyncState.library_key))
        return [LibrarySyncStatus.model_validate(state) for state in states]

    async def indexed_at(self, session: AsyncSession) -> datetime | None:
        """When what the index holds was last brought up to date: the last sync that finished,
        else (every sync so far failed part-way) the newest library finished. None while the
        index holds nothing."""
        run = await session.get(PlexSyncRun, SYNC_RUN_ID)
        if run is not None and run.last_succeeded_at is not None:
            return run.last_succeeded_at
        newest = await session.execute(
            select(
                func.max(PlexSyncState.last_full_sync_at),
                func.max(PlexSyncState.last_incremental_sync_at),
            )
        )
        times = [t for t in newest.one() if t is not None]
        return max(times) if times else None

    async def sync_status(self, session: AsyncSession) -> SyncStatus:
        run = await session.get(PlexSyncRun, SYNC_RUN_ID)
        libraries = await self.libraries(session)
        status = SyncStatus() if run is None else SyncStatus.model_validate(run)
        return status.model_copy(update={"libraries": libraries})

    # One library

    async def _sync_library(
        self, client: PlexServerClient, token: str, library: Library, run: SyncRun, *, full: bool
    ) -> None:
        since: datetime | None = None
        if not full:
            async with self._db.sessionmaker() as session:
                state = await session.get(PlexSyncState, library.key)
            since = state.watermark if state is not None else None
            full = since is None
        seen: set[str] = set()
        newest: datetime | None = None
        for kind in (None, *NESTED.get(library.type, ())):
            items = client.iter_library_items(
                library.key, token=token, page_size=MAX_PAGE_SIZE, updated_since=since, type=kind
            )
            # An async generator: closed at once when the sync fails, its next page left unread.
            found, latest = await self._index(
                cast(AsyncGenerator[LibraryItem, None], items), library, run
            )
            seen |= found
            if latest is not None and (newest is None or latest > newest):
                newest = latest
        async with self._db.unit_of_work() as session:
            removed = await self._forget_unseen(session, library.key, seen) if full else 0
            run.removed += removed
            changed = await self._save_state(session, library, full=full, newest=newest)
        run.libraries += 1
        if changed or removed:
            run.changed.add(library.key)

    async def _index(
        self, items: AsyncGenerator[LibraryItem, None], library: Library, run: SyncRun
    ) -> tuple[set[str], datetime | None]:
        """Upsert `items` batch by batch; returns their keys and the newest `updatedAt`.

        Each batch is written while the next is read, so Plex and the database work at once.
        """
        seen: set[str] = set()
        batch: dict[str, dict[str, Any]] = {}
        newest: datetime | None = None
        writing: asyncio.Future[None] | None = None
        try:
            async with aclosing(items):
                async for item in items:
                    # A key met twice (an item pushed across a page boundary) is written once.
                    batch[item.rating_key] = _row(item, library)
                    if item.updated_at is not None and (newest is None or item.updated_at > newest):
                        newest = item.updated_at
                    if len(batch) >= BATCH:
                        if writing is not None:
                            await writing
                        writing = asyncio.ensure_future(self._write(list(batch.values()), run))
                        seen.update(batch)
                        batch = {}
            if writing is not None:
                await writing
            if batch:
                await self._write(list(batch.values()), run)
                seen.update(batch)
        finally:
            # Plex failing mid-read: the batch already on its way is still saved.
            if writing is not None:
                await asyncio.gather(writing, return_exceptions=True)
        return seen, newest

    async def _write(self, batch: list[dict[str, Any]], run: SyncRun) -> None:
        async with self._db.unit_of_work() as session:
            await session.execute(self._upsert(_dialect(session)), batch)
            run.items_done += len(batch)
            await self.runs.heartbeat(session, run)
        if run.progress is not None:
            await run.progress(run.items_done, run.items_total)

    def _upsert(self, dialect: str) -> Insert:
        if dialect not in self._upserts:
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            statement = insert(cast(Table, PlexItem.__table__))
            changed = {name: statement.excluded[name] for name in _SYNCED}
            self._upserts[dialect] = statement.on_conflict_do_update(
                index_elements=["rating_key"], set_=changed
            )
        return self._upserts[dialect]

    async def _forget_unseen(self, session: AsyncSession, library_key: str, seen: set[str]) -> int:
        indexed = await session.scalars(
            select(PlexItem.rating_key).where(PlexItem.library_key == library_key)
        )
        gone = sorted(set(indexed) - seen)
        for start in range(0, len(gone), _DELETE_CHUNK):
            chunk = gone[start : start + _DELETE_CHUNK]
            await session.execute(delete(PlexItem).where(PlexItem.rating_key.in_(chunk)))
        if gone:
            log.info("plex.index_items_removed", library=library_key, items=len(gone))
        return len(gone)

    async def _forget_libraries(self, keep: set[str], run: SyncRun) -> int:
        async with self._db.unit_of_work() as session:
            gone = await session.scalars(
                select(PlexSyncState.library_key).where(PlexSyncState.library_key.not_in(keep))
            )
            run.changed.update(gone)
            removed = await session.execute(
                delete(PlexItem).where(PlexItem.library_key.not_in(keep))
            )
            await session.execute(
                delete(PlexSyncState).where(PlexSyncState.library_key.not_in(keep))
            )
        return int(cast(CursorResult[Any], removed).rowcount or 0)

    async def _refresh_statistics(self) -> None:
        # A table that just grew from nothing to 100,000 rows: with the statistics of the empty
        # one, PostgreSQL filters every row by library instead of using the search index.
        async with self._db.unit_of_work() as session:
            await session.execute(text(f"ANALYZE {PlexItem.__tablename__}"))

    async def _save_state(
        self, session: AsyncSession, library: Library, *, full: bool, newest: datetime | None
    ) -> bool:
        """Record the sync of `library`; returns whether its titles changed since the last.

        A sync reads titles again that did not change (a full one, all of them): the library
        changed only when it is new, its count moved, or a title is newer than the watermark.
        """
        now = utc_now()
        count = await session.scalar(
            select(func.count())
            .select_from(PlexItem)
            .where(PlexItem.library_key == library.key, _OWN_ITEMS)
        )
        state = await session.get(PlexSyncState, library.key)
        changed = (
            state is None
            or state.item_count != (count or 0)
            or (newest is not None and (state.watermark is None or newest > state.watermark))
        )
        if state is None:
            state = PlexSyncState(library_key=library.key)
            session.add(state)
        state.library_title = library.title
        state.library_type = library.type
        state.item_count = count or 0
        if full:
            state.last_full_sync_at = now
            state.watermark = newest
        else:
            state.last_incremental_sync_at = now
            if newest is not None and (state.watermark is None or newest > state.watermark):
                state.watermark = newest
        return changed


def _row(item: LibraryItem, library: Library) -> dict[str, Any]:
    folded = fold(item.title)
    ids = item.external_ids
    return {
        "rating_key": item.rating_key,
        "library_key": library.key,
        "library_title": library.title,
        "type": item.type[:32],
        "title": item.title,
        "sort_title": sort_title(folded),
        "search_text": folded,
        "year": item.year,
        "summary": short_summary(item.summary),
        "thumb": item.thumb,
        "parent_rating_key": item.parent_rating_key,
        "grandparent_rating_key": None,
        "added_at": item.added_at,
        "updated_at": item.updated_at,
        "tmdb_id": _agency_id(ids.tmdb),
        "imdb_id": (ids.imdb or "")[:32] or None,
        "tvdb_id": _agency_id(ids.tvdb),
        "duration": item.duration,
    }


def _agency_id(value: int | None) -> int | None:
    # An id no agency hands out (a mangled Guid) must not cost the whole batch its upsert.
    return value if value is not None and 0 < value < 2**31 else None


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name
