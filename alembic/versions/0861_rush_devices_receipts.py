"""rush: the Fonnte device a conversation writes to; delivery statuses parked before their message id

Revision ID: 0861
Revises: 0811
"""

import sqlalchemy as sa

from alembic import op

revision = "0861"
down_revision = "0811"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("device", sa.String(length=32), nullable=True))
    op.create_table(
        "early_receipts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("message_id", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_early_receipts")),
    )
    op.create_index(
        "ix_early_receipts_message", "early_receipts", ["channel", "message_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_early_receipts_message", table_name="early_receipts")
    op.drop_table("early_receipts")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("device")
