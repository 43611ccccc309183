"""OCR checks in the verification queue: checks beside the photo, corrections, approve all green.

Kept apart from admin/queue.py (approve/reject one payment): these routes only add to the queue.
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import select

from admin.auth import csrf_protect, require_roles
from admin.i18n import _, gettext, request_language
from admin.templating import templates
from core.db import get_sessionmaker, unit_of_work, utcnow
from core.enums import PaymentStatus, Role
from core.errors import Conflict, NotFound, RangeExhausted
from core.models import AdminUser, Event, Payment, PaymentImage
from core.payments.screenshot_reading import service
from core.payments.screenshot_reading.checks import check_payment
from workers.verification import approve_green_payment

router = APIRouter(prefix="/admin")
verifier = require_roles(Role.VERIFIER)
admin_only = require_roles(Role.ADMIN)
FIELD_LABELS = {
    "amount": _("Amount"), "when": _("Date"), "account": _("To account"),
    "holder": _("Account holder"), "sender": _("Sender"), "bank": _("Bank / e-wallet"),
    "status": _("Status"), "reference": _("Reference"),
}  # fmt: skip
LIST_LIMIT = 300
_AUTO = {True: _("Auto-approve on."), False: _("Auto-approve off.")}


def _image_size(session: Any, image_id: int) -> tuple[int, int]:
    image = session.get(PaymentImage, image_id)
    return (image.width, image.height) if image else (0, 0)


def checks_context(session: Any, payment: Payment) -> dict[str, Any]:
    """What the checks partial shows for one payment (no reading yet: ``checks`` is None)."""
    checks = check_payment(session, payment, now=utcnow())
    ctx: dict[str, Any] = {"payment": payment, "checks": checks, "labels": FIELD_LABELS}
    if checks is not None:
        width, height = _image_size(session, checks.reading.image_id)
        ok = {c.name: c.ok for c in checks.items}
        field_state = {"amount": ok.get("amount"), "account": ok.get("destination"),
                       "holder": ok.get("destination"), "when": ok.get("date"),
                       "status": ok.get("status"), "reference": ok.get("reference")}  # fmt: skip
        ctx["overlay"] = {
            "image_id": checks.reading.image_id, "width": width, "height": height,
            "boxes": [{"field": k, "box": v, "ok": field_state.get(k)}
                      for k, v in (checks.reading.boxes or {}).items()],
        }  # fmt: skip
        ctx["fields"] = checks.reading.fields or {}
        ctx["correctable"] = service.CORRECTABLE
    return ctx


@router.get("/queue/checks/{payment_id}", response_class=HTMLResponse)
def checks_fragment(
    request: Request, payment_id: int, _user: AdminUser = Depends(verifier)
) -> Response:
    """The checks beside the photo (HTML fragment fetched by queue_checks.js)."""
    with get_sessionmaker()() as session:
        payment = session.get(Payment, payment_id)
        if payment is None:
            raise NotFound(f"payment {payment_id}")
        return templates.TemplateResponse(
            request, "_queue_checks.html", checks_context(session, payment)
        )


@router.post("/queue/readings/{reading_id}/correct", dependencies=[Depends(csrf_protect)])
def correct(
    request: Request,
    reading_id: int,
    field: str = Form(...),
    value: str = Form(...),
    user: AdminUser = Depends(verifier),
) -> Response:
    """Store a verifier's correction of a misread field (the checks then use it)."""
    lang = request_language(request)
    label = gettext(FIELD_LABELS.get(field, field), lang)
    try:
        with unit_of_work() as uow:
            service.correct(
                uow.session, reading_id=reading_id, field=field, value=value, actor=user
            )
    except Conflict:
        text = gettext("Not a valid %(field)s.", lang, field=label.lower())
        return JSONResponse({"ok": False, "message": text}, status_code=400)
    except NotFound:
        text = gettext("That reading no longer exists.", lang)
        return JSONResponse({"ok": False, "message": text}, status_code=404)
    return JSONResponse({"ok": True, "message": gettext("%(field)s corrected.", lang, field=label)})


def _waiting(session: Any) -> list[Payment]:
    return list(
        session.scalars(
            select(Payment)
            .where(Payment.status == PaymentStatus.SUBMITTED.value)
            .order_by(Payment.submitted_at, Payment.id)
            .limit(LIST_LIMIT)
        )
    )


@router.get("/queue/checked", response_class=HTMLResponse)
def checked_list(request: Request, _user: AdminUser = Depends(verifier)) -> Response:
    """Every waiting payment with its checks, all green first, and the batch approval."""
    with get_sessionmaker()() as session:
        waiting = _waiting(session)
        checks = service.waiting_checks(session, waiting, now=utcnow())
        green = [p for p in waiting if p.id in checks and checks[p.id].all_green]
        rest = [p for p in waiting if p not in green]
        events = session.scalars(select(Event).order_by(Event.race_date.desc())).all()
        ctx = {
            "rows": [(p, checks.get(p.id)) for p in green + rest],
            "green_ids": [p.id for p in green],
            "events": [(e, service.auto_approver(session, e.id) is not None) for e in events],
            "is_admin": _user.role == Role.ADMIN.value,
        }
        return templates.TemplateResponse(request, "queue_checked.html", ctx)


@router.post("/queue/approve-green", dependencies=[Depends(csrf_protect)])
def approve_green(
    request: Request,
    ids: str = Form(""),
    confirm: str = Form(""),
    user: AdminUser = Depends(verifier),
) -> Response:
    """Approve the listed all-green payments, each re-checked in its own transaction."""
    lang = request_language(request)
    if confirm != "yes":
        text = gettext("Confirm the batch first.", lang)
        return JSONResponse({"ok": False, "message": text}, status_code=400)
    payment_ids = [int(i) for i in ids.split(",") if i.strip().isdecimal()][:LIST_LIMIT]
    batch = secrets.token_hex(6)
    approved: list[int] = []
    skipped: list[int] = []
    for payment_id in payment_ids:
        if payment_id in approved:
            continue  # approved with its group's photo
        try:
            done = approve_green_payment(payment_id, actor=user, batch=batch)
        except (Conflict, NotFound, RangeExhausted):
            done = []
        approved += done
        if payment_id not in done:
            skipped.append(payment_id)
    text = gettext("Approved %(n)s payment(s).", lang, n=len(approved))
    if skipped:
        text += " " + gettext(
            "%(n)s skipped (no longer all green or already handled).", lang, n=len(skipped)
        )
    return JSONResponse(
        {"ok": True, "message": text, "approved": approved, "skipped": skipped, "batch": batch}
    )


@router.post("/events/{event_id}/ocr-auto-approve", dependencies=[Depends(csrf_protect)])
def auto_approve(
    request: Request, event_id: int, enabled: str = Form(""), user: AdminUser = Depends(admin_only)
) -> Response:
    """Turn on/off auto-approval when screenshot, our account and a bank credit all agree."""
    on = enabled == "1"
    with unit_of_work() as uow:
        if uow.session.get(Event, event_id) is None:
            raise NotFound(f"event {event_id}")
        service.set_auto_approve(
            uow.session, event_id=event_id, enabled=on, actor=user, now=utcnow()
        )
    return JSONResponse(
        {"ok": True, "message": gettext(_AUTO[on], request_language(request)), "enabled": on}
    )
