"""`funrun backup` / `funrun restore` on the test PostgreSQL: dump, drop, restore, all intact."""

from __future__ import annotations

import tarfile
from pathlib import Path

from sqlalchemy import func, select, text
from typer.testing import CliRunner

from app.cli import cli
from core import media
from core.db import get_engine, reset_engine, unit_of_work
from core.models import PaymentImage, Registration
from tests import factories


def _seed() -> tuple[list[str], list[str]]:
    """Three registrations, two with a stored screenshot; return their numbers and image paths."""
    with unit_of_work() as uow:
        event = factories.demo_event(uow.session)
        regs = [factories.make_registration(uow.session, event) for _ in range(3)]
        for reg in regs[:2]:
            factories.make_payment(uow.session, reg)
        numbers = sorted(r.number for r in regs)
    with unit_of_work() as uow:
        paths = sorted(uow.session.scalars(select(PaymentImage.path)))
    return numbers, paths


def _state() -> tuple[list[str], list[str]]:
    with unit_of_work() as uow:
        numbers = sorted(uow.session.scalars(select(Registration.number)))
        paths = sorted(uow.session.scalars(select(PaymentImage.path)))
    return numbers, paths


def test_dump_drop_restore_keeps_registrations_and_media(
    committed_db: None, tmp_path: Path
) -> None:
    numbers, paths = _seed()
    assert len(paths) == 2, paths
    photos = {p: media.safe_path(p).read_bytes() for p in paths}  # type: ignore[union-attr]
    file = tmp_path / "funrun.backup"
    runner = CliRunner()

    made = runner.invoke(cli, ["backup", str(file)])
    assert made.exit_code == 0, made.output
    assert "2 files copied, 0 missing" in made.output
    with tarfile.open(file) as tar:
        names = tar.getnames()
    assert "database.dump" in names and "manifest.json" in names
    assert all(f"media/{p}" in names for p in paths)

    # Disaster: the schema and the photos are gone.
    with get_engine().begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    reset_engine()
    for path in paths:
        media.delete(path)
    assert all(media.safe_path(p) is None for p in paths)

    back = runner.invoke(cli, ["restore", str(file)])
    assert back.exit_code == 0, back.output
    reset_engine()
    assert _state() == (numbers, paths)
    assert {p: media.safe_path(p).read_bytes() for p in paths} == photos  # type: ignore[union-attr]
    with get_engine().connect() as conn:  # the migration history came back too
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
        assert conn.execute(select(func.count()).select_from(Registration.__table__)).scalar() == 3


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.backup"
    bogus.write_bytes(b"not a tar at all")
    result = CliRunner().invoke(cli, ["restore", str(bogus)])
    assert result.exit_code == 1 and "not a funrun backup" in result.output
