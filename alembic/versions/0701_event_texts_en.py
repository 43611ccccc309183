"""event texts in English: venue and race-pack pickup info as the organiser writes them in English

Empty English texts fall back to the Indonesian ones.

Revision ID: 0701
Revises: 0201
"""

import sqlalchemy as sa

from alembic import op

revision = "0701"
down_revision = "0201"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(
            sa.Column("venue_en", sa.String(length=200), server_default="", nullable=False)
        )
        batch.add_column(sa.Column("pickup_info_en", sa.Text(), server_default="", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_column("pickup_info_en")
        batch.drop_column("venue_en")
