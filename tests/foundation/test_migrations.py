"""Migrations run up and down on PostgreSQL and agree with the models; also apply on SQLite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from core.config import get_settings
from core.db import Base, make_engine
from tests.conftest import run_migrations

SCRATCH_DB = "funrun_migrations_test"


@pytest.fixture
def scratch_url(migrated: str) -> Iterator[str]:
    """An empty PostgreSQL database of its own, dropped afterwards."""
    admin_url = get_settings().database_url
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {SCRATCH_DB}"))
        conn.execute(text(f"CREATE DATABASE {SCRATCH_DB}"))
    url = admin_url.rsplit("/", 1)[0] + f"/{SCRATCH_DB}"
    yield url
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {SCRATCH_DB} WITH (FORCE)"))
    admin.dispose()


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade_on_postgres(scratch_url: str) -> None:
    run_migrations(scratch_url)
    assert set(Base.metadata.tables) <= _tables(scratch_url)
    run_migrations(scratch_url, "base", down=True)
    assert _tables(scratch_url) <= {"alembic_version"}
    run_migrations(scratch_url)
    assert set(Base.metadata.tables) <= _tables(scratch_url)


def _diff(url: str) -> list[object]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def test_models_and_migrations_agree_on_postgres(migrated: str) -> None:
    assert _diff(migrated) == []


@pytest.mark.sqlite
def test_models_and_migrations_agree_on_sqlite(sqlite_url: str) -> None:
    assert set(Base.metadata.tables) <= _tables(sqlite_url)
    assert _diff(sqlite_url) == []
