"""broadcasts: the announcements administrators send everyone, live until expired or withdrawn

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import medianest.core.db

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "broadcasts",
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("severity", sa.String(length=20), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", medianest.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", medianest.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_at", medianest.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_broadcasts_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_broadcasts")),
    )
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.create_index("ix_broadcasts_created_at", ["created_at"], unique=False)
        batch_op.create_index(
            "ix_broadcasts_withdrawn_at_expires_at", ["withdrawn_at", "expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.drop_index("ix_broadcasts_withdrawn_at_expires_at")
        batch_op.drop_index("ix_broadcasts_created_at")

    op.drop_table("broadcasts")
