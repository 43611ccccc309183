"""Check a reading against what the registration owes and the event's accounts.

Each check is ✓ (True), ✗ (False) or unknown (None: the field was not read). "All green" means
every positive check passed and no fraud flag is raised; only those are offered for batch approval.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core.models import Payment, PaymentAccount, Registration, ScreenshotReading
from core.payments.screenshot_reading.extract import FAILURE, SUCCESS, squash
from core.payments.state import outstanding

SLACK = timedelta(minutes=2)  # screenshots show minutes; clocks of phones and servers drift
POSITIVE = ("amount", "destination", "date", "status")


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool | None
    detail: str = ""


@dataclass(slots=True)
class Checks:
    reading: ScreenshotReading
    items: list[Check] = field(default_factory=list)
    difference: int | None = None  # read amount minus the amount due

    @property
    def all_green(self) -> bool:
        by_name = {c.name: c.ok for c in self.items}
        flags_clear = all(c.ok is not False for c in self.items)
        return flags_clear and all(by_name.get(name) is True for name in POSITIVE)

    def get(self, name: str) -> Check | None:
        return next((c for c in self.items if c.name == name), None)


def rupiah(value: int) -> str:
    return "Rp" + f"{value:,}".replace(",", ".")


def amount_due(payment: Payment) -> int:
    """What this photo should show: the group total for a group photo, else what is owed."""
    flags = payment.flags or {}
    if flags.get("group_total"):
        return int(flags["group_total"])
    return outstanding(payment.registration)


def amount_check(read: int | None, due: int) -> tuple[Check, int | None]:
    if read is None:
        return Check("amount", None, "not read"), None
    difference = read - due
    if difference == 0:
        return Check("amount", True, f"{rupiah(read)} as due"), 0
    side = "short" if difference < 0 else "over"
    return Check(
        "amount", False, f"{rupiah(read)}: {side} by {rupiah(abs(difference))}"
    ), difference


def event_accounts(session: Session, event_id: int) -> Sequence[PaymentAccount]:
    return session.scalars(
        select(PaymentAccount).where(
            PaymentAccount.active.is_(True),
            or_(PaymentAccount.event_id == event_id, PaymentAccount.event_id.is_(None)),
        )
    ).all()


def destination_check(fields: dict[str, Any], accounts: Sequence[PaymentAccount]) -> Check:
    account = fields.get("account")
    holder = fields.get("holder")
    if account:
        for ours in accounts:
            digits = "".join(ch for ch in ours.account_number if ch.isdecimal())
            if digits and digits == account:
                return Check("destination", True, f"{ours.bank_name} {ours.account_number}")
        return Check("destination", False, f"{account} is not one of our accounts")
    if holder:
        for ours in accounts:
            if ours.holder_name and squash(ours.holder_name) == squash(holder):
                return Check("destination", True, f"holder {ours.holder_name}")
        return Check("destination", False, f"{holder} is not one of our account holders")
    return Check("destination", None, "not read")


def local_to_utc(value: str, timezone: str) -> datetime:
    return datetime.fromisoformat(value).replace(tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def date_check(when: str | None, registration: Registration, now: datetime) -> Check:
    """Not before the registration was made, not after its deadline (or the window), not future."""
    if not when:
        return Check("date", None, "not read")
    event = registration.event
    moment = local_to_utc(when, event.timezone)
    start = max(d for d in (registration.created_at, event.registration_opens_at) if d)
    ends = [d for d in (event.registration_closes_at, registration.payment_deadline,
                        registration.expires_at) if d]  # fmt: skip
    end = min(max(ends) if ends else now, now)
    shown = when.replace("T", " ")
    if moment < start - SLACK:
        return Check("date", False, f"{shown} is before the registration")
    if moment > end + SLACK:
        return Check("date", False, f"{shown} is after the payment window")
    return Check("date", True, shown)


def status_check(status: str | None) -> Check:
    if status in FAILURE.values():
        return Check("status", False, status)
    if status in SUCCESS.values():
        return Check("status", True, status)
    return Check("status", None, "no status word")


def reference_check(session: Session, reading: ScreenshotReading, payment: Payment) -> Check | None:
    """The same transaction reference on another registration's screenshot: a fraud flag."""
    if not reading.reference:
        return None
    group = {int(i) for i in (payment.flags or {}).get("group") or []} | {payment.registration_id}
    others = session.execute(
        select(Payment.id, Registration.number)
        .join(ScreenshotReading, ScreenshotReading.payment_id == Payment.id)
        .join(Registration, Registration.id == Payment.registration_id)
        .where(ScreenshotReading.reference == reading.reference, Payment.id != payment.id)
        .where(Registration.id.not_in(group))
    ).all()
    if not others:
        return Check("reference", True, reading.reference)
    numbers = ", ".join(sorted({number for _id, number in others}))
    return Check("reference", False, f"{reading.reference} already used by {numbers}")


def duplicate_check(payment: Payment) -> Check | None:
    duplicates = (payment.flags or {}).get("duplicate_of") or []
    if not duplicates:
        return None
    return Check(
        "duplicate", False, "same image as payment " + ", ".join(f"#{i}" for i in duplicates)
    )


def latest_reading(session: Session, payment_id: int) -> ScreenshotReading | None:
    return session.scalars(
        select(ScreenshotReading)
        .where(ScreenshotReading.payment_id == payment_id, ScreenshotReading.status == "read")
        .order_by(ScreenshotReading.image_id.desc())
        .limit(1)
    ).first()


def check_payment(session: Session, payment: Payment, *, now: datetime) -> Checks | None:
    """The checks for the payment's newest readable screenshot, or None (not read, or unreadable)."""
    reading = latest_reading(session, payment.id)
    if reading is None:
        return None
    registration = payment.registration
    fields = reading.fields or {}
    amount, difference = amount_check(fields.get("amount"), amount_due(payment))
    items = [
        amount,
        destination_check(fields, event_accounts(session, registration.event_id)),
        date_check(fields.get("when"), registration, now),
        status_check(fields.get("status")),
    ]
    items += [
        c for c in (reference_check(session, reading, payment), duplicate_check(payment)) if c
    ]
    return Checks(reading, items, difference)
