"""Fulfilment: turn an approved registration into a paid one with a BIB number and a ticket token.

Runs inside the approving caller's transaction (payments.approve), so a failure anywhere rolls the
BIB counter back with everything else: numbers are never skipped and never half-assigned.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from core import audit
from core.db import insert_ignore
from core.enums import RegistrationStatus
from core.errors import RangeExhausted
from core.fulfilment import tickets
from core.models import Category, Registration, Sequence

BIB_KIND = "bib"


def _lock_bib_sequence(session: Session, category: Category) -> Sequence:
    """Return the category's BIB counter row, created if missing, locked FOR UPDATE."""
    # The row lock serialises concurrent approvals per category, so BIBs follow approval order.
    insert_ignore(
        session,
        Sequence.__table__,
        [{"category_id": category.id, "kind": BIB_KIND, "next_value": category.bib_start}],
        keys=["category_id", "kind"],
    )
    return session.execute(
        select(Sequence)
        .where(Sequence.category_id == category.id, Sequence.kind == BIB_KIND)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def format_bib(category: Category, number: int) -> str:
    """Return the printed BIB: the category prefix followed by the number."""
    return f"{category.bib_prefix or ''}{number}"


def _bib_taken(session: Session, event_id: int, bib: str) -> bool:
    return bool(
        session.scalar(
            select(exists().where(Registration.event_id == event_id, Registration.bib == bib))
        )
    )


def assign_bib(session: Session, *, registration: Registration) -> str:
    """Give ``registration`` the next free BIB of its category; raise RangeExhausted when none is left.

    Also used after a category move. Numbers already held in the event (a range edited to overlap
    one already handed out) are passed over, so the unique (event_id, bib) constraint never fires.
    """
    category = session.get(Category, registration.category_id)
    assert category is not None
    sequence = _lock_bib_sequence(session, category)
    number = max(sequence.next_value, category.bib_start)
    while number <= category.bib_end and _bib_taken(
        session, registration.event_id, format_bib(category, number)
    ):
        number += 1
    if number > category.bib_end:
        raise RangeExhausted(
            f"BIB range of category {category.code} ({category.bib_start}-{category.bib_end}) is "
            "used up; extend the range in the category settings and approve again",
            category=category.code,
            bib_start=category.bib_start,
            bib_end=category.bib_end,
        )
    sequence.next_value = number + 1
    registration.bib_number = number
    registration.bib = format_bib(category, number)
    session.flush()
    return registration.bib


def mark_paid(session: Session, *, registration: Registration, actor: str, now: datetime) -> None:
    """Mark ``registration`` paid: BIB from its category's range, ticket token, audit row.

    Idempotent: a registration that is already paid is left as it is.

    Raises:
        RangeExhausted: no BIB left in the category's range; the caller's transaction must roll
            back (nothing is half-done because nothing here commits).
    """
    if registration.status == RegistrationStatus.PAID.value and registration.bib:
        return
    before = {"status": registration.status, "bib": registration.bib}
    if not registration.bib:
        assign_bib(session, registration=registration)
    registration.status = RegistrationStatus.PAID.value
    registration.paid_at = now
    # Frees the amount for the unique-code guarantee: only awaited payments hold an amount key.
    registration.amount_key = None
    tickets.issue(session, registration=registration, now=now)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="registration.paid",
        subject_type="registration",
        subject_id=registration.id,
        before=before,
        after={"status": registration.status, "bib": registration.bib},
        ticket_version=registration.ticket_version,
    )
