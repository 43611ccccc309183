"""WhatsApp Cloud API: delivery statuses on outbox rows, the event's WhatsApp provider.

Revision ID: 0201
Revises: 0301
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0201"
down_revision = "0301"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delivery_status", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("delivery_error", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True))
        # Meta's statuses name the message by its wamid: found by index, not by a scan.
        batch_op.create_index(
            "ix_outbound_provider_id", ["channel", "provider_message_id"], unique=False
        )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "whatsapp_provider", sa.String(length=20), nullable=False, server_default="fonnte"
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("whatsapp_provider")
    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_outbound_provider_id")
        batch_op.drop_column("delivered_at")
        batch_op.drop_column("delivery_error")
        batch_op.drop_column("delivery_status")
