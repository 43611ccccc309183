"""staff language: the admin's language per staff member

Revision ID: 0601
Revises: 0101
"""

import sqlalchemy as sa
from alembic import op

revision = "0601"
down_revision = "0101"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("admin_users") as batch:
        batch.add_column(sa.Column("language", sa.String(length=5), server_default="id", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("admin_users") as batch:
        batch.drop_column("language")
