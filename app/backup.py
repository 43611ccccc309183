"""`funrun backup FILE` / `funrun restore FILE`: the database and the media list in one tar file.

Inside the tar: ``database.dump`` (pg_dump custom format) or ``database.sqlite`` (an online copy
through SQLite's backup API), ``manifest.json`` (when, which migration, the media keys every
row references), and ``media/...`` — the referenced files themselves when media are local files.
With MEDIA_URL=s3://... the objects stay in the bucket (protect them with bucket versioning or
replication); the manifest still lists them and restore reports any that are missing.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from core import media
from core.config import Settings

# Every column that names a stored media object (relative to MEDIA_DIR / the bucket prefix).
MEDIA_COLUMNS = (
    ("payment_images", "path"),
    ("payments", "image_path"),
    ("payment_accounts", "qris_image_path"),
    ("checkins", "authorisation_letter_path"),
    ("outbound_messages", "media_path"),  # e-tickets (re-rendered on demand, but rows name them)
)


class BackupError(RuntimeError):
    """pg_dump / pg_restore failed or the file is not a funrun backup; the message says why."""


@dataclass(frozen=True, slots=True)
class Summary:
    database: str
    media_keys: int
    media_files: int
    missing: list[str]


def _libpq(settings: Settings) -> tuple[list[str], dict[str, str]]:
    """Connection options for pg_dump/pg_restore; the password goes in the environment, not argv."""
    url = make_url(settings.database_url)
    args = ["--host", url.host or "localhost", "--port", str(url.port or 5432)]
    if url.username:
        args += ["--username", url.username]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    return [*args, "--dbname", url.database or ""], env


def _run(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip()[-500:]}")


def _dump_database(settings: Settings, folder: Path) -> str:
    if settings.is_sqlite:
        source = sqlite3.connect(make_url(settings.database_url).database or "")
        target = sqlite3.connect(folder / "database.sqlite")
        with target:
            source.backup(target)  # consistent even while the app writes
        source.close()
        target.close()
        return "database.sqlite"
    args, env = _libpq(settings)
    _run(
        [
            "pg_dump",
            "--format=custom",
            "--no-owner",
            "--file",
            str(folder / "database.dump"),
            *args,
        ],
        env,
    )
    return "database.dump"


def referenced_keys(settings: Settings) -> list[str]:
    """Every media key the database points at (sorted, unique)."""
    engine = create_engine(settings.database_url)
    keys: set[str] = set()
    try:
        with engine.connect() as conn:
            for table, column in MEDIA_COLUMNS:
                rows = conn.execute(
                    text(f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL")
                )
                keys.update(str(value) for (value,) in rows if value)
    finally:
        engine.dispose()
    return sorted(keys)


def backup(settings: Settings, destination: Path) -> Summary:
    """Write the backup tar to ``destination`` (atomically: a half-written file is never left)."""
    with tempfile.TemporaryDirectory(prefix="funrun-backup-") as tmp:
        folder = Path(tmp)
        database = _dump_database(settings, folder)
        keys = referenced_keys(settings)
        copied, missing = _copy_media(settings, keys, folder / "media")
        manifest = {
            "format": 1,
            "created_at": datetime.now(UTC).isoformat(),
            "database": database,
            "media_storage": "s3" if media.is_remote(settings) else "local",
            "media_keys": keys,
            "media_copied": copied,
        }
        (folder / "manifest.json").write_text(json.dumps(manifest, indent=1))
        partial = destination.with_name(destination.name + ".partial")
        with tarfile.open(partial, "w") as tar:
            for name in ("manifest.json", database, "media"):
                if (folder / name).exists():
                    tar.add(folder / name, arcname=name)
        partial.replace(destination)
    return Summary(database=database, media_keys=len(keys), media_files=copied, missing=missing)


def _copy_media(settings: Settings, keys: list[str], into: Path) -> tuple[int, list[str]]:
    """Local media: copy each referenced file. S3: only check the objects exist."""
    copied, missing = 0, []
    for key in keys:
        if media.is_remote(settings):
            if not media.exists(key, settings):
                missing.append(key)
            continue
        path = media.safe_path(key, settings)
        if path is None:
            missing.append(key)
            continue
        target = into / key
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
        copied += 1
    return copied, missing


def restore(settings: Settings, source: Path) -> Summary:
    """Replace the database with the backup's and put its media files back; report missing media.

    PostgreSQL: pg_restore --clean --if-exists into DATABASE_URL (run `funrun migrate` after it
    when the backup is older than the code). SQLite: the file is replaced (stop the app first).
    """
    with tempfile.TemporaryDirectory(prefix="funrun-restore-") as tmp:
        folder = Path(tmp)
        manifest = _unpack(source, folder)
        database = manifest["database"]
        if database == "database.dump":
            if settings.is_sqlite:
                raise BackupError("a PostgreSQL backup cannot be restored into SQLite")
            args, env = _libpq(settings)
            dump = str(folder / database)
            _run(
                [
                    "pg_restore",
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--single-transaction",
                    *args,
                    dump,
                ],
                env,
            )
        else:
            target = Path(make_url(settings.database_url).database or "")
            shutil.copyfile(folder / database, target.with_name(target.name + ".restoring"))
            target.with_name(target.name + ".restoring").replace(target)
        copied = _put_media_back(settings, folder / "media")
        keys = list(manifest.get("media_keys", []))
        missing = [key for key in keys if not media.exists(key, settings)]
    return Summary(database=database, media_keys=len(keys), media_files=copied, missing=missing)


def _unpack(source: Path, folder: Path) -> dict:
    try:
        with tarfile.open(source, "r") as tar:
            tar.extractall(folder, filter="data")  # no absolute paths, links or devices
        manifest = json.loads((folder / "manifest.json").read_text())
    except (OSError, tarfile.TarError, ValueError, KeyError) as exc:
        raise BackupError(f"not a funrun backup: {type(exc).__name__}") from exc
    if manifest.get("format") != 1 or manifest.get("database") not in (
        "database.dump",
        "database.sqlite",
    ):
        raise BackupError("not a funrun backup (unknown manifest)")
    return manifest


def _put_media_back(settings: Settings, folder: Path) -> int:
    """Store every file of the backup's media/ folder again (locally or into the bucket)."""
    copied = 0
    for path in sorted(folder.rglob("*")) if folder.is_dir() else ():
        if path.is_file():
            media.save(path.relative_to(folder).as_posix(), path.read_bytes(), settings)
            copied += 1
    return copied
