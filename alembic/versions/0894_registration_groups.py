"""registration groups: one leader, several runners, one combined amount with one unique code;
the event setting that sends members their own ticket

Revision ID: 0894
Revises: 0892
"""

import sqlalchemy as sa

from alembic import op

revision = "0894"
down_revision = "0892"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "registration_groups",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("event_id", BigId, nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("chat_id", sa.String(length=100), nullable=False),
        sa.Column("leader_name", sa.String(length=200), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("unique_code", sa.Integer(), nullable=False),
        sa.Column("amount_due", sa.Integer(), nullable=False),
        sa.Column("amount_key", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name="fk_registration_groups_event_id_events",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_registration_groups"),
    )
    op.create_index("ix_registration_groups_chat", "registration_groups", ["channel", "chat_id"])
    op.create_index(
        "ix_registration_groups_amount", "registration_groups", ["event_id", "amount_key"]
    )
    with op.batch_alter_table("registrations") as batch:
        batch.add_column(sa.Column("group_id", BigId, nullable=True))
        batch.create_index("ix_registrations_group_id", ["group_id"])
        batch.create_foreign_key(
            "fk_registrations_group_id_registration_groups",
            "registration_groups",
            ["group_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("events") as batch:
        batch.add_column(
            sa.Column(
                "group_tickets_to_members", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_column("group_tickets_to_members")
    with op.batch_alter_table("registrations") as batch:
        batch.drop_constraint("fk_registrations_group_id_registration_groups", type_="foreignkey")
        batch.drop_index("ix_registrations_group_id")
        batch.drop_column("group_id")
    op.drop_index("ix_registration_groups_amount", table_name="registration_groups")
    op.drop_index("ix_registration_groups_chat", table_name="registration_groups")
    op.drop_table("registration_groups")
