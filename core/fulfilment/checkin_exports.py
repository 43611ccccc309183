"""Check-in files: CSV exports of pickups and refused scans, and authorisation-letter photos."""

from __future__ import annotations

import csv
import io
import secrets
from pathlib import Path

from PIL import Image, ImageOps
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import spreadsheet
from core.config import get_settings
from core.errors import InvalidImage
from core.fulfilment.checkin import Outcome
from core.models import Category, CheckIn, Participant, Registration, ScanLog

LETTERS_SUBDIR = "checkin-letters"
MAX_LETTER_BYTES = 10 * 1024 * 1024


def clean_letter(data: bytes) -> bytes:
    """Re-encode an authorisation-letter photo as JPEG in memory (EXIF dropped); raise InvalidImage.

    Nothing is written: the caller saves it with save_letter() only once the check-in holding it
    is written, so a refused or retried scan leaves no orphan file.
    """
    if not data or len(data) > MAX_LETTER_BYTES:
        raise InvalidImage("letter photo empty or too large", key="checkin.letter_invalid")
    try:
        with Image.open(io.BytesIO(data)) as opened:
            opened.thumbnail((2000, 2000))
            clean = ImageOps.exif_transpose(opened).convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise InvalidImage("letter photo unreadable", key="checkin.letter_invalid") from exc
    out = io.BytesIO()
    clean.save(out, format="JPEG", quality=85)  # saving without exif= drops the metadata
    return out.getvalue()


def new_letter_path() -> str:
    """A fresh random MEDIA_DIR-relative name for a letter photo."""
    return f"{LETTERS_SUBDIR}/{secrets.token_hex(16)}.jpg"


def save_letter(jpeg: bytes, relative: str) -> None:
    """Write a cleaned letter photo under MEDIA_DIR (atomically: readers never see half a file)."""
    target = Path(get_settings().media_dir) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{secrets.token_hex(4)}.tmp")
    partial.write_bytes(jpeg)
    partial.replace(target)


def discard_letter(relative: str) -> None:
    """Remove a letter photo whose check-in did not commit."""
    (Path(get_settings().media_dir) / relative).unlink(missing_ok=True)


def _csv(header: list[str], rows: list[list[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return out.getvalue()


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A leading = + - @ would run as a formula when the organiser opens the file in a spreadsheet.
    return spreadsheet.neutralise(text)


def export_checkins_csv(session: Session, event_id: int) -> str:
    """All check-ins of an event as CSV (time, desk, runner, category, BIB, representative)."""
    rows = session.execute(
        select(CheckIn, Registration, Participant, Category)
        .join(Registration, Registration.id == CheckIn.registration_id)
        .join(Participant, Participant.id == Registration.participant_id)
        .join(Category, Category.id == Registration.category_id)
        .where(CheckIn.event_id == event_id)
        .order_by(CheckIn.id)
    ).all()
    header = [
        "checked_in_at",
        "desk",
        "registration",
        "bib",
        "name",
        "category",
        "jersey",
        "representative",
        "authorisation_letter",
    ]
    body = [
        [
            c.created_at.isoformat(),
            c.desk,
            r.number,
            r.bib,
            p.full_name,
            cat.code,
            p.jersey_size,
            c.representative_name,
            "yes" if c.authorisation_letter_path else "",
        ]
        for c, r, p, cat in rows
    ]
    return _csv(header, body)


def export_failed_scans_csv(session: Session, event_id: int) -> str:
    """Every refused scan of an event as CSV (time, desk, result, reason, code hint)."""
    logs = session.scalars(
        select(ScanLog)
        .where(ScanLog.event_id == event_id, ScanLog.result != Outcome.OK.value)
        .order_by(ScanLog.id)
    ).all()
    header = ["scanned_at", "desk", "result", "reason", "code_hint", "registration_id"]
    body = [
        [s.created_at.isoformat(), s.desk, s.result, s.reason, s.code_hint, s.registration_id]
        for s in logs
    ]
    return _csv(header, body)
