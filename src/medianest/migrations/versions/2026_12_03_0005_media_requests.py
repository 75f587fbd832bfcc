"""media requests, their claims, followers and history, and who each user is in Overseerr

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import medianest.core.db

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "media_requests",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("media_type", sa.String(length=10), nullable=False),
        sa.Column("tmdb_id", sa.Integer(), nullable=False),
        sa.Column("tvdb_id", sa.Integer(), nullable=True),
        sa.Column("is_4k", sa.Boolean(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("poster_path", sa.String(length=300), nullable=True),
        sa.Column("seasons", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("overseerr_id", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column(
            "upstream_updated_at", medianest.core.db.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", medianest.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", medianest.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_media_requests_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_requests")),
        sa.UniqueConstraint("overseerr_id", name=op.f("uq_media_requests_overseerr_id")),
    )
    with op.batch_alter_table("media_requests", schema=None) as batch_op:
        batch_op.create_index(
            "ix_media_requests_media_type_tmdb_id", ["media_type", "tmdb_id"], unique=False
        )
        batch_op.create_index(
            "ix_media_requests_status_created_at", ["status", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_media_requests_user_id_created_at", ["user_id", "created_at"], unique=False
        )

    op.create_table(
        "overseerr_accounts",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("overseerr_id", sa.Integer(), nullable=False),
        sa.Column("permissions", sa.BigInteger(), nullable=False),
        sa.Column("checked_at", medianest.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_overseerr_accounts_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_overseerr_accounts")),
    )
    op.create_table(
        "request_claims",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["media_requests.id"],
            name=op.f("fk_request_claims_request_id_media_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_request_claims")),
    )
    with op.batch_alter_table("request_claims", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_request_claims_request_id"), ["request_id"], unique=False
        )

    op.create_table(
        "request_events",
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("at", medianest.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["media_requests.id"],
            name=op.f("fk_request_events_request_id_media_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_events")),
    )
    with op.batch_alter_table("request_events", schema=None) as batch_op:
        batch_op.create_index("ix_request_events_request_id_at", ["request_id", "at"], unique=False)

    op.create_table(
        "request_followers",
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", medianest.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["media_requests.id"],
            name=op.f("fk_request_followers_request_id_media_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_request_followers_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("request_id", "user_id", name=op.f("pk_request_followers")),
    )
    with op.batch_alter_table("request_followers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_request_followers_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("request_followers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_request_followers_user_id"))

    op.drop_table("request_followers")
    with op.batch_alter_table("request_events", schema=None) as batch_op:
        batch_op.drop_index("ix_request_events_request_id_at")

    op.drop_table("request_events")
    with op.batch_alter_table("request_claims", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_request_claims_request_id"))

    op.drop_table("request_claims")
    op.drop_table("overseerr_accounts")
    with op.batch_alter_table("media_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_media_requests_user_id_created_at")
        batch_op.drop_index("ix_media_requests_status_created_at")
        batch_op.drop_index("ix_media_requests_media_type_tmdb_id")

    op.drop_table("media_requests")
