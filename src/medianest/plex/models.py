"""The library index: a local copy of the owner's Plex libraries, and how its syncs are going.

`plex_items` holds every movie and show of the owner's movie and TV libraries, so "is TMDB id X
in Plex, and where" is one indexed query, and search and browsing keep working while Plex is
down. Its key is an integer, unlike MediaNest's UUID keys: no API exposes it (items are named by
their Plex `rating_key`), and SQLite's full-text table needs a stable integer rowid to point at.

The search structures have no model: on SQLite an FTS5 table kept in step with `search_text` by
triggers, on PostgreSQL a GIN index over `to_tsvector('simple', search_text)`. The migration
creates them, and `Base.metadata.info["unmodelled"]` tells schema comparison to leave them be.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from medianest.core.db import Base

FTS_TABLE = "plex_items_fts"
PG_SEARCH_INDEX = "ix_plex_items_search"
# The FTS5 table, the shadow tables SQLite keeps for it, and PostgreSQL's expression index.
SEARCH_OBJECTS = frozenset(
    {
        FTS_TABLE,
        *(f"{FTS_TABLE}_{shadow}" for shadow in ("data", "idx", "docsize", "config", "content")),
        PG_SEARCH_INDEX,
    }
)
Base.metadata.info.setdefault("unmodelled", set()).update(SEARCH_OBJECTS)

SYNC_RUN_ID = "library"


class PlexItem(Base):
    """One item of a Plex library, as the last sync saw it."""

    __tablename__ = "plex_items"
    __table_args__ = (
        Index("ix_plex_items_type_tmdb_id", "type", "tmdb_id"),
        Index("ix_plex_items_library_key_sort_title", "library_key", "sort_title"),
        Index("ix_plex_items_library_key_added_at", "library_key", "added_at"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    rating_key: Mapped[str] = mapped_column(String(), unique=True)
    library_key: Mapped[str] = mapped_column(String())
    library_title: Mapped[str] = mapped_column(String())
    type: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(Text())
    # Lower-case, accents removed, leading article dropped: one order on both engines.
    sort_title: Mapped[str] = mapped_column(Text())
    # The title's words, lower-case and without accents, as both engines' search reads them.
    search_text: Mapped[str] = mapped_column(Text())
    year: Mapped[int | None] = mapped_column(Integer())
    summary: Mapped[str] = mapped_column(Text(), default="")
    thumb: Mapped[str | None] = mapped_column(String())
    parent_rating_key: Mapped[str | None] = mapped_column(String())
    grandparent_rating_key: Mapped[str | None] = mapped_column(String())
    # Plex's own times: when the item was added to and last changed in the library.
    added_at: Mapped[datetime | None]
    updated_at: Mapped[datetime | None]
    tmdb_id: Mapped[int | None] = mapped_column(Integer())
    imdb_id: Mapped[str | None] = mapped_column(String(32))
    tvdb_id: Mapped[int | None] = mapped_column(Integer())
    duration: Mapped[int | None] = mapped_column(BigInteger())

    @property
    def external_ids(self) -> dict[str, int | str | None]:
        """The agencies' ids, shaped as `schemas.ExternalIds`."""
        return {"tmdb": self.tmdb_id, "imdb": self.imdb_id, "tvdb": self.tvdb_id}


class PlexSyncState(Base):
    """How far the index of one library is: its last full sync and its incremental watermark."""

    __tablename__ = "plex_sync_state"

    library_key: Mapped[str] = mapped_column(String(), primary_key=True)
    library_title: Mapped[str] = mapped_column(String())
    library_type: Mapped[str] = mapped_column(String(32))
    item_count: Mapped[int] = mapped_column(Integer(), default=0)
    last_full_sync_at: Mapped[datetime | None]
    last_incremental_sync_at: Mapped[datetime | None]
    # Plex's `updatedAt` of the newest change indexed: the next incremental sync asks for what
    # changed since. Plex's clock, not ours, so a skewed clock loses nothing.
    watermark: Mapped[datetime | None]


class PlexSyncRun(Base):
    """The one sync that is running, or the last one: what the admin page shows as progress.

    A single row (`id` is always `SYNC_RUN_ID`); claiming it is what keeps two syncs from
    running at once. `run_id` names the sync holding it, so a sync that lost it to another
    (after it stopped heart-beating) cannot overwrite the other's progress.
    """

    __tablename__ = "plex_sync_run"

    id: Mapped[str] = mapped_column(String(20), primary_key=True)
    run_id: Mapped[uuid.UUID | None]
    kind: Mapped[str] = mapped_column(String(20))
    # idle (last run succeeded, or none yet) | running | failed
    state: Mapped[str] = mapped_column(String(20))
    items_done: Mapped[int] = mapped_column(Integer(), default=0)
    items_total: Mapped[int | None] = mapped_column(Integer())
    started_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    last_succeeded_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text())
