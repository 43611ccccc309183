"""Bank statement upload and matching: exact matches in one click, the rest matched by hand."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from admin import effects
from admin.auth import actor_name, csrf_protect, require_roles
from admin.session import flash_redirect
from admin.templating import templates
from core.db import get_sessionmaker, unit_of_work, utcnow
from core.enums import Role
from core.errors import Conflict, ServiceError
from core.models import AdminUser, Event, PaymentAccount, Registration
from core.services import statements
from core.services.templates import refresh_overrides

router = APIRouter(prefix="/admin/statements")
admin_only = require_roles(Role.ADMIN)
MAX_UPLOAD = 10 * 1024 * 1024


@router.get("", response_class=HTMLResponse)
def statements_page(
    request: Request, event_id: int | None = None, _user: AdminUser = Depends(admin_only)
) -> Response:
    with get_sessionmaker()() as session:
        events = session.scalars(select(Event).order_by(Event.race_date.desc())).all()
        event_id = event_id or (events[0].id if events else None)
        ctx = {
            "events": events,
            "event_id": event_id,
            "accounts": session.scalars(
                select(PaymentAccount).where(PaymentAccount.active.is_(True))
            ).all(),
            "presets": sorted(statements.PRESETS),
            "report": statements.match(session, event_id=event_id) if event_id else None,
        }
        return templates.TemplateResponse(request, "statements.html", ctx)


def _back(request: Request, event_id: int, message: str, kind: str = "ok") -> Response:
    return flash_redirect(request, f"/admin/statements?event_id={event_id}", message, kind)


@router.post("/upload", dependencies=[Depends(csrf_protect)])
async def upload(
    request: Request,
    file: UploadFile,
    event_id: int = Form(...),
    account_id: int = Form(...),
    preset: str = Form(""),
    user: AdminUser = Depends(admin_only),
) -> Response:
    """Parse the bank export, store its credits (never twice), and show the matches."""
    content = await file.read(MAX_UPLOAD + 1)
    if len(content) > MAX_UPLOAD:
        return _back(request, event_id, "The file is larger than 10 MB.", "error")
    try:
        text = _import(user, content, event_id=event_id, account_id=account_id, preset=preset)
    except (statements.StatementFormatError, ServiceError) as exc:
        return _back(request, event_id, f"Could not read the statement: {exc}", "error")
    return _back(request, event_id, text)


def _import(user: AdminUser, content: bytes, *, event_id: int, account_id: int, preset: str) -> str:
    """Parse with the chosen preset (remembered) or the account's mapping; store new credits."""
    with unit_of_work() as uow:
        account = uow.session.get(PaymentAccount, account_id)
        if account is None:
            raise Conflict("choose an account", key="admin.no_account")
        chosen = preset in statements.PRESETS
        mapping = dict(statements.PRESETS[preset]) if chosen else statements.mapping_for(account)
        preview = statements.parse_preview(content, mapping)
        if chosen:
            statements.save_mapping(
                uow.session, account_id=account.id, mapping=mapping, actor=actor_name(user)
            )
        new, known = statements.import_lines(
            uow.session,
            account_id=account.id,
            event_id=event_id,
            lines=preview.lines,
            actor=actor_name(user),
        )
    skipped = f", {len(preview.skipped)} rows skipped" if preview.skipped else ""
    return (
        f"Imported {new} credits ({known} already known, {preview.debits} debits ignored{skipped})."
    )


def _approve(user: AdminUser, line_id: int, registration_id: int | None) -> str:
    with unit_of_work() as uow:
        refresh_overrides(uow.session, now=utcnow())
        result = statements.approve_line(
            uow.session, line_id=line_id, actor=user, now=utcnow(), registration_id=registration_id
        )
        effects.deliver(uow, result.outbound)
        if result.paid:
            effects.send_ticket(uow, result.registration_id)
    return result.status


@router.post("/lines/{line_id}/approve", dependencies=[Depends(csrf_protect)])
def approve_line(
    request: Request,
    line_id: int,
    event_id: int = Form(...),
    registration: str = Form(""),
    user: AdminUser = Depends(admin_only),
) -> Response:
    """Approve the exact match, or the registration picked by id or typed by number."""
    try:
        registration_id = _registration_id(registration.strip())
        status = _approve(user, line_id, registration_id)
    except ServiceError as exc:
        return _back(
            request, event_id, f"Not approved: {exc.key} {exc.params or ''}".strip(), "error"
        )
    return _back(
        request, event_id, f"Line approved; registration is now {status.replace('_', ' ')}."
    )


def _registration_id(value: str) -> int | None:
    if not value:
        return None
    if value.isdigit():
        return int(value)
    with get_sessionmaker()() as session:
        found = session.scalar(select(Registration.id).where(Registration.number == value.upper()))
    if found is None:
        raise Conflict(f"no registration numbered {value}", key="admin.no_such_registration")
    return found


@router.post("/approve-exact", dependencies=[Depends(csrf_protect)])
def approve_exact(
    request: Request, event_id: int = Form(...), user: AdminUser = Depends(admin_only)
) -> Response:
    """Approve every exact match, one transaction per line (one failure does not stop the rest)."""
    with get_sessionmaker()() as session:
        line_ids = [m.line.id for m in statements.match(session, event_id=event_id).exact]
    done, failed = 0, 0
    for line_id in line_ids:
        try:
            _approve(user, line_id, None)
            done += 1
        except ServiceError:
            failed += 1
    return _back(
        request,
        event_id,
        f"Approved {done} exact matches" + (f", {failed} failed." if failed else "."),
    )


@router.post("/lines/{line_id}/discard", dependencies=[Depends(csrf_protect)])
def discard_line(
    request: Request, line_id: int, event_id: int = Form(...), user: AdminUser = Depends(admin_only)
) -> Response:
    try:
        with unit_of_work() as uow:
            statements.discard_line(uow.session, line_id=line_id, actor=actor_name(user))
    except ServiceError as exc:
        return _back(request, event_id, f"Not discarded: {exc.key}", "error")
    return _back(request, event_id, "Line discarded.")
