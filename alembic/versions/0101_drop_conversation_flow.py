"""drop conversations.flow (never read: there is one flow, the runtime does not dispatch on it)

Revision ID: 0101
Revises: 0001
"""

import sqlalchemy as sa

from alembic import op

revision = "0101"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # batch mode: SQLite rebuilds the table, PostgreSQL issues a plain ALTER TABLE.
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("flow")


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(
            sa.Column("flow", sa.String(length=40), nullable=False, server_default="registration")
        )
