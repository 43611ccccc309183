"""catalog version: a row PostgreSQL triggers change with every change the chat catalogue reads

Revision ID: 0904
Revises: 0903
"""

import sqlalchemy as sa

from alembic import op

revision = "0904"
down_revision = "0903"
branch_labels = None
depends_on = None

# What the catalogue is built from (core/events/catalog.py). Counters every registration moves are
# left out of the comparison, so a registration never touches (or waits on) the version row.
_COUNTERS = {"categories": "slots_taken", "jersey_stock": "taken"}
_TABLES = ("events", "categories", "jersey_stock", "price_tiers", "event_questions", "vouchers")

_FUNCTION = """
CREATE FUNCTION catalog_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO catalog_version (id, version)
  VALUES (1, txid_current()::text || ':' || clock_timestamp()::text)
  ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version;
  RETURN NULL;
END $$
"""


def _changed(table: str) -> str:
    counter = _COUNTERS.get(table)
    if counter is None:
        return "OLD.* IS DISTINCT FROM NEW.*"
    return f"(to_jsonb(OLD) - '{counter}') IS DISTINCT FROM (to_jsonb(NEW) - '{counter}')"


def upgrade() -> None:
    op.create_table(
        "catalog_version",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("version", sa.String(60), nullable=False),
    )
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite builds the catalogue every time
    op.execute(_FUNCTION)
    for table in _TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_catalog_rows AFTER INSERT OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION catalog_changed()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_catalog_update AFTER UPDATE ON {table} FOR EACH ROW "
            f"WHEN ({_changed(table)}) EXECUTE FUNCTION catalog_changed()"
        )
    op.execute(
        "INSERT INTO catalog_version (id, version) "
        "VALUES (1, txid_current()::text || ':' || clock_timestamp()::text)"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in _TABLES:
            op.execute(f"DROP TRIGGER {table}_catalog_update ON {table}")
            op.execute(f"DROP TRIGGER {table}_catalog_rows ON {table}")
        op.execute("DROP FUNCTION catalog_changed()")
    op.drop_table("catalog_version")
