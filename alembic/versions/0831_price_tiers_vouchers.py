"""price tiers per category and vouchers per event; registrations lock tier, voucher and discount

Revision ID: 0831
Revises: 0701
"""

import sqlalchemy as sa

from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0831"
down_revision = "0701"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTCDateTime = sa.DateTime  # core.db.UTCDateTime stores DateTime(timezone=True)
JSONType = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "price_tiers",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("category_id", BigId, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=100), server_default="", nullable=False),
        sa.Column("price", sa.Integer(), nullable=False),
        sa.Column("ends_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("max_sold", sa.Integer(), nullable=True),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["categories.id"],
            name="fk_price_tiers_category_id_categories",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_price_tiers"),
    )
    op.create_index("ix_price_tiers_category_id", "price_tiers", ["category_id"])
    op.create_table(
        "vouchers",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("event_id", BigId, nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("beyond_quota", sa.Boolean(), nullable=False),
        sa.Column("max_uses", sa.Integer(), nullable=True),
        sa.Column("valid_from", UTCDateTime(timezone=True), nullable=True),
        sa.Column("valid_until", UTCDateTime(timezone=True), nullable=True),
        sa.Column("categories", JSONType, nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("batch", sa.String(length=40), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name="fk_vouchers_event_id_events", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_vouchers"),
        sa.UniqueConstraint("event_id", "code", name="uq_vouchers_event_id_code"),
    )
    op.create_index("ix_vouchers_batch", "vouchers", ["batch"])
    with op.batch_alter_table("registrations") as batch:
        batch.add_column(sa.Column("price_tier_id", BigId, nullable=True))
        batch.add_column(sa.Column("voucher_id", BigId, nullable=True))
        batch.add_column(sa.Column("discount", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(
            sa.Column("outside_quota", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.create_foreign_key(
            "fk_registrations_price_tier_id_price_tiers",
            "price_tiers",
            ["price_tier_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_foreign_key(
            "fk_registrations_voucher_id_vouchers", "vouchers", ["voucher_id"], ["id"]
        )
        batch.create_index("ix_registrations_price_tier_id", ["price_tier_id"])
        batch.create_index("ix_registrations_voucher_id", ["voucher_id"])


def downgrade() -> None:
    with op.batch_alter_table("registrations") as batch:
        batch.drop_index("ix_registrations_voucher_id")
        batch.drop_index("ix_registrations_price_tier_id")
        batch.drop_constraint("fk_registrations_voucher_id_vouchers", type_="foreignkey")
        batch.drop_constraint("fk_registrations_price_tier_id_price_tiers", type_="foreignkey")
        batch.drop_column("outside_quota")
        batch.drop_column("discount")
        batch.drop_column("voucher_id")
        batch.drop_column("price_tier_id")
    op.drop_index("ix_vouchers_batch", table_name="vouchers")
    op.drop_table("vouchers")
    op.drop_index("ix_price_tiers_category_id", table_name="price_tiers")
    op.drop_table("price_tiers")
