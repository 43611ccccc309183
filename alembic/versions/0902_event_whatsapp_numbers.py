"""numbers per event: which Fonnte numbers serve an event (NULL: every configured number)

Revision ID: 0902
Revises: 0901
"""

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision = "0902"
down_revision = "0901"
branch_labels = None
depends_on = None

JSONType = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("whatsapp_numbers", JSONType, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_column("whatsapp_numbers")
