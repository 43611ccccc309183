"""Participants and financial exports, CSV and XLSX, streamed from a server-side cursor."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import StreamingResponse
from openpyxl import Workbook

from admin import answers
from admin.auth import actor_name, require_roles
from admin.registrations import filters_from
from admin.templating import local_dt
from core import audit, reports
from core.db import get_sessionmaker, unit_of_work, utcnow
from core.enums import Role
from core.formatting import spreadsheet_safe
from core.models import AdminUser, Registration

router = APIRouter(prefix="/admin/exports")
admin_only = require_roles(Role.ADMIN)
FLUSH_EVERY = 200
BASE_COLUMNS = (
    "number", "status", "event", "category", "bib", "full_name", "gender", "date_of_birth",
    "email", "phone", "nik", "jersey_size", "amount_due", "channel", "created_at", "paid_at",
)  # fmt: skip
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

Rows = Callable[[Any], Iterator[list[Any]]]


def safe_cell(value: Any) -> Any:
    """Neutralise spreadsheet formulas typed by runners (CSV injection) and format dates."""
    if isinstance(value, datetime):
        return local_dt(value, "%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return spreadsheet_safe(value)
    return value


def participant_rows(filters: Any) -> Rows:
    def rows(session: Any) -> Iterator[list[Any]]:
        columns = answers.export_columns("en")
        yield [*BASE_COLUMNS, *(f"answer: {label}" for _key, label in columns)]
        for reg in reports.participant_records(session, filters=filters):
            yield _participant_row(reg, [key for key, _label in columns])

    return rows


def _participant_row(reg: Registration, keys: list[str]) -> list[Any]:
    p = reg.participant
    shown = answers.displayed(p.answers or {}, "en")
    base = [
        reg.number, reg.status, reg.event_id, reg.category.code, reg.bib, p.full_name, p.gender,
        p.date_of_birth, p.email, p.phone, p.nik, p.jersey_size, reg.amount_due, reg.channel,
        reg.created_at, reg.paid_at,
    ]  # fmt: skip
    return [*base, *(shown[k][1] if k in shown else "" for k in keys)]


def financial_rows(event_id: int | None) -> Rows:
    def rows(session: Any) -> Iterator[list[Any]]:
        yield list(reports.FINANCIAL_COLUMNS)
        for row in reports.financial_rows(session, event_id=event_id):
            yield [row[c] for c in reports.FINANCIAL_COLUMNS]

    return rows


def csv_stream(rows: Rows) -> Iterator[bytes]:
    """Yield the CSV in chunks; the session lives as long as the stream."""
    buffer = io.StringIO()
    buffer.write("\ufeff")  # Excel needs the BOM to read UTF-8 names correctly
    writer = csv.writer(buffer)
    with get_sessionmaker()() as session:
        for n, row in enumerate(rows(session), 1):
            writer.writerow([safe_cell(v) for v in row])
            if n % FLUSH_EVERY == 0:
                yield buffer.getvalue().encode()
                buffer.seek(0)
                buffer.truncate()
    yield buffer.getvalue().encode()


def xlsx_stream(rows: Rows) -> Iterator[bytes]:
    """Build the workbook in write-only mode (constant memory), spooled to disk, then stream it.

    True row-by-row streaming is not feasible: openpyxl's write-only sheet buffers its rows in a
    temporary file of its own and only zips it into the .xlsx on ``save()``, after the last row.
    So memory stays flat, but the first byte leaves once the whole sheet is written (CSV, by
    contrast, streams as rows are read).
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("export")
    with get_sessionmaker()() as session:
        for row in rows(session):
            sheet.append([safe_cell(v) for v in row])
    with tempfile.TemporaryFile() as fh:
        workbook.save(fh)
        fh.seek(0)
        while chunk := fh.read(64 * 1024):
            yield chunk


def _respond(rows: Rows, name: str, fmt: str) -> StreamingResponse:
    if fmt not in MEDIA_TYPES:
        raise HTTPException(status_code=404)
    stream = csv_stream(rows) if fmt == "csv" else xlsx_stream(rows)
    stamp = utcnow().strftime("%Y%m%d-%H%M")
    headers = {
        "Content-Disposition": f'attachment; filename="{name}-{stamp}.{fmt}"',
        "Cache-Control": "private, no-store",
    }
    return StreamingResponse(stream, media_type=MEDIA_TYPES[fmt], headers=headers)


def _audit(user: AdminUser, kind: str, fmt: str, **filters: Any) -> None:
    with unit_of_work() as uow:
        audit.record(
            uow.session, actor=actor_name(user), action=f"export.{kind}", subject_type="export",
            subject_id=fmt, **{k: v for k, v in filters.items() if v},
        )  # fmt: skip


@router.get("/participants.{fmt}")
def participants(
    request: Request, fmt: str, user: AdminUser = Depends(admin_only)
) -> StreamingResponse:
    """Every participant matching the list filters, with every flow answer as a column."""
    filters = filters_from(request.query_params)
    _audit(user, "participants", fmt, **vars(filters))
    return _respond(participant_rows(filters), "participants", fmt)


@router.get("/financial.{fmt}")
def financial(
    fmt: str, event_id: int | None = None, user: AdminUser = Depends(admin_only)
) -> StreamingResponse:
    """Registration, amount, unique code, verified by/at."""
    _audit(user, "financial", fmt, event_id=event_id)
    return _respond(financial_rows(event_id), "financial", fmt)
