"""Store readings, take verifiers' corrections, and find what a verifier may approve in a batch."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import audit
from core.db import insert_ignore
from core.enums import PaymentStatus
from core.errors import Conflict, NotFound
from core.models import (
    AdminUser,
    EventOcrSetting,
    Payment,
    PaymentImage,
    RegistrationGroup,
    ScreenshotCorrection,
    ScreenshotReading,
    StatementLine,
)
from core.payments import group_payment, verification
from core.payments.screenshot_reading.checks import (
    Checks,
    amount_due,
    check_payment,
    event_accounts,
)
from core.payments.screenshot_reading.extract import Reading, parse_amount
from core.payments.state import lock_open_payment, lock_payment
from core.payments.statements import matching
from core.payments.verification import Approval
from core.registration import groups

READ, UNREADABLE, FAILED, TIMEOUT = "read", "unreadable", "failed", "timeout"
CORRECTABLE = ("amount", "when", "account", "holder", "sender", "reference", "bank")


def record(
    session: Session,
    *,
    image_id: int,
    reading: Reading | None,
    status: str,
    engine: str,
    elapsed_ms: int,
    error: str | None = None,
) -> bool:
    """Store the outcome for one image (once: a second worker's copy is ignored); True if stored."""
    payment_id = session.scalar(select(PaymentImage.payment_id).where(PaymentImage.id == image_id))
    if payment_id is None:
        return False  # the image (or its payment) was deleted meanwhile
    fields = reading.fields() if reading is not None else {}
    if status == READ and not any(v is not None for v in fields.values()):
        status = UNREADABLE
    row = {
        "image_id": image_id,
        "payment_id": payment_id,
        "status": status,
        "engine": engine,
        "elapsed_ms": elapsed_ms,
        "amount": fields.get("amount"),
        "reference": fields.get("reference"),
        "account": fields.get("account"),
        "fields": fields,
        "boxes": {k: list(v) for k, v in (reading.boxes if reading else {}).items()},
        "text": (reading.text if reading else "")[:4000],
        "error": (error or "")[:200] or None,
    }
    return insert_ignore(session, ScreenshotReading.__table__, [row], keys=["image_id"]) == 1


def unread_images(session: Session, *, since: datetime, limit: int = 100) -> list[int]:
    """Images stored since ``since`` that have no reading yet (a lost enqueue, a worker crash)."""
    read = select(ScreenshotReading.image_id)
    return list(
        session.scalars(
            select(PaymentImage.id)
            .where(PaymentImage.created_at >= since, PaymentImage.id.not_in(read))
            .order_by(PaymentImage.id)
            .limit(limit)
        )
    )


def correct(
    session: Session, *, reading_id: int, field: str, value: str, actor: AdminUser
) -> ScreenshotCorrection:
    """Replace a misread field with the verifier's value; the original is kept in the correction."""
    if field not in CORRECTABLE:
        raise Conflict(key="ocr.field_not_correctable", field=field)
    reading = session.get(ScreenshotReading, reading_id, with_for_update=True)
    if reading is None:
        raise NotFound(f"screenshot reading {reading_id}")
    clean = _clean(field, value)
    fields = dict(reading.fields or {})
    before = fields.get(field)
    fields[field] = clean
    reading.fields = fields
    if field in ("amount", "reference", "account"):
        setattr(reading, field, clean)
    row = ScreenshotCorrection(
        reading_id=reading.id,
        field=field,
        read_value=None if before is None else str(before)[:200],
        corrected_value=str(clean)[:200],
        actor_id=actor.id,
    )
    session.add(row)
    audit.record(
        session, actor=actor.email, action="ocr.field_corrected", subject_type="payment",
        subject_id=reading.payment_id, before={field: before}, after={field: clean},
    )  # fmt: skip
    session.flush()
    return row


def _clean(field: str, value: str) -> int | str:
    value = value.strip()[:200]
    if field == "amount":
        amount = parse_amount(value.replace("Rp", "").replace("IDR", "").strip())
        if amount is None:
            raise Conflict(key="ocr.bad_amount")
        return amount
    if field == "when":
        try:
            return datetime.fromisoformat(value).strftime("%Y-%m-%dT%H:%M")
        except ValueError as exc:
            raise Conflict(key="ocr.bad_date") from exc
    if field == "account":
        return "".join(ch for ch in value if ch.isdecimal())
    return value.upper() if field in ("holder", "sender", "reference") else value


def corrections_by_field(session: Session) -> dict[str, int]:
    return dict(
        session.execute(
            select(ScreenshotCorrection.field, func.count()).group_by(ScreenshotCorrection.field)
        ).all()
    )


def waiting_checks(
    session: Session, payments: Sequence[Payment], *, now: datetime
) -> dict[int, Checks]:
    """Checks for each waiting payment that has a readable screenshot (payment id -> checks)."""
    found = {}
    for payment in payments:
        checks = check_payment(session, payment, now=now)
        if checks is not None:
            found[payment.id] = checks
    return found


def green_payments(session: Session, *, now: datetime, limit: int = 500) -> list[Payment]:
    """Waiting payments whose every check is green, oldest first."""
    waiting = session.scalars(
        select(Payment)
        .where(Payment.status == PaymentStatus.SUBMITTED.value)
        .where(Payment.id.in_(select(ScreenshotReading.payment_id)))
        .order_by(Payment.submitted_at, Payment.id)
        .limit(limit)
    ).all()
    checks = waiting_checks(session, waiting, now=now)
    return [p for p in waiting if p.id in checks and checks[p.id].all_green]


def set_auto_approve(
    session: Session, *, event_id: int, enabled: bool, actor: AdminUser, now: datetime
) -> None:
    """Turn auto-approval on or off; approvals it makes are in ``actor``'s name."""
    setting = session.get(EventOcrSetting, event_id) or EventOcrSetting(event_id=event_id)
    before = bool(setting.auto_approve)
    setting.auto_approve, setting.updated_at = enabled, now
    setting.enabled_by_id = actor.id if enabled else None
    session.add(setting)
    audit.record(
        session, actor=actor.email, action="ocr.auto_approve_set", subject_type="event",
        subject_id=event_id, before={"auto_approve": before}, after={"auto_approve": enabled},
    )  # fmt: skip


def auto_approver(session: Session, event_id: int) -> AdminUser | None:
    """The admin in whose name auto-approvals are made, when the event has them on."""
    setting = session.get(EventOcrSetting, event_id)
    if setting is None or not setting.auto_approve or setting.enabled_by_id is None:
        return None
    admin = session.get(AdminUser, setting.enabled_by_id)
    return admin if admin is not None and admin.active else None


def statement_credit(session: Session, payment: Payment, checks: Checks) -> StatementLine | None:
    """The one unmatched bank credit into our account that agrees with the screenshot, if any."""
    registration = payment.registration
    due = amount_due(payment)
    if checks.reading.amount != due or not checks.all_green:
        return None
    owing = matching.owing_by_amount(session, event_id=registration.event_id).get(due, [])
    if [r.id for r in owing] != [registration.id]:
        return None  # another registration owes the same amount: the credit may be theirs
    accounts = [a.id for a in event_accounts(session, registration.event_id)]
    lines = session.scalars(
        select(StatementLine).where(
            StatementLine.event_id == registration.event_id,
            StatementLine.status == "unmatched",
            StatementLine.amount == due,
            StatementLine.account_id.in_(accounts),
        )
    ).all()
    return lines[0] if len(lines) == 1 else None


def approve_if_green(
    session: Session, *, payment_id: int, actor: AdminUser, now: datetime, batch: str
) -> Approval | None:
    """Approve one payment of a batch, re-checked under its lock; None when no longer all green.

    Each item gets its own audit row (``payment.batch_approved``, with the batch id and the checks
    that were green), besides the usual ``payment.approved`` row of the approval itself.
    """
    _registration, payment = lock_payment(session, payment_id)
    if payment.status != PaymentStatus.SUBMITTED.value:
        return None
    checks = check_payment(session, payment, now=now)
    if checks is None or not checks.all_green:
        return None
    result = verification.approve(session, payment_id=payment_id, actor=actor, now=now)
    audit.record(
        session, actor=actor.email, action="payment.batch_approved", subject_type="payment",
        subject_id=payment_id, batch=batch, registration_id=payment.registration_id,
        checks={c.name: c.detail for c in checks.items}, amount=checks.reading.amount,
    )  # fmt: skip
    return result


def approve_group_if_green(
    session: Session,
    *,
    group: RegistrationGroup,
    payment: Payment,
    actor: AdminUser,
    now: datetime,
    batch: str,
) -> group_payment.GroupOutcome | None:
    """A registration group's photo in a batch: approved as one, like the single group approval.

    The leader gets the one combined message (group_payment.approve_group). Every member is
    locked first, lowest id first as approve_group does, then the photo is re-checked.
    None when the payment is no longer waiting or no longer all green.
    """
    for member in groups.awaiting(session, group):
        lock_open_payment(session, member.id)
    session.refresh(payment)
    if payment.status != PaymentStatus.SUBMITTED.value:
        return None
    checks = check_payment(session, payment, now=now)
    if checks is None or not checks.all_green:
        return None
    outcome = group_payment.approve_group(session, group=group, actor=actor, now=now)
    for approval in outcome.approvals:
        audit.record(
            session, actor=actor.email, action="payment.batch_approved", subject_type="payment",
            subject_id=approval.payment_id, batch=batch, registration_id=approval.registration_id,
            checks={c.name: c.detail for c in checks.items}, amount=checks.reading.amount,
            group_id=group.id,
        )  # fmt: skip
    return outcome


def operations_stats(session: Session, *, since: datetime) -> dict[str, object]:
    """For the operations page: readings by status, time per image, recent failures, corrections."""
    recent = ScreenshotReading.created_at >= since
    by_status = dict(
        session.execute(
            select(ScreenshotReading.status, func.count()).where(recent).group_by("status")
        ).all()
    )
    times = sorted(
        session.scalars(
            select(ScreenshotReading.elapsed_ms).where(recent, ScreenshotReading.status == READ)
        )
    )
    failures = session.scalars(
        select(ScreenshotReading)
        .where(recent, ScreenshotReading.status.in_([FAILED, TIMEOUT]))
        .order_by(ScreenshotReading.id.desc())
        .limit(20)
    ).all()
    unread = len(unread_images(session, since=since, limit=1000))
    return {
        "by_status": by_status,
        "median_ms": times[len(times) // 2] if times else None,
        "p95_ms": times[min(len(times) - 1, int(len(times) * 0.95))] if times else None,
        "failures": failures,
        "unread": unread,
        "corrections": corrections_by_field(session),
    }
