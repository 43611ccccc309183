"""refunds owed to runners (cancellation, cheaper category, overpayment) and their settlement

Revision ID: 0901
Revises: 0894
"""

import sqlalchemy as sa

from alembic import op

revision = "0901"
down_revision = "0894"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "refunds",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("event_id", BigId, nullable=False),
        sa.Column("registration_id", BigId, nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("refunded_amount", sa.Integer(), nullable=True),
        sa.Column("refunded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refunded_by", sa.String(length=200), nullable=True),
        sa.Column("reference", sa.String(length=100), server_default="", nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name="fk_refunds_event_id_events", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["registrations.id"],
            name="fk_refunds_registration_id_registrations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_refunds"),
    )
    op.create_index("ix_refunds_event_id", "refunds", ["event_id"])
    op.create_index("ix_refunds_registration_id", "refunds", ["registration_id"])
    op.create_index("ix_refunds_status", "refunds", ["status"])
    # Refunds noted before this table existed (a cheaper category after paying) stay owed.
    op.execute(
        "INSERT INTO refunds (event_id, registration_id, amount, reason, status, reference, note,"
        " created_at) SELECT event_id, id, refund_owed, 'downgrade', 'owed', '', '', CURRENT_TIMESTAMP"
        " FROM registrations WHERE refund_owed > 0"
    )


def downgrade() -> None:
    op.drop_index("ix_refunds_status", table_name="refunds")
    op.drop_index("ix_refunds_registration_id", table_name="refunds")
    op.drop_index("ix_refunds_event_id", table_name="refunds")
    op.drop_table("refunds")
