"""Participants and financial exports, CSV and XLSX, streamed from a server-side cursor."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import select

from admin import answers
from admin.auth import actor_name, require_roles
from admin.i18n import _, gettext, request_language, status_label
from admin.registrations import filters_from
from admin.templating import CHANNEL_LABELS, local_dt
from core import audit, reports
from core.config import get_settings
from core.db import get_sessionmaker, unit_of_work, utcnow
from core.enums import Role
from core.events import questions
from core.formatting import spreadsheet_safe
from core.models import AdminUser, EventQuestion, Registration

router = APIRouter(prefix="/admin/exports")
admin_only = require_roles(Role.ADMIN)
FLUSH_EVERY = 200
# Questions the registration row already carries (its event and category columns).
SKIPPED_ANSWERS = {"event", "category"}
# Participant fields shown from the participant row (typed: a date stays a date); other answers
# come from the conversation's answers, each question once.
PARTICIPANT_FIELDS = (
    "full_name",
    "gender",
    "date_of_birth",
    "email",
    "phone",
    "nik",
    "jersey_size",
)
TEXT_COLUMNS = {"phone", "emergency_phone", "nik", "number", "bib"}  # digits that are not numbers


def _base_headers(lang: str) -> list[str]:
    return [
        gettext("Registration number", lang), gettext("Status", lang), gettext("Event", lang),
        gettext("Category", lang), gettext("BIB", lang),
    ]  # fmt: skip


def _tail_headers(lang: str) -> list[str]:
    return [
        gettext("Amount due", lang), gettext("Channel", lang), gettext("Registered at", lang),
        gettext("Paid at", lang),
    ]  # fmt: skip


MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

Rows = Callable[[Any], Iterator[list[Any]]]


def safe_cell(value: Any) -> Any:
    """CSV: neutralise spreadsheet formulas typed by runners (CSV injection), format dates."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return local_dt(value, "%Y-%m-%d %H:%M")
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")  # already in the event's time zone
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return spreadsheet_safe(value)
    return value


def _in_zone(value: datetime | None, zone: str) -> datetime | None:
    """A stored (UTC) timestamp in the event's time zone, without the tzinfo Excel cannot hold."""
    if value is None:
        return None
    return value.astimezone(ZoneInfo(zone or "Asia/Jakarta")).replace(tzinfo=None)


def participant_rows(filters: Any, lang: str = "en") -> Rows:
    def rows(session: Any) -> Iterator[list[Any]]:
        columns = [
            (k, label) for k, label in answers.export_columns(lang) if k not in SKIPPED_ANSWERS
        ]
        asked = _custom_questions(session, filters)
        columns += [(q.key, questions.label_in(q, lang)) for q in asked]
        yield [*_base_headers(lang), *(label for _k, label in columns), *_tail_headers(lang)]
        for reg in reports.participant_records(session, filters=filters):
            yield _participant_row(reg, [key for key, _label in columns], lang, asked)

    return rows


def _custom_questions(session: Any, filters: Any) -> list[EventQuestion]:
    """The organiser's questions as extra columns: the filtered event's, else every event's."""
    stmt = select(EventQuestion).order_by(
        EventQuestion.event_id, EventQuestion.position, EventQuestion.id
    )
    if getattr(filters, "event_id", None):
        stmt = stmt.where(EventQuestion.event_id == filters.event_id)
    return list(session.scalars(stmt))


def _participant_row(
    reg: Registration,
    keys: list[str],
    lang: str,
    asked: list[EventQuestion] = (),  # type: ignore[assignment]
) -> list[Any]:
    p = reg.participant
    shown = answers.displayed(p.answers or {}, lang)
    for q in asked:
        if q.key in (p.answers or {}):
            shown[q.key] = ("", questions.answer_text(q, p.answers[q.key], lang))
    zone = reg.event.timezone
    values = [
        getattr(p, k) if k in PARTICIPANT_FIELDS else (shown[k][1] if k in shown else "")
        for k in keys
    ]
    return [
        reg.number, status_label(reg.status, lang), reg.event.name, reg.category.code, reg.bib,
        *values, reg.amount_due, CHANNEL_LABELS.get(reg.channel, reg.channel),
        _in_zone(reg.created_at, zone), _in_zone(reg.paid_at, zone),
    ]  # fmt: skip


