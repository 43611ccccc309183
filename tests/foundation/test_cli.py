"""The `funrun` CLI as a user runs it: migrate, demo (idempotent), create-admin."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.db import make_engine
from core.models import AdminUser, Category, Event
from core.staff import accounts

ROOT = Path(__file__).resolve().parents[2]


def funrun(
    *args: str, env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def sqlite_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL",)}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path}/cli.db"
    env["APP_ENV"] = "development"
    return env


def _count(url: str, model: type) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(model)).scalar_one()
    finally:
        engine.dispose()


@pytest.mark.sqlite
def test_demo_is_idempotent_on_sqlite(sqlite_env: dict[str, str]) -> None:
    migrated = funrun("migrate", env=sqlite_env)
    assert migrated.returncode == 0
    # An empty database: migrate says what it created, then that it is up to date.
    assert "migrated from an empty database" in migrated.stdout
    assert "registrations" in migrated.stdout and "database is up to date" in migrated.stdout
    assert "created" not in funrun("migrate", env=sqlite_env).stdout
    first = funrun("demo", env=sqlite_env)
    assert first.returncode == 0, first.stderr
    assert "password:" in first.stdout
    second = funrun("demo", env=sqlite_env)
    assert second.returncode == 0, second.stderr
    assert "password:" not in second.stdout
    url = sqlite_env["DATABASE_URL"]
    assert _count(url, Event) == 1
    assert _count(url, Category) == 3
    assert _count(url, AdminUser) == 1
    assert "skipped" in funrun("demo", "--if-empty", env=sqlite_env).stdout


def test_demo_is_idempotent_on_postgres(committed_db: None) -> None:
    env = dict(os.environ)
    for _ in range(2):
        result = funrun("demo", env=env)
        assert result.returncode == 0, result.stderr
    assert _count(env["DATABASE_URL"], Event) == 1
    assert _count(env["DATABASE_URL"], Category) == 3


def test_create_admin_reads_password_from_stdin(committed_db: None) -> None:
    env = dict(os.environ)
    result = funrun(
        "create-admin",
        "desk@example.org",
        "--role",
        "checkin",
        "--password-stdin",
        env=env,
        stdin="a-strong-password\n",
    )
    assert result.returncode == 0, result.stderr
    engine = make_engine(env["DATABASE_URL"])
    with engine.connect() as conn:
        row = conn.execute(select(AdminUser).where(AdminUser.email == "desk@example.org")).one()
    engine.dispose()
    assert row.role == "checkin"
    assert row.password_hash.startswith("$argon2")
    assert accounts.verify_password(row.password_hash, "a-strong-password")
    again = funrun(
        "create-admin", "desk@example.org", "--password-stdin", env=env, stdin="a-strong-password\n"
    )
    assert again.returncode == 1 and "already exists" in again.stderr


def test_create_admin_rejects_unknown_role_and_short_password(committed_db: None) -> None:
    env = dict(os.environ)
    bad_role = funrun(
        "create-admin",
        "x@example.org",
        "--role",
        "boss",
        "--password-stdin",
        env=env,
        stdin="a-strong-password\n",
    )
    assert bad_role.returncode == 2 and "unknown role" in bad_role.stderr
    short = funrun("create-admin", "x@example.org", "--password-stdin", env=env, stdin="abc\n")
    assert short.returncode == 2 and "at least 10" in short.stderr


def test_production_config_error_names_variable(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env.update(APP_ENV="production", PUBLIC_BASE_URL="https://run.example.org")
    result = funrun("migrate", env=env)
    assert result.returncode == 2
    assert "SECRET_KEY" in result.stderr and "Traceback" not in result.stderr


def test_telegram_info_unreachable_is_one_clear_line() -> None:
    env = dict(os.environ, TELEGRAM_API_BASE="http://127.0.0.1:1")
    result = funrun("telegram", "info", env=env)
    assert result.returncode == 1
    assert result.stderr.startswith("Telegram:") and "Traceback" not in result.stderr
