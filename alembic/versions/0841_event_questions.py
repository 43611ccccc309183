"""custom questions per event, the waiver step, and minors' consent letters

Revision ID: 0841
Revises: 0851
"""

import sqlalchemy as sa
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

from alembic import op

revision = "0841"
down_revision = "0851"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("waiver_text", sa.Text(), server_default="", nullable=False))
        batch.add_column(sa.Column("waiver_text_en", sa.Text(), server_default="", nullable=False))
        batch.add_column(
            sa.Column("waiver_url", sa.String(length=500), server_default="", nullable=False)
        )
        batch.add_column(sa.Column("minor_age", sa.Integer(), nullable=True))
    with op.batch_alter_table("registrations") as batch:
        batch.add_column(sa.Column("waiver_accepted_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "event_questions",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("event_id", BIG_ID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("label_en", sa.String(length=200), nullable=False),
        sa.Column("options", JSON, nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("category_codes", JSON, nullable=False),
        sa.Column("show_at_checkin", sa.Boolean(), nullable=False),
        sa.Column("example", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_event_questions_event_id", "event_questions", ["event_id"])
    op.create_table(
        "consent_letters",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("registration_id", BIG_ID, nullable=False),
        sa.Column("path", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["registration_id"], ["registrations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_consent_letters_registration_id", "consent_letters", ["registration_id"])


def downgrade() -> None:
    op.drop_index("ix_consent_letters_registration_id", table_name="consent_letters")
    op.drop_table("consent_letters")
    op.drop_index("ix_event_questions_event_id", table_name="event_questions")
    op.drop_table("event_questions")
    with op.batch_alter_table("registrations") as batch:
        batch.drop_column("waiver_accepted_at")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("minor_age")
        batch.drop_column("waiver_url")
        batch.drop_column("waiver_text_en")
        batch.drop_column("waiver_text")
