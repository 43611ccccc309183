"""Check-in exports: CSV files of pickups and of refused scans."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.formatting import spreadsheet_safe
from core.fulfilment.checkin import Outcome
from core.models import Category, CheckIn, Event, Participant, Registration, ScanLog


def _csv(header: list[str], rows: list[list[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return out.getvalue()


def _cell(value: object) -> str:
    return spreadsheet_safe("" if value is None else str(value))


def _local(value: datetime, zone: ZoneInfo) -> str:
    """``2026-12-01 18:12:19`` in the event's time zone (what the desk's clock showed)."""
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def _zone(session: Session, event_id: int) -> ZoneInfo:
    event = session.get(Event, event_id)
    return ZoneInfo((event.timezone if event else None) or "Asia/Jakarta")


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
    zone = _zone(session, event_id)
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
            _local(c.created_at, zone),
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
    zone = _zone(session, event_id)
    header = ["scanned_at", "desk", "result", "reason", "code_hint", "registration_id"]
    body = [
        [_local(s.created_at, zone), s.desk, s.result, s.reason, s.code_hint, s.registration_id]
        for s in logs
    ]
    return _csv(header, body)
