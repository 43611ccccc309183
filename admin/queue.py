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
from core.enums import PaymentStatus, Role
from core.errors import Conflict, NotFound, RangeExhausted
from core.models import AdminUser, Payment, Registration
from core.payments import rejection, review_queue, screenshots
from workers.verification import (
    approve_group_payment,
    approve_payment,
    reject_group_payment,
    reject_payment,
)

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
        "pending": _pending(session),
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


def _group_members(session: Any, payment: Payment) -> list[Payment]:
    """The other waiting payments of the same group photo, lowest registration id first."""
    group = [int(i) for i in (payment.flags or {}).get("group", [])]
    if len(group) < 2:
        return []
    return list(
        session.scalars(
            select(Payment)
            .where(
                Payment.registration_id.in_(group),
                Payment.status == PaymentStatus.SUBMITTED.value,
                Payment.id != payment.id,
            )
            .order_by(Payment.registration_id)
        )
    )


def _leader(session: Any, payment: Payment | None) -> Payment | None:
    """A group photo is one queue item: the waiting member with the lowest registration id."""
    if payment is None:
        return None
    earlier = [
        m for m in _group_members(session, payment) if m.registration_id < payment.registration_id
    ]
    return earlier[0] if earlier else payment


def _shown_item(session: Any, current: int | None = None, step: str = "next") -> Payment | None:
    """The next (or previous) waiting payment, skipping the other members of a group photo."""
    item = review_queue.queue_item(session, current=current, step=step)
    seen: set[int] = set()
    while item is not None and _leader(session, item) is not item and item.id not in seen:
        seen.add(item.id)
        item = review_queue.queue_item(session, current=item.id, step=step)
    return _leader(session, item)


def _pending(session: Any) -> int:
    """Waiting items: a group photo counts once."""
    rows = session.execute(
        select(Payment.registration_id, Payment.flags).where(
            Payment.status == PaymentStatus.SUBMITTED.value
        )
    ).all()
    waiting = {reg for reg, _flags in rows}
    return sum(
        1
        for reg, flags in rows
        if not any(int(i) in waiting and int(i) < reg for i in (flags or {}).get("group", []))
    )


@router.get("/queue", response_class=HTMLResponse)
def queue_page(
    request: Request, payment: int | None = None, _user: AdminUser = Depends(verifier)
) -> Response:
    """The queue page, opened on the oldest waiting payment (or ``payment``)."""
    with get_sessionmaker()() as session:
        item = _leader(session, session.get(Payment, payment)) if payment else _shown_item(session)
        ctx = _item_context(session, item)
        ctx["pending"] = _pending(session)
        return templates.TemplateResponse(request, "queue.html", ctx)


@router.get("/queue/item", response_class=HTMLResponse)
def queue_item(
    request: Request, current: int | None = None, step: str = "next", _user=Depends(verifier)
) -> Response:
    """The HTML fragment of the next (or previous) waiting payment, for the queue's fetch calls."""
    with get_sessionmaker()() as session:
        item = _shown_item(session, current=current, step=step)
        ctx = _item_context(session, item)
        ctx["pending"] = _pending(session)
        return templates.TemplateResponse(request, "_queue_item.html", ctx)


def _result(request: Request, ok: bool, message: str, status: int = 200, **extra: Any) -> Response:
    if wants_json(request):
        return JSONResponse({"ok": ok, "message": message, **extra}, status_code=status)
    return flash_redirect(request, "/admin/queue", message, "ok" if ok else "error")


def _parse_amount(raw: str) -> int | None:
    digits = "".join(ch for ch in raw if ch.isdecimal())
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
    team = _registration_group_of(payment_id)
    if team is not None:  # a group's one photo: one approval, one message to the leader
        return _approve_team(request, team, _parse_amount(amount_received), user)
    shares = _shares(payment_id, _parse_amount(amount_received))
    try:
        result = approve_payment(payment_id, actor=user, amount_received=shares[0][1])
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
    if len(shares) > 1:
        done = 1 + _approve_members(shares[1:], user)
        text += " " + gettext("%(n)s registrations of this photo approved.", lang, n=done)
    return _result(request, True, text, changed=True, status_after=result.status)


def _registration_group_of(payment_id: int) -> int | None:
    """The registration group (DAFTAR GRUP) whose one photo this payment is, if it is one."""
    with get_sessionmaker()() as session:
        payment = session.get(Payment, payment_id)
        if payment is None or len((payment.flags or {}).get("group") or []) < 2:
            return None
        return payment.registration.group_id


