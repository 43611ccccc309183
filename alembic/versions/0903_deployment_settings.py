"""deployment settings: organiser-editable settings of the whole deployment (admins' 2FA rule)

Revision ID: 0903
Revises: 0902
"""

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision = "0903"
down_revision = "0902"
branch_labels = None
depends_on = None

JSONType = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "deployment_settings",
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("value", JSONType, nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("deployment_settings")
