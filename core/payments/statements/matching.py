"""Who owes what, for statement matching: single registrations, and photo groups.

``owing_by_amount`` maps each outstanding amount to the registrations owing it (a part-paid
registration owes the rest). Photo groups: one credit paying every registration one photo was sent for.

A runner with several registrations may send one transfer and one photo "for all of them"
(``payment_photos.receive_photo_group`` marks each payment with ``flags["group"]``). The bank shows
one credit equal to the group's total, which no single unique amount matches; ``statements``
asks this module for the group instead.

Registration groups (DAFTAR GRUP, core.registration.groups) are matched the same way before any
photo: the leader's one credit equals the group's combined amount. Their members owing in full
are left out of the single amounts (member 1 carries the group's code but no key of its own, so
a single runner may owe the same figure); a member part-paid in turn owes its rest on its own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core.enums import (
    AWAITING_STATUSES,
    OWING_IN_FULL_STATUSES,
    PaymentStatus,
    RegistrationStatus,
    values,
)
from core.models import Payment, Registration, RegistrationGroup, StatementLine
from core.payments.state import outstanding

# Every registration of the group must still be waiting for this money: none paid in part,
# rejected, paid or expired meanwhile (then the admin matches the credit by hand).


def owing_by_amount(session: Session, *, event_id: int) -> dict[int, list[Registration]]:
    """Map each amount still owed in the event to the registrations owing it."""
    owing: dict[int, list[Registration]] = defaultdict(list)
    for registration in session.scalars(
        select(Registration)
        .where(
            Registration.event_id == event_id,
            Registration.status.in_(values(AWAITING_STATUSES)),
            _not_owing_as_group(),
        )
        .order_by(Registration.id)
    ):
        owing[outstanding(registration)].append(registration)
    return owing


def _not_owing_as_group():  # type: ignore[no-untyped-def]
    """A registration group's member owes through the group's total until money arrived for it."""
    return or_(Registration.group_id.is_(None), func.coalesce(Registration.amount_received, 0) > 0)


def open_groups(session: Session, *, event_id: int) -> dict[int, list[list[Registration]]]:
    """Map each total a group still owes to the groups owing it (registrations by id).

    Photo groups (one photo for several registrations) and registration groups whose combined
    amount is still owed in full, photo or not; a group that is both is listed once.
    """
    owing: dict[int, list[list[Registration]]] = defaultdict(list)
    seen: set[tuple[int, ...]] = set()
    for members in [*_photo_groups(session, event_id), *_registration_groups(session, event_id)]:
        ids = tuple(r.id for r in members)
        if ids not in seen:
            seen.add(ids)
            owing[sum(outstanding(r) for r in members)].append(members)
    return owing


def _photo_groups(session: Session, event_id: int) -> list[list[Registration]]:
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
    found = []
    for ids in sorted(g for g in groups if len(g) > 1):
        members = session.scalars(
            select(Registration).where(Registration.id.in_(ids)).order_by(Registration.id)
        ).all()
        if len(members) == len(ids) and all(r.status in OWING_IN_FULL_STATUSES for r in members):
            found.append(list(members))
    return found


def _registration_groups(session: Session, event_id: int) -> list[list[Registration]]:
    """Registration groups with an amount, every awaiting member owing in full (by id)."""
    rows = session.scalars(
        select(Registration)
        .join(RegistrationGroup, RegistrationGroup.id == Registration.group_id)
        .where(
            RegistrationGroup.event_id == event_id,
            RegistrationGroup.amount_due > 0,
            Registration.status.in_(values(AWAITING_STATUSES)),
        )
        .order_by(Registration.group_id, Registration.id)
    ).all()
    by_group: dict[int, list[Registration]] = defaultdict(list)
    for registration in rows:
        by_group[registration.group_id or 0].append(registration)
    return [
        members
        for members in by_group.values()
        if all(not r.amount_received for r in members)
        and not any(r.status == RegistrationStatus.PARTIALLY_PAID.value for r in members)
    ]


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
    by_group: dict[int, list[Registration]] = defaultdict(list)
    for registration in rows:
        if registration.group_id is None:
            by_amount[registration.amount_due].append(registration)
        else:
            by_group[registration.group_id].append(registration)
    for group_id, members in by_group.items():  # a group's one credit: its combined amount
        group = session.get(RegistrationGroup, group_id)
        if group is not None and group.amount_due > 0:
            by_amount[group.amount_due].extend(members)
    return dict(by_amount)


def group_for(session: Session, *, event_id: int, amount: int) -> list[Registration] | None:
    """The one photo group owing exactly ``amount`` in total, else None (none, or several)."""
    groups = open_groups(session, event_id=event_id).get(amount, [])
    return groups[0] if len(groups) == 1 else None


def team_of(session: Session, members: Sequence[Registration]) -> RegistrationGroup | None:
    """The one registration group (DAFTAR GRUP) every registration belongs to, if they do."""
    ids = {r.group_id for r in members}
    if len(ids) != 1 or None in ids:
        return None
    return session.get(RegistrationGroup, ids.pop())