def _approve_team(request: Request, group_id: int, amount: int | None, user: AdminUser) -> Response:
    lang = request_language(request)
    try:
        outcome = approve_group_payment(group_id, actor=user, amount_received=amount)
    except RangeExhausted as exc:
        return _result(request, False, str(exc), 409)
    except Conflict as exc:
        return _result(request, False, _conflict_text(exc), 409)
    changed = [a for a in outcome.approvals if a.changed]
    if not changed:
        return _result(request, True, gettext("Already approved.", lang), changed=False)
    text = gettext("Approved: paid.", lang) if outcome.paid else gettext("Approved.", lang)
    short = sum(a.shortfall for a in changed)
    if short:
        text += " " + gettext("Short by %(amount)s.", lang, amount=money(short, lang))
    text += " " + gettext("%(n)s registrations of this photo approved.", lang, n=len(changed))
    return _result(request, True, text, changed=True, status_after=changed[0].status)


def _shares(payment_id: int, amount: int | None) -> list[tuple[int, int | None]]:
    """(payment id, amount received) for the payment and the rest of its group photo.

    No amount typed: each registration as due. An amount typed for a group photo pays the
    registrations in turn; the last one paid gets what is left (partly paid), the ones after it
    stay in the queue."""
    with get_sessionmaker()() as session:
        payment = session.get(Payment, payment_id)
        if payment is None:
            return [(payment_id, amount)]
        members = [payment, *_group_members(session, payment)]
        if amount is None:
            return [(m.id, None) for m in members]
        if len(members) == 1:
            return [(payment_id, amount)]
        shares, left = [], amount
        for n, member in enumerate(members):
            due = member.registration.amount_due
            share = left if n == len(members) - 1 else min(left, due)
            if share <= 0:
                break
            shares.append((member.id, share))
            left -= share
        return shares or [(payment_id, amount)]


def _approve_members(shares: list[tuple[int, int | None]], user: AdminUser) -> int:
    """Approve the other payments of a group photo, each in its own transaction."""
    done = 0
    for member_id, share in shares:
        try:
            done += int(approve_payment(member_id, actor=user, amount_received=share).changed)
        except (Conflict, NotFound, RangeExhausted):
            continue  # stays in the queue on its own, where the verifier sees why
    return done


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
    note = note if preset else ""
    group_id = _registration_group_of(payment_id)
    if group_id is not None:
        return _reject_team(request, payment_id, group_id, reason[:500], note, user)
    try:
        result = reject_payment(payment_id, actor=user, reason=reason[:500], note=note)
    except Conflict as exc:
        return _result(request, False, _conflict_text(exc), 409)
    except NotFound:
        return _result(request, False, gettext("This payment no longer exists.", lang), 404)
    if not result.changed:
        return _result(request, True, gettext("Already rejected.", lang), changed=False)
    for member_id, _share in _shares(payment_id, None)[1:]:
        try:
            reject_payment(member_id, actor=user, reason=reason[:500], note=note)
        except (Conflict, NotFound):
            continue
    return _result(request, True, gettext("Rejected; the runner was told why.", lang), changed=True)


def _reject_team(
    request: Request, payment_id: int, group_id: int, reason: str, note: str, user: AdminUser
) -> Response:
    """A registration group's photo: every member rejected, the leader told once."""
    lang = request_language(request)
    try:
        outcome = reject_group_payment(group_id, actor=user, reason=reason, note=note)
    except NotFound:
        return _result(request, False, gettext("This payment no longer exists.", lang), 404)
    if not outcome.rejections and _status_of(payment_id) == PaymentStatus.REJECTED.value:
        return _result(request, True, gettext("Already rejected.", lang), changed=False)
    if not outcome.rejections:  # approved meanwhile, or nothing owed any more
        text = gettext("Nothing of this group is waiting any more; reload the queue.", lang)
        return _result(request, False, text, 409)
    if not any(r.changed for r in outcome.rejections):
        return _result(request, True, gettext("Already rejected.", lang), changed=False)
    text = gettext("Rejected; the group's leader was told why, in one message.", lang)
    return _result(request, True, text, changed=True)


def _status_of(payment_id: int) -> str | None:
    with get_sessionmaker()() as session:
        payment = session.get(Payment, payment_id)
        return payment.status if payment is not None else None
