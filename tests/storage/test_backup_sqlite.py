"""`funrun backup` / `funrun restore` on the embedded SQLite default: dump, delete, restore."""

from __future__ import annotations

import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from app.cli import cli
from core import media
from core.config import get_settings
from core.db import reset_engine, unit_of_work
from core.models import PaymentImage, Registration
from tests import factories


@pytest.fixture
def sqlite_app(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """DATABASE_URL on a migrated SQLite file and MEDIA_DIR on a fresh folder; yield the file."""
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("MEDIA_DIR", str(tmp_path / "media"))
    monkeypatch.delenv("MEDIA_URL", raising=False)
    get_settings.cache_clear()
    reset_engine()
    yield Path(sqlite_url.removeprefix("sqlite:///"))
    monkeypatch.undo()
    get_settings.cache_clear()
    reset_engine()


def _state() -> tuple[list[str], list[str]]:
    with unit_of_work() as uow:
        numbers = sorted(uow.session.scalars(select(Registration.number)))
        paths = sorted(uow.session.scalars(select(PaymentImage.path)))
    return numbers, paths


def test_sqlite_dump_delete_restore_keeps_registrations_and_media(
    sqlite_app: Path, tmp_path: Path
) -> None:
    with unit_of_work() as uow:
        event = factories.demo_event(uow.session)
        regs = [factories.make_registration(uow.session, event) for _ in range(3)]
        for reg in regs[:2]:
            factories.make_payment(uow.session, reg)
    numbers, paths = _state()
    assert len(numbers) == 3 and len(paths) == 2
    photos = {p: media.safe_path(p).read_bytes() for p in paths}  # type: ignore[union-attr]
    file = tmp_path / "funrun.backup"
    runner = CliRunner()

    made = runner.invoke(cli, ["backup", str(file)])
    assert made.exit_code == 0, made.output
    with tarfile.open(file) as tar:
        names = tar.getnames()
    assert "database.sqlite" in names and "database.dump" not in names
    assert all(f"media/{p}" in names for p in paths)

    # Disaster: the database file and the photos are gone.
    reset_engine()
    sqlite_app.unlink()
    for path in paths:
        media.delete(path)
    assert all(media.safe_path(p) is None for p in paths)

    back = runner.invoke(cli, ["restore", str(file)])
    assert back.exit_code == 0, back.output
    reset_engine()
    assert _state() == (numbers, paths)
    assert {p: media.safe_path(p).read_bytes() for p in paths} == photos  # type: ignore[union-attr]
