"""notifications: the once-per-person constraint keyed (dedup_key, user_id)

An event's notifications (one per person told, all with the same key) then sit side by side in
the constraint's index, so a batch of events writes a few of its pages instead of one page per
person per event.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_constraint("uq_notifications_user_id_dedup_key", type_="unique")
        batch_op.create_unique_constraint(
            op.f("uq_notifications_dedup_key_user_id"), ["dedup_key", "user_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_constraint("uq_notifications_dedup_key_user_id", type_="unique")
        batch_op.create_unique_constraint(
            op.f("uq_notifications_user_id_dedup_key"), ["user_id", "dedup_key"]
        )
