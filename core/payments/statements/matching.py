"""Who owes what, for statement matching: single registrations, and photo groups.

``owing_by_amount`` maps each outstanding amount to the registrations owing it (a part-paid
registration owes the rest). Photo groups: one credit paying every registration one photo was sent for.

A runner with several registrations may send one transfer and one photo "for all of them"
(``payment_photos.receive_photo_group`` marks each payment with ``flags["group"]``). The bank shows
one credit equal to the group's total, which no single unique amount matches; ``statements``
asks this module for the group instead.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.enums import (
    AWAITING_STATUSES,
    OWING_IN_FULL_STATUSES,
    PaymentStatus,
    RegistrationStatus,
    values,
)
from core.models import Payment, Registration, StatementLine
from core.payments.state import outstanding

# Every registration of the group must still be waiting for this money: none paid in part,
# rejected, paid or expired meanwhile (then the admin matches the credit by hand).


def owing_by_amount(session: Session, *, event_id: int) -> dict[int, list[Registration]]:
    """Map each amount still owed in the event to the registrations owing it."""
    owing: dict[int, list[Registration]] = defaultdict(list)
    for registration in session.scalars(
        select(Registration)
        .where(
            Registration.event_id == event_id, Registration.status.in_(values(AWAITING_STATUSES))
        )
        .order_by(Registration.id)
    ):
        owing[outstanding(registration)].append(registration)
    return owing


def open_groups(session: Session, *, event_id: int) -> dict[int, list[list[Registration]]]:
    """Map each total a photo group still owes to the groups owing it (registrations by id)."""
    flagged = session.scalars(
        select(Payment.flags)
        .join(Registration, Registration.id == Payment.registration_id)
        .where(
            Registration.event_id == event_id,
            Registration.status.in_(values(OWING_IN_FULL_STATUSES)),
            Payment.status == PaymentStatus.SUBMITTED.value,
        )
    ).all()
    groups = {tuple(sorted(int(i) for i in (f or {}).get("group") or [])) for f in flagged}
    owing: dict[int, list[list[Registration]]] = defaultdict(list)
    for ids in sorted(g for g in groups if len(g) > 1):
        members = session.scalars(
            select(Registration).where(Registration.id.in_(ids)).order_by(Registration.id)
        ).all()
        if len(members) == len(ids) and all(r.status in OWING_IN_FULL_STATUSES for r in members):
            owing[sum(outstanding(r) for r in members)].append(list(members))
    return owing


def paid_by_amount(session: Session, *, event_id: int) -> dict[int, list[Registration]]:
    """Paid registrations no statement line is linked to yet, by the amount they were due.

    A runner whose photo was approved still shows up on the bank statement: that credit is the
    same money, not an unmatched one (review A8).
    """
    linked = select(StatementLine.registration_id).where(StatementLine.registration_id.is_not(None))
    rows = session.scalars(
        select(Registration).where(
            Registration.event_id == event_id,
            Registration.status == RegistrationStatus.PAID.value,
            Registration.id.not_in(linked),
        )
    ).all()
    by_amount: dict[int, list[Registration]] = defaultdict(list)
    for registration in rows:
        by_amount[registration.amount_due].append(registration)
    return dict(by_amount)


def group_for(session: Session, *, event_id: int, amount: int) -> list[Registration] | None:
    """The one photo group owing exactly ``amount`` in total, else None (none, or several)."""
    groups = open_groups(session, event_id=event_id).get(amount, [])
    return groups[0] if len(groups) == 1 else None
