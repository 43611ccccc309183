"""The race-pack check-in page (/checkin), built for a phone: camera QR scan or a typed code.

Open to staff with the `checkin` role (admins too) and to desks opened with the event PIN
(admin.checkin_desks). Every POST carries the CSRF token and a client nonce, so a retried request
is answered the same way and never counted twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from admin import answers
from admin import checkin_desks as desk_routes
from admin.auth import CSRF_HEADER, current_staff, has_role, verify_csrf
from admin.i18n import request_language
from admin.templating import templates
from core.db import get_sessionmaker
from core.enums import EventStatus, Role
from core.errors import InvalidImage, StorageUnavailable
from core.formatting import MONTHS
from core.fulfilment import checkin, desks, letters
from core.i18n import t
from core.models import Event, Registration
from workers.checkin import check_in

DESK_COOKIE = desk_routes.DESK_COOKIE
router = APIRouter()
router.include_router(desk_routes.router)


@dataclass(frozen=True, slots=True)
class Operator:
    """Who is scanning: a signed-in staff member or an opened desk (bound to one event)."""

    desk: str
    event_id: int | None = None
    staff_id: int | None = None


def operator(request: Request) -> Operator | None:
    """Return the staff member or desk behind this request, or None."""
    user = current_staff(request)
    if user is not None and has_role(user, Role.CHECKIN):
        return Operator(desk=user.name or user.email, staff_id=user.id)
    token = request.cookies.get(DESK_COOKIE)
    if not token:
        return None
    with get_sessionmaker()() as session:
        desk = desks.find_desk(session, token)
        return Operator(desk=desk.name, event_id=desk.event_id) if desk else None


def language(request: Request) -> str:
    """The page's language: ``?lang=``, else the staff member's admin language (or the cookie)."""
    lang = request.query_params.get("lang") or request_language(request)
    return lang if lang in ("id", "en") else "id"


def _events(session: Any, who: Operator) -> list[Event]:
    if who.event_id is not None:
        event = session.get(Event, who.event_id)
        return [event] if event else []
    return list(session.scalars(select(Event).order_by(Event.race_date.desc(), Event.id)))


def _pick(events: list[Event], wanted: int | None) -> Event | None:
    for event in events:
        if event.id == wanted:
            return event
    open_events = [e for e in events if e.status == EventStatus.OPEN.value]
    return (open_events or events or [None])[0]


@router.get("/checkin", response_class=HTMLResponse)
def checkin_page(request: Request, event: int | None = None) -> Any:
    """The scanning page."""
    who = operator(request)
    if who is None:
        return RedirectResponse("/checkin/desk", status_code=303)
    lang = language(request)
    with get_sessionmaker()() as session:
        events = _events(session, who)
        current = _pick(events, event)
        counts = checkin.counts_per_category(session, current.id) if current else []
        context = {
            "events": events,
            "event": current,
            "who": who,
            "counts": counts,
            "lang": lang,
            "tx": {k: t(f"checkin.{k}", lang) for k in _PAGE_KEYS},
        }
        return templates.TemplateResponse(request, "checkin.html", context)


_PAGE_KEYS = (
    "title scan stop code check rep_name letter camera_error jersey representative desk_label"
    " close_desk counts"
).split()


def _event_exists(event_id: int) -> bool:
    with get_sessionmaker()() as session:
        return session.get(Event, event_id) is not None


@router.post("/checkin/scan")
async def scan(
    request: Request,
    code: str = Form(...),
    nonce: str = Form(..., min_length=8, max_length=64),
    event_id: int | None = Form(None),
    representative_name: str = Form(""),
    letter: UploadFile | None = File(None),
) -> JSONResponse:
    """Check one code in; answer with what the desk shows (JSON)."""
    verify_csrf(request, request.headers.get(CSRF_HEADER))
    who = operator(request)
    if who is None:
        raise HTTPException(status_code=401, detail="open a desk or sign in")
    target = who.event_id or event_id
    if target is None:
        raise HTTPException(status_code=400, detail="event missing")
    if not await run_in_threadpool(_event_exists, target):  # else a foreign-key 500 (fuzz)
        raise HTTPException(status_code=404, detail="no such event")
    lang = language(request)
    photo = await _letter(representative_name, letter)
    request_ = checkin.Scan(
        event_id=target,
        code=code[:200],
        desk=who.desk,
        nonce=nonce,
        staff_id=who.staff_id,
        representative_name=representative_name.strip()[:200] or None,
        letter_path=photo.path,
        letter_error=photo.error,
    )
    # In a worker thread: the scan may wait on another desk's lock, never block the event loop.
    try:
        result, zone = await run_in_threadpool(check_in, request_, letter_jpeg=photo.jpeg)
    except StorageUnavailable:  # media disk full: the check-in rolled back with the letter
        message = t("faults.letter_not_stored", lang)
        return JSONResponse({"outcome": "letter_not_stored", "ok": False, "message": message})
    payload = _payload(result, lang, zone)
    payload["counts"] = await run_in_threadpool(_counts, target)  # the desk's counters, live
    payload["answers"] = await run_in_threadpool(_checkin_answers, result.registration_id, lang)
    return JSONResponse(payload)


def _checkin_answers(registration_id: int | None, lang: str) -> list[tuple[str, str]]:
    """The answers to the event's questions marked "show at check-in" (e.g. the shuttle bus)."""
    if registration_id is None:
        return []
    with get_sessionmaker()() as session:
        reg = session.get(Registration, registration_id)
        if reg is None:
            return []
        given = reg.participant.answers or {}
        return answers.custom_rows(session, reg.event_id, given, lang, checkin_only=True)


def _counts(event_id: int) -> list[dict[str, Any]]:
    with get_sessionmaker()() as session:
        rows = checkin.counts_per_category(session, event_id)
    return [{"code": c.code, "checked_in": c.checked_in, "paid": c.paid} for c in rows]


@dataclass(frozen=True, slots=True)
class _Letter:
    path: str | None = None  # planned name; the file is written only with its check-in
    jpeg: bytes | None = None
    error: str | None = None


async def _letter(representative_name: str, upload: UploadFile | None) -> _Letter:
    """Read and clean an authorisation-letter photo sent with a representative's pickup."""
    if not representative_name.strip() or upload is None or not upload.filename:
        return _Letter()
    try:
        jpeg = letters.clean_letter(await upload.read(letters.MAX_LETTER_BYTES + 1))
    except InvalidImage as exc:
        return _Letter(error=str(exc))
    return _Letter(path=letters.new_letter_path(), jpeg=jpeg)


_MESSAGE_KEYS = {"invalid_letter": "letter_invalid"}


def _payload(result: checkin.ScanResult, lang: str, zone: str) -> dict[str, Any]:
    local = result.collected_at.astimezone(ZoneInfo(zone)) if result.collected_at else None
    time = local.strftime("%H:%M") if local else ""
    # The pickup runs over several days: a duplicate says on which day it was collected.
    day = f"{local.day} {MONTHS[lang][local.month - 1]}" if local else ""
    params = {"time": time, "date": day, "desk": result.collected_by_desk or "-"}
    key = result.outcome.value
    return {
        "outcome": result.outcome.value,
        "ok": result.ok,
        "message": t(f"checkin.{_MESSAGE_KEYS.get(key, key)}", lang, **params),
        "runner_name": result.runner_name,
        "category": result.category,
        "bib": result.bib,
        "number": result.number,
        "jersey_size": result.jersey_size,
        "collected_at": time,
        "collected_by_desk": result.collected_by_desk,
        "representative_name": result.representative_name,
    }