# The financial report's headers, English source (translated into the staff's language).
FINANCIAL_HEADERS = {
    "registration": _("Registration number"), "name": _("Full name"), "category": _("Category"),
    "status": _("Status"), "price": _("Price"), "unique_code": _("Unique code"),
    "amount_due": _("Amount due"), "amount_received": _("Amount received"),
    "payment_status": _("Payment status"), "payment_source": _("Paid via"),
    "verified_by": _("Verified by"), "verified_at": _("Verified at"),
}  # fmt: skip


def financial_rows(event_id: int | None, lang: str = "en") -> Rows:
    columns = reports.FINANCIAL_COLUMNS

    def rows(session: Any) -> Iterator[list[Any]]:
        yield [gettext(FINANCIAL_HEADERS.get(c, c), lang) for c in columns]
        for row in reports.financial_rows(session, event_id=event_id):
            yield [_financial_value(c, row[c], lang) for c in columns]

    return rows


def _financial_value(column: str, value: Any, lang: str) -> Any:
    """Statuses and payment sources in words; everything else as stored."""
    if column in ("status", "payment_status") and value:
        return status_label(value, lang)
    if column == "payment_source" and value:
        return gettext(str(value).capitalize(), lang)
    return value


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


def xlsx_cell(sheet: Any, value: Any, *, bold: bool = False) -> Any:
    """XLSX: strings typed as text (no formula is ever evaluated, no apostrophe needed)."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    cell = WriteOnlyCell(sheet)
    if isinstance(value, str):
        cell.value = value
        cell.data_type = "s"  # set after the value: openpyxl would guess "f" for "=..." text
    else:
        cell.value = value
        if isinstance(value, datetime):
            cell.number_format = "yyyy-mm-dd hh:mm"
        elif isinstance(value, date):
            cell.number_format = "yyyy-mm-dd"
    if bold:
        cell.font = Font(bold=True)
    return cell


def xlsx_stream(rows: Rows) -> Iterator[bytes]:
    """Build the workbook in write-only mode (constant memory), spooled to disk, then stream it.

    True row-by-row streaming is not feasible: openpyxl's write-only sheet buffers its rows in a
    temporary file of its own and only zips it into the .xlsx on ``save()``, after the last row.
    The header row is bold and frozen; column widths follow the header (write-only mode cannot
    measure the data after the fact).
    """
    # openpyxl (and numpy, which it loads when present) only when an export is asked for: every
    # API process would otherwise carry them from start-up (RSS, issue 12).
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("export")
    sheet.freeze_panes = "A2"
    with get_sessionmaker()() as session:
        produced = rows(session)
        header = next(produced, [])
        for index, title in enumerate(header, 1):
            sheet.column_dimensions[get_column_letter(index)].width = max(12, len(str(title)) + 4)
        sheet.append([xlsx_cell(sheet, v, bold=True) for v in header])
        for row in produced:
            sheet.append([xlsx_cell(sheet, _plain(v)) for v in row])
    with tempfile.TemporaryFile() as fh:
        workbook.save(fh)
        fh.seek(0)
        while chunk := fh.read(64 * 1024):
            yield chunk


def _plain(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return _in_zone(value, get_settings().timezone)
    return value


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
    return _respond(participant_rows(filters, request_language(request)), "participants", fmt)


@router.get("/financial.{fmt}")
def financial(
    request: Request, fmt: str, event_id: int | None = None, user: AdminUser = Depends(admin_only)
) -> StreamingResponse:
    """Registration, amount, unique code, verified by/at; headers in the staff's language."""
    _audit(user, "financial", fmt, event_id=event_id)
    return _respond(financial_rows(event_id, request_language(request)), "financial", fmt)
