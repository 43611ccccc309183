"""broadcasts: a message to a segment of runners, its recipients, and the chats that said STOP

Revision ID: 0851
Revises: 0831
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0851"
down_revision = "0831"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Stamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "broadcasts",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("event_id", BigId, nullable=False),
        sa.Column("segment", sa.String(length=40), nullable=False),
        sa.Column("segment_arg", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("image_path", sa.String(length=300), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("cursor", sa.Integer(), nullable=False),
        sa.Column("written", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("finished_at", Stamp, nullable=True),
        sa.Column("updated_at", Stamp, nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name="fk_broadcasts_event_id_events", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_broadcasts"),
    )
    op.create_table(
        "broadcast_recipients",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("broadcast_id", BigId, nullable=False),
        sa.Column("registration_id", BigId, nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("chat_id", sa.String(length=100), nullable=False),
        sa.Column("outbound_id", BigId, nullable=True),
        sa.Column("skipped", sa.String(length=20), nullable=True),
        sa.Column("created_at", Stamp, nullable=False),
        sa.ForeignKeyConstraint(
            ["broadcast_id"], ["broadcasts.id"],
            name="fk_broadcast_recipients_broadcast_id_broadcasts", ondelete="CASCADE",
        ),  # fmt: skip
        sa.ForeignKeyConstraint(
            ["registration_id"], ["registrations.id"],
            name="fk_broadcast_recipients_registration_id_registrations", ondelete="SET NULL",
        ),  # fmt: skip
        sa.ForeignKeyConstraint(
            ["outbound_id"], ["outbound_messages.id"],
            name="fk_broadcast_recipients_outbound_id_outbound_messages", ondelete="SET NULL",
        ),  # fmt: skip
        sa.PrimaryKeyConstraint("id", name="pk_broadcast_recipients"),
        sa.UniqueConstraint(
            "broadcast_id", "channel", "chat_id",
            name="uq_broadcast_recipients_broadcast_id_channel_chat_id",
        ),  # fmt: skip
    )
    op.create_table(
        "broadcast_optouts",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("chat_id", sa.String(length=100), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("created_at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_broadcast_optouts"),
        sa.UniqueConstraint("channel", "chat_id", name="uq_broadcast_optouts_channel_chat_id"),
    )
    op.create_index("ix_broadcast_optouts_phone", "broadcast_optouts", ["phone"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_broadcast_optouts_phone", table_name="broadcast_optouts")
    op.drop_table("broadcast_optouts")
    op.drop_table("broadcast_recipients")
    op.drop_table("broadcasts")
