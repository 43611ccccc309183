"""Shared fixtures: real PostgreSQL and Redis (started by `make test`), broker and worker.

The environment comes from `make test` (scripts/services.sh). Never skip when a service is missing:
fail, so CI cannot go green without the real parts.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from core.config import Settings, get_settings
from core.db import Base, get_engine, reset_engine

pytest_plugins = ["tests.fakes.fixtures"]

ROOT = Path(__file__).resolve().parent.parent


def _guard(settings: Settings) -> None:
    if not settings.database_url.startswith("postgresql"):
        pytest.exit("tests need PostgreSQL: run them with `make test`", returncode=3)
    if not settings.database_url.rsplit("/", 1)[-1].endswith("_test"):
        pytest.exit("refusing to run: the database name must end in _test", returncode=3)
    if not (settings.redis_url or "").endswith("/15"):
        pytest.exit("refusing to run: REDIS_URL must use the dedicated db /15", returncode=3)


# Set by `scripts/services.sh start DIR` in DIR/env, which `make test` sources (the suite never
# writes os.environ itself: subprocess tests inherit exactly what the shell was given).
TEST_VARIABLES = (
    "DATABASE_URL",
    "REDIS_URL",
    "MEDIA_DIR",
    "SECRET_KEY",
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_WEBHOOK_SECRET",
    "FONNTE_TOKEN",
    "FONNTE_WEBHOOK_SECRET",
    "WHATSAPP_TOKEN",
    "WHATSAPP_PHONE_NUMBER_ID",
    "WHATSAPP_APP_SECRET",
    "WHATSAPP_VERIFY_TOKEN",
)


@pytest.fixture(scope="session", autouse=True)
def _test_environment() -> Iterator[None]:
    missing = [name for name in TEST_VARIABLES if not os.environ.get(name)]
    if missing:
        pytest.exit(
            f"missing {', '.join(missing)}: run `make test`, or source the env file written by "
            "`scripts/services.sh start DIR` (restart the services if the file is older)",
            returncode=3,
        )
    get_settings.cache_clear()
    settings = get_settings()
    _guard(settings)
    yield


def run_migrations(url: str, revision: str = "head", *, down: bool = False) -> None:
    from alembic.config import Config

    from alembic import command

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    config.attributes["url"] = url
    if down:
        command.downgrade(config, revision)
    else:
        command.upgrade(config, revision)


@pytest.fixture(scope="session")
def migrated(_test_environment: None) -> str:
    """Migrate the test database once per session (so migrations run on every test run)."""
    url = get_settings().database_url
    engine = get_engine()
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    run_migrations(url)
    return url


def truncate_all(conn: Connection) -> None:
    """Empty every table and restart every sequence, as TRUNCATE ... RESTART IDENTITY would.

    TRUNCATE pays per table (new files), ~0.3 s for all of them twice per test; most tests leave
    rows in a handful, so one query finds those and only they are truncated (their referencing
    tables come along by CASCADE). Sequences are reset separately: a rolled-back insert advances one.
    """
    names = [t.name for t in Base.metadata.sorted_tables]
    probe = " UNION ALL ".join(f"SELECT '{n}' WHERE EXISTS (SELECT 1 FROM \"{n}\")" for n in names)
    full = [row[0] for row in conn.execute(text(probe))]
    if full:
        tables = ", ".join(f'"{name}"' for name in full)
        conn.execute(text(f"TRUNCATE {tables} CASCADE"))
    conn.execute(text(_RESTART_SEQUENCES))


_RESTART_SEQUENCES = """
SELECT setval(c.oid, 1, false) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'S' AND n.nspname = current_schema()
"""


@pytest.fixture
def session(migrated: str) -> Iterator[Session]:
    """A session inside an outer transaction that is rolled back (fast isolation for core tests)."""
    conn = get_engine().connect()
    outer = conn.begin()
    sess = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield sess
    finally:
        sess.close()
        outer.rollback()
        conn.close()


@pytest.fixture
def committed_db(migrated: str) -> Iterator[None]:
    """For code that opens its own transactions (HTTP, workers): truncate every table afterwards."""
    with get_engine().begin() as conn:
        truncate_all(conn)
    yield
    from workers.pacer import pacer

    pacer.stop()  # nothing a test's drain left waiting is sent into the next test's database
    pacer.reopen()
    reset_engine()
    with get_engine().begin() as conn:
        truncate_all(conn)


@pytest.fixture
def redis_client(_test_environment: None) -> Iterator[Any]:
    import redis

    client = redis.Redis.from_url(get_settings().redis_url or "")
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


class ActorErrors:
    """Collects exceptions raised inside actors so tests fail instead of hiding them in retries."""

    def __init__(self) -> None:
        self.errors: list[BaseException] = []
        self.lock = threading.Lock()


@pytest.fixture
def broker(redis_client: Any) -> Iterator[Any]:
    import dramatiq

    import workers

    b = workers.broker
    b.flush_all()
    yield b
    b.flush_all()
    _ = dramatiq  # imported for its side effect of having the broker set


@pytest.fixture
def worker(broker: Any, committed_db: None) -> Iterator[Any]:
    from dramatiq import Worker

    w = Worker(broker, worker_threads=4, worker_timeout=100)
    w.start()
    yield w
    w.stop(timeout=10_000)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A migrated SQLite database file (for tests that must also hold on the embedded default)."""
    url = f"sqlite:///{tmp_path}/funrun.db"
    run_migrations(url)
    return url
