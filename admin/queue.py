"""The verification queue: one payment at a time, approve/reject by fetch, keyboard shortcuts."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import select

from admin.auth import csrf_protect, require_roles, wants_json
from admin.i18n import gettext, request_language, status_label
from admin.registrations import letter_context
from admin.session import flash_redirect
from admin.templating import local_dt, money, templates
from core.db import get_sessionmaker
from core.enums import Role
from core.errors import Conflict, NotFound, RangeExhausted
from core.models import AdminUser, Payment, Registration
from core.payments import rejection, review_queue, screenshots
from workers.verification import approve_payment, reject_payment

router = APIRouter(prefix="/admin")
verifier = require_roles(Role.VERIFIER)


def _item_context(session: Any, payment: Payment | None) -> dict[str, Any]:
    if payment is None:
        return {"payment": None, "pending": 0}
    registration = payment.registration
    return {
        "payment": payment,
        "reg": registration,
        "participant": registration.participant,
        "category": registration.category,
        "event": registration.event,
        "images": list(payment.images),
        "flags": payment.flags or {},
        "pending": review_queue.queue_size(session),
        "reasons": rejection.PRESET_REJECT_REASONS,
        **_reuse_context(session, payment.flags or {}),
        **letter_context(session, registration, f"/admin/queue?payment={payment.id}"),
    }


def _numbers(session: Any, ids: list[int]) -> dict[int, str]:
    """Registration numbers (JFR-...) by id: the verifier never sees database ids."""
    if not ids:
        return {}
    rows = session.execute(
        select(Registration.id, Registration.number).where(Registration.id.in_(ids))
    )
    return dict(rows.all())


def _reuse_context(session: Any, flags: dict[str, Any]) -> dict[str, Any]:
    """The reuse warnings (how similar, which registration number) and the group's numbers."""
    matches = [m for m in flags.get("duplicates", []) if isinstance(m, dict)]
    group = [int(i) for i in flags.get("group", [])]
    numbers = _numbers(session, [int(m["registration_id"]) for m in matches] + group)
    reuse = [
        {
            "number": numbers.get(int(m["registration_id"]), "?"),
            "payment_id": m.get("payment_id"),
            "exact": m.get("match") != "phash",
            "distance": int(m.get("distance") or 0),
            "bits": screenshots.PHASH_SIZE * screenshots.PHASH_SIZE,
        }
        for m in matches
    ]
    return {"reuse": reuse, "group_numbers": [numbers.get(i, "?") for i in group]}


@router.get("/queue", response_class=HTMLResponse)
def queue_page(
    request: Request, payment: int | None = None, _user: AdminUser = Depends(verifier)
) -> Response:
    """The queue page, opened on the oldest waiting payment (or ``payment``)."""
    with get_sessionmaker()() as session:
        item = session.get(Payment, payment) if payment else review_queue.queue_item(session)
        ctx = _item_context(session, item)
        ctx["pending"] = review_queue.queue_size(session)
        return templates.TemplateResponse(request, "queue.html", ctx)


@router.get("/queue/item", response_class=HTMLResponse)
def queue_item(
    request: Request, current: int | None = None, step: str = "next", _user=Depends(verifier)
) -> Response:
    """The HTML fragment of the next (or previous) waiting payment, for the queue's fetch calls."""
    with get_sessionmaker()() as session:
        item = review_queue.queue_item(session, current=current, step=step)
        ctx = _item_context(session, item)
        ctx["pending"] = review_queue.queue_size(session)
        return templates.TemplateResponse(request, "_queue_item.html", ctx)


def _result(request: Request, ok: bool, message: str, status: int = 200, **extra: Any) -> Response:
    if wants_json(request):
        return JSONResponse({"ok": ok, "message": message, **extra}, status_code=status)
    return flash_redirect(request, "/admin/queue", message, "ok" if ok else "error")


def _parse_amount(raw: str) -> int | None:
    digits = "".join(ch for ch in raw if ch.isdigit())
    return int(digits) if digits else None


@router.post("/payments/{payment_id}/approve", dependencies=[Depends(csrf_protect)])
def approve(
    request: Request,
    payment_id: int,
    amount_received: str = Form(""),
    user: AdminUser = Depends(verifier),
) -> Response:
    """Approve one payment; a second verifier is told who was first."""
    lang = request_language(request)
    try:
        result = approve_payment(
            payment_id, actor=user, amount_received=_parse_amount(amount_received)
        )
    except RangeExhausted as exc:
        return _result(request, False, str(exc), 409)
    except Conflict as exc:
        return _result(request, False, _conflict_text(exc), 409)
    except NotFound:
        return _result(request, False, gettext("This payment no longer exists.", lang), 404)
    if not result.changed:
        when = local_dt(result.at, "%H:%M") if result.at else "?"
        by = result.by or gettext("another verifier", lang)
        text = gettext("Already approved by %(by)s at %(when)s.", lang, by=by, when=when)
        return _result(request, True, text, changed=False, by=result.by, at=when)
    if result.paid:
        text = gettext("Approved: paid.", lang)
    else:
        text = gettext("Approved: %(status)s.", lang, status=status_label(result.status, lang))
    if result.shortfall:
        text += " " + gettext("Short by %(amount)s.", lang, amount=money(result.shortfall, lang))
    return _result(request, True, text, changed=True, status_after=result.status)


def _conflict_text(exc: Conflict) -> str:
    by = exc.params.get("by")
    if exc.key == "payment.already_approved":
        return f"Already approved by {by or 'another verifier'}; it cannot be rejected."
    return str(exc) if str(exc) != exc.key else "The registration changed; reload the queue."


@router.post("/payments/{payment_id}/reject", dependencies=[Depends(csrf_protect)])
def reject(
    request: Request,
    payment_id: int,
    reason: str = Form(""),
    note: str = Form(""),
    user: AdminUser = Depends(verifier),
) -> Response:
    """Reject with a preset reason key or free text; the runner is told and may send a new photo."""
    lang = request_language(request)
    if reason == "other" and not note.strip():
        text = gettext('Type the reason for "Other"; the runner will read it.', lang)
        return _result(request, False, text, 400)
    # A chosen preset keeps the typed note next to it (the runner reads both).
    preset = reason not in ("", "other")
    reason = (reason if preset else note.strip()).strip()
    if not reason:
        return _result(request, False, gettext("Choose a reason or type one.", lang), 400)
    try:
        result = reject_payment(
            payment_id, actor=user, reason=reason[:500], note=note if preset else ""
        )
    except Conflict as exc:
        return _result(request, False, _conflict_text(exc), 409)
    except NotFound:
        return _result(request, False, gettext("This payment no longer exists.", lang), 404)
    if not result.changed:
        return _result(request, True, gettext("Already rejected.", lang), changed=False)
    return _result(request, True, gettext("Rejected; the runner was told why.", lang), changed=True)
