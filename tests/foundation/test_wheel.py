"""The installed wheel is complete: what the Docker image runs (`pip install .`, no source tree).

The wheel is built offline from a copy of the sources (pip's --no-build-isolation uses the venv's
setuptools and wheel; nothing is written into the work tree). Then it is unpacked and run the way the
image runs it: the code from the unpacked wheel, the working directory holding only alembic.ini and
alembic/ (the Dockerfile's WORKDIR).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("app", "core", "channels", "webhooks", "flows", "admin", "workers")
CODE_SUFFIXES = {".py", ".pyc"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, source / package, ignore=ignore)
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
        + ["--no-index", "-w", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (built,) = out.glob("funrun-*.whl")
    return built


@pytest.fixture(scope="module")
def site(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target)
    return target


def _resources() -> list[str]:
    """Every non-Python file under the packages (templates, static, vendored JS, fonts, texts...)."""
    found = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                if path.suffix not in CODE_SUFFIXES:
                    found.append(path.relative_to(ROOT).as_posix())
    return sorted(found)


def test_every_resource_file_is_in_the_wheel(wheel: Path) -> None:
    resources = _resources()
    # The kinds the code reads at run time: a glob change that drops one fails here.
    for needed in ("core/texts/id/", "core/assets/fonts/", "admin/templates/", "admin/static/"):
        assert any(r.startswith(needed) for r in resources), needed
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    missing = [r for r in resources if r not in names]
    assert not missing, f"not in the wheel (add the suffix to package-data): {missing}"


def _workdir(tmp_path: Path) -> Path:
    """The Docker WORKDIR: alembic.ini and alembic/ and nothing else."""
    work = tmp_path / "srv"
    work.mkdir()
    shutil.copy(ROOT / "alembic.ini", work / "alembic.ini")
    shutil.copytree(
        ROOT / "alembic", work / "alembic", ignore=shutil.ignore_patterns("__pycache__")
    )
    return work


def _run(site: Path, cwd: Path, db: Path, code: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("ALEMBIC_CONFIG", "PYTHONPATH")}
    env.update(PYTHONPATH=str(site), DATABASE_URL=f"sqlite:///{db}", APP_ENV="test")
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


MIGRATE = "import sys; from app.cli import main; sys.argv = ['funrun', 'migrate']; main()"

CHECK = """
import json, sqlite3, sys
import app.cli, core.i18n
from core.fulfilment import ticket_image
print(json.dumps({
    "files": [app.cli.__file__, core.i18n.__file__],
    "tables": [r[0] for r in sqlite3.connect(sys.argv[1]).execute(
        "select name from sqlite_master where type = 'table'")],
    "text_id": core.i18n.t("error.generic", "id"),
    "text_en": core.i18n.t("error.generic", "en"),
    "fonts": sorted(p.name for p in ticket_image.FONTS_DIR.glob("*.ttf")),
}))
"""


def test_migrate_and_texts_from_the_unpacked_wheel(site: Path, tmp_path: Path) -> None:
    work, db = _workdir(tmp_path), tmp_path / "funrun.db"
    migrated = _run(site, work, db, MIGRATE)
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    assert "database is up to date" in migrated.stdout

    checked = _run(site, work, db, CHECK.replace("sys.argv[1]", repr(str(db))))
    assert checked.returncode == 0, checked.stderr
    report = json.loads(checked.stdout)
    # The code really came from the wheel, not from the work tree's editable install.
    assert all(Path(f).is_relative_to(site) for f in report["files"]), report["files"]
    assert {"registrations", "outbound_messages", "alembic_version"} <= set(report["tables"])
    assert report["text_id"] and report["text_id"] != "error.generic"
    assert report["text_en"] != report["text_id"]
    assert "DejaVuSans.ttf" in report["fonts"]


def test_migrate_without_scripts_is_one_clear_line(site: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = _run(site, empty, tmp_path / "x.db", MIGRATE)
    assert result.returncode == 2
    assert "alembic.ini" in result.stderr and "ALEMBIC_CONFIG" in result.stderr
    assert "Traceback" not in result.stderr
