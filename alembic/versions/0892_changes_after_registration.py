"""changes after registration: self-service cut-off, data freeze and refund rule per event;
refund owed per registration; ticket tokens revoked by a transfer

Revision ID: 0892
Revises: 0891
"""

import sqlalchemy as sa

from alembic import op

revision = "0892"
down_revision = "0891"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("changes_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("data_frozen", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.add_column(sa.Column("refund_rule", sa.Text(), server_default="", nullable=False))
        batch.add_column(sa.Column("refund_rule_en", sa.Text(), server_default="", nullable=False))
    with op.batch_alter_table("registrations") as batch:
        batch.add_column(sa.Column("refund_owed", sa.Integer(), server_default="0", nullable=False))
    op.create_table(
        "revoked_tickets",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("registration_id", BigId, nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["registrations.id"],
            name="fk_revoked_tickets_registration_id_registrations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_revoked_tickets"),
        sa.UniqueConstraint("token", name="uq_revoked_tickets_token"),
    )
    op.create_index("ix_revoked_tickets_registration_id", "revoked_tickets", ["registration_id"])


def downgrade() -> None:
    op.drop_index("ix_revoked_tickets_registration_id", table_name="revoked_tickets")
    op.drop_table("revoked_tickets")
    with op.batch_alter_table("registrations") as batch:
        batch.drop_column("refund_owed")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("refund_rule_en")
        batch.drop_column("refund_rule")
        batch.drop_column("data_frozen")
        batch.drop_column("changes_until")
