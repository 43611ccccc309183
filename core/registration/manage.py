"""Registrations changed by the organiser: edit participant, cancel, move category.

Lock order follows the design: registration first, then categories (by id), then jersey stock rows.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from core import audit
from core.db import utcnow
from core.enums import ACTIVE_STATUSES, RegistrationStatus
from core.errors import Conflict, NotFound
from core.fulfilment import paid, tickets
from core.models import Category, EventQuestion, Participant, Registration
from core.registration import refunds, stock, waitlist
from core.registration.intake import PARTICIPANT_FIELDS, age_on

EDITABLE = PARTICIPANT_FIELDS  # the organiser may correct every participant column


def _snapshot(participant: Participant) -> dict[str, Any]:
    return {name: getattr(participant, name) for name in EDITABLE}


def edit_participant(
    session: Session, *, registration_id: int, changes: dict[str, Any], actor: str
) -> dict[str, tuple[Any, Any]]:
    """Change participant fields; a jersey change moves stock. Returns {field: (before, after)}.

    Raises:
        SoldOut: the new jersey size has no stock left.
    """
    registration = stock.lock_registration(session, registration_id)
    participant = registration.participant
    before = _snapshot(participant)
    wanted = {k: _clean(k, v) for k, v in changes.items() if k in EDITABLE}
    diff = {k: (before[k], v) for k, v in wanted.items() if before[k] != v}
    if not diff:
        return {}
    if "jersey_size" in diff and registration.status in ACTIVE_STATUSES:
        old, new = diff["jersey_size"]
        stock.move_jersey(
            session, event_id=registration.event_id, old=old, new=new, key="admin.jersey_sold_out"
        )
    for name, (_old, new) in diff.items():
        setattr(participant, name, new)
        if name in participant.answers:
            stored = new.isoformat() if isinstance(new, date) else new
            participant.answers = {**participant.answers, name: stored}
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="registration.edited",
        subject_type="registration",
        subject_id=registration.id,
        before={k: old for k, (old, _new) in diff.items()},
        after={k: new for k, (_old, new) in diff.items()},
    )
    return diff


def _clean(name: str, value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        if value == "":
            return None if name != "full_name" else value
        if name == "date_of_birth":
            return date.fromisoformat(value)
    return value


def set_answer(
    session: Session, *, registration_id: int, question_id: int, value: Any, actor: str
) -> tuple[Any, Any]:
    """Store an organiser's (already parsed) answer to one of the event's questions (audited);
    return (before, after). Refused (NotFound) for another event's question."""
    registration = stock.lock_registration(session, registration_id)
    question = session.get(EventQuestion, question_id)
    if question is None or question.event_id != registration.event_id:
        raise NotFound(f"question {question_id}")
    person = registration.participant
    key = f"q{question.id}"
    before = (person.answers or {}).get(key)
    if before == value:
        return before, value
    person.answers = {**(person.answers or {}), key: value}  # a new dict: the JSON column sees it
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="registration.answer_edited",
        subject_type="registration",
        subject_id=registration.id,
        question_id=question.id,
        question=question.label,
        before={key: before},
        after={key: value},
    )
    return before, value


def cancel(
    session: Session, *, registration_id: int, actor: str, reason: str, now: datetime
) -> Registration:
    """Cancel a registration, releasing its slot and jersey, and revoke its ticket."""
    registration = stock.lock_registration(session, registration_id)
    if registration.status == RegistrationStatus.CANCELLED.value:
        return registration
    held = registration.status in ACTIVE_STATUSES
    before = {"status": registration.status}
    if held:
        stock.release(session, registration)
    registration.status = RegistrationStatus.CANCELLED.value
    registration.cancelled_at = now
    registration.amount_key = None
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="registration.cancelled",
        subject_type="registration",
        subject_id=registration.id,
        before=before,
        after={"status": registration.status},
        reason=reason,
        released=held,
    )
    refunds.owe_on_cancel(session, registration, actor=actor)  # what a paid runner paid
    if registration.ticket_token:
        tickets.reissue(session, registration=registration, actor=actor)
    return registration


def move_category(
    session: Session, *, registration_id: int, category_id: int, actor: str
) -> Registration:
    """Move a registration to another category of its event, if that one has a slot left.

    Raises:
        Conflict: another event, or the runner's age is outside the category's limits.
        SoldOut: the target category is full.
        RangeExhausted: the runner had a BIB and the new category's range is used up.
    """
    registration = stock.lock_registration(session, registration_id)
    if registration.category_id == category_id:
        return registration
    new = _take_slot(session, registration, category_id)
    before = {"category_id": registration.category_id, "bib": registration.bib}
    registration.category_id = new.id
    registration.category = new
    _reassign_bib(session, registration)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="registration.moved",
        subject_type="registration",
        subject_id=registration.id,
        before=before,
        after={"category_id": new.id, "bib": registration.bib},
    )
    if registration.ticket_token:
        tickets.reissue(session, registration=registration, actor=actor)
    return registration


def _take_slot(session: Session, registration: Registration, category_id: int) -> Category:
    """Lock both categories (id order), check the target, and move the held slot."""
    cats = stock.lock_categories(session, {registration.category_id, category_id})
    old, new = cats.get(registration.category_id), cats.get(category_id)
    if new is None or new.event_id != registration.event_id:
        raise Conflict("category belongs to another event", key="admin.category_other_event")
    _check_age(registration.participant, new, registration.event.race_date)
    # A voucher's place beyond the public quota took no public slot: it takes none and frees none.
    if registration.status in ACTIVE_STATUSES and not registration.outside_quota:
        stock.take_slot(new)
        if old is not None:
            stock.give_back_slot(old)
            waitlist.offer_freed(session, old, jersey=None, now=utcnow())  # the place it left
    return new


def _check_age(participant: Participant, category: Category, race_date: date) -> None:
    born = participant.date_of_birth
    if born is None:
        return
    age = age_on(born, race_date)
    too_young = category.min_age is not None and age < category.min_age
    too_old = category.max_age is not None and age > category.max_age
    if too_young or too_old:
        raise Conflict(f"age {age} outside {category.code} limits", key="admin.age_outside")


def _reassign_bib(session: Session, registration: Registration) -> None:
    """A BIB belongs to its category's range, so a runner who had one gets one from the new range."""
    if registration.bib is None:
        return
    registration.bib = None
    registration.bib_number = None
    session.flush()
    paid.assign_bib(session, registration=registration)
