"""waiting list per category (and jersey size); per-event hold time of an offered slot

Revision ID: 0891
Revises: 0861
"""

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision = "0891"
down_revision = "0861"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTCDateTime = sa.DateTime  # core.db.UTCDateTime stores DateTime(timezone=True)
JSONType = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(
            sa.Column("waitlist_hold_hours", sa.Integer(), server_default="12", nullable=False)
        )
    op.create_table(
        "waitlist_entries",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("event_id", BigId, nullable=False),
        sa.Column("category_id", BigId, nullable=False),
        sa.Column("jersey_size", sa.String(length=10), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("chat_id", sa.String(length=100), nullable=False),
        sa.Column("conversation_id", BigId, nullable=True),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("answers", JSONType, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("offered_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("hold_until", UTCDateTime(timezone=True), nullable=True),
        sa.Column("held_jersey", sa.String(length=10), nullable=True),
        sa.Column("registration_id", BigId, nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name="fk_waitlist_entries_event_id_events",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["category_id"], ["categories.id"],
            name="fk_waitlist_entries_category_id_categories", ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"], ["conversations.id"],
            name="fk_waitlist_entries_conversation_id_conversations", ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"], ["registrations.id"],
            name="fk_waitlist_entries_registration_id_registrations", ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_waitlist_entries"),
    )  # fmt: skip
    op.create_index("ix_waitlist_entries_event_id", "waitlist_entries", ["event_id"])
    op.create_index(
        "ix_waitlist_entries_queue", "waitlist_entries", ["category_id", "status", "position"]
    )
    op.create_index("ix_waitlist_entries_chat", "waitlist_entries", ["channel", "chat_id"])
    op.create_index("ix_waitlist_entries_hold", "waitlist_entries", ["status", "hold_until"])


def downgrade() -> None:
    op.drop_table("waitlist_entries")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("waitlist_hold_hours")
