"""status: each service's current state, its heartbeats and hourly rollups; leases

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import medianest.core.db

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("expires_at", medianest.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )
    op.create_table(
        "service_heartbeats",
        sa.Column("service_id", sa.String(length=200), nullable=False),
        sa.Column("at", medianest.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("response_ms", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("service_id", "at", name=op.f("pk_service_heartbeats")),
    )
    with op.batch_alter_table("service_heartbeats", schema=None) as batch_op:
        batch_op.create_index("ix_service_heartbeats_at", ["at"], unique=False)

    op.create_table(
        "service_rollups",
        sa.Column("service_id", sa.String(length=200), nullable=False),
        sa.Column("hour", medianest.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("up", sa.Integer(), nullable=False),
        sa.Column("down", sa.Integer(), nullable=False),
        sa.Column("degraded", sa.Integer(), nullable=False),
        sa.Column("maintenance", sa.Integer(), nullable=False),
        sa.Column("response_sum", sa.Float(), nullable=False),
        sa.Column("response_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("service_id", "hour", name=op.f("pk_service_rollups")),
    )
    with op.batch_alter_table("service_rollups", schema=None) as batch_op:
        batch_op.create_index("ix_service_rollups_hour", ["hour"], unique=False)

    op.create_table(
        "service_states",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("group_key", sa.String(length=200), nullable=False),
        sa.Column("group_title", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("since", medianest.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_check_at", medianest.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("response_ms", sa.Float(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("url", sa.String(length=2000), nullable=True),
        sa.Column("uptime_24h", sa.Float(), nullable=True),
        sa.Column("uptime_7d", sa.Float(), nullable=True),
        sa.Column("uptime_30d", sa.Float(), nullable=True),
        sa.Column("uptime_at", medianest.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("down_since", medianest.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_beat_at", medianest.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", medianest.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_states")),
    )


def downgrade() -> None:
    op.drop_table("service_states")
    with op.batch_alter_table("service_rollups", schema=None) as batch_op:
        batch_op.drop_index("ix_service_rollups_hour")

    op.drop_table("service_rollups")
    with op.batch_alter_table("service_heartbeats", schema=None) as batch_op:
        batch_op.drop_index("ix_service_heartbeats_at")

    op.drop_table("service_heartbeats")
    op.drop_table("leases")
