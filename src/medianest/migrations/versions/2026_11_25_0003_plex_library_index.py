"""the Plex library index: items, per-library sync state, the sync run, full-text search

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25

Search has no model: SQLite gets an external-content FTS5 table over `plex_items.search_text`,
kept in step by triggers; PostgreSQL a GIN index over `to_tsvector('simple', search_text)`
(`search_text` is already folded to lower case without accents, so neither unaccent nor any
other extension is needed). A later migration that rebuilds `plex_items` in SQLite's batch mode
drops the triggers with the old table and must create them again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import medianest.core.db

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SQLITE_SEARCH = [
    """
    CREATE VIRTUAL TABLE plex_items_fts USING fts5(
        search_text,
        content='plex_items',
        content_rowid='id',
        tokenize='unicode61 remove_diacritics 2',
        prefix='2 3'
    )
    """,
    """
    CREATE TRIGGER plex_items_fts_insert AFTER INSERT ON plex_items BEGIN
        INSERT INTO plex_items_fts (rowid, search_text) VALUES (new.id, new.search_text);
    END
    """,
    """
    CREATE TRIGGER plex_items_fts_delete AFTER DELETE ON plex_items BEGIN
        INSERT INTO plex_items_fts (plex_items_fts, rowid, search_text)
        VALUES ('delete', old.id, old.search_text);
    END
    """,
    # A sync rewrites every row; only a changed title costs the full-text index anything.
    """
    CREATE TRIGGER plex_items_fts_update AFTER UPDATE OF search_text ON plex_items
    WHEN old.search_text IS NOT new.search_text BEGIN
        INSERT INTO plex_items_fts (plex_items_fts, rowid, search_text)
        VALUES ('delete', old.id, old.search_text);
        INSERT INTO plex_items_fts (rowid, search_text) VALUES (new.id, new.search_text);
    END
    """,
]

_SQLITE_SEARCH_DROP = [
    "DROP TRIGGER IF EXISTS plex_items_fts_update",
    "DROP TRIGGER IF EXISTS plex_items_fts_delete",
    "DROP TRIGGER IF EXISTS plex_items_fts_insert",
    "DROP TABLE IF EXISTS plex_items_fts",
]

_PG_SEARCH = (
    "CREATE INDEX ix_plex_items_search ON plex_items "
    "USING gin (to_tsvector('simple'::regconfig, search_text))"
)


def upgrade() -> None:
    op.create_table(
        "plex_items",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("rating_key", sa.String(), nullable=False),
        sa.Column("library_key", sa.String(), nullable=False),
        sa.Column("library_title", sa.String(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("sort_title", sa.Text(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("thumb", sa.String(), nullable=True),
        sa.Column("parent_rating_key", sa.String(), nullable=True),
        sa.Column("grandparent_rating_key", sa.String(), nullable=True),
        sa.Column("added_at", medianest.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", medianest.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("tmdb_id", sa.Integer(), nullable=True),
        sa.Column("imdb_id", sa.String(length=32), nullable=True),
        sa.Column("tvdb_id", sa.Integer(), nullable=True),
        sa.Column("duration", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plex_items")),
        sa.UniqueConstraint("rating_key", name=op.f("uq_plex_items_rating_key")),
    )
    op.create_index("ix_plex_items_type_tmdb_id", "plex_items", ["type", "tmdb_id"])
    op.create_index(
        "ix_plex_items_library_key_sort_title", "plex_items", ["library_key", "sort_title"]
    )
    op.create_index("ix_plex_items_library_key_added_at", "plex_items", ["library_key", "added_at"])

    op.create_table(
        "plex_sync_state",
        sa.Column("library_key", sa.String(), nullable=False),
        sa.Column("library_title", sa.String(), nullable=False),
        sa.Column("library_type", sa.String(length=32), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("last_full_sync_at", medianest.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "last_incremental_sync_at", medianest.core.db.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("watermark", medianest.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("library_key", name=op.f("pk_plex_sync_state")),
    )

    op.create_table(
        "plex_sync_run",
        sa.Column("id", sa.String(length=20), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("items_done", sa.Integer(), nullable=False),
        sa.Column("items_total", sa.Integer(), nullable=True),
        sa.Column("started_at", medianest.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", medianest.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", medianest.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_succeeded_at", medianest.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plex_sync_run")),
    )

    if op.get_context().dialect.name == "sqlite":
        for statement in _SQLITE_SEARCH:
            op.execute(statement)
    else:
        op.execute(_PG_SEARCH)


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        for statement in _SQLITE_SEARCH_DROP:
            op.execute(statement)
    else:
        op.execute("DROP INDEX IF EXISTS ix_plex_items_search")
    op.drop_table("plex_sync_run")
    op.drop_table("plex_sync_state")
    op.drop_index("ix_plex_items_library_key_added_at", table_name="plex_items")
    op.drop_index("ix_plex_items_library_key_sort_title", table_name="plex_items")
    op.drop_index("ix_plex_items_type_tmdb_id", table_name="plex_items")
    op.drop_table("plex_items")
