"""registrations.submit and catalog: numbering, quota, stock and duplicates under row locks."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import utcnow
from core.enums import Channel
from core.errors import DuplicateParticipant, SoldOut
from core.events import catalog
from core.models import AuditLog, Category, Event, JerseyStock
from core.registration import intake
from flows import parsers
from flows.spec import Option


def submission(event: Event, email: str, **answers: str) -> intake.Submission:
    values = {"full_name": "Siti Aminah", "email": email, "jersey_size": "M",
              "date_of_birth": "1990-08-17", "gender": "F", "phone": "+6281234567890", **answers}  # fmt: skip
    return intake.Submission(
        event_id=event.id,
        category_code=answers.get("category", "10K"),
        answers=values,
        channel=Channel.WHATSAPP.value,
        chat_id="6281234567890",
    )


def test_numbers_follow_the_category_sequence(session: Session, event: Event) -> None:
    first = intake.submit(session, submission=submission(event, "a@example.com"), now=utcnow())
    second = intake.submit(session, submission=submission(event, "b@example.com"), now=utcnow())
    other = intake.submit(
        session, submission=submission(event, "c@example.com", category="5K"), now=utcnow()
    )
    assert (first.number, second.number, other.number) == (
        "JFR-10K-00001", "JFR-10K-00002", "JFR-5K-00001"
    )  # fmt: skip
    assert first.participant.answers["email"] == "a@example.com"
    assert session.scalars(
        select(AuditLog).where(
            AuditLog.subject_type == "registration", AuditLog.subject_id == str(first.id)
        )
    ).one()


def test_quota_stock_and_duplicates_refused(session: Session, event: Event) -> None:
    category = session.scalars(select(Category).where(Category.code == "10K")).one()
    category.quota = 1
    intake.submit(session, submission=submission(event, "a@example.com"), now=utcnow())
    with pytest.raises(SoldOut) as sold:
        intake.submit(session, submission=submission(event, "b@example.com"), now=utcnow())
    assert sold.value.params["kind"] == "category"
    stock = session.scalars(select(JerseyStock).where(JerseyStock.size == "XS")).one()
    stock.taken = stock.stock
    with pytest.raises(SoldOut) as jersey:
        intake.submit(
            session,
            submission=submission(event, "c@example.com", category="5K", jersey_size="XS"),
            now=utcnow(),
        )
    assert jersey.value.params["kind"] == "jersey"
    with pytest.raises(DuplicateParticipant):
        intake.submit(
            session, submission=submission(event, "a@example.com", category="5K"), now=utcnow()
        )
    assert category.slots_taken == 1


def test_catalog_lists_what_is_left(session: Session, event: Event) -> None:
    now = utcnow()
    assert [e.id for e in catalog.open_events(session, now=now)] == [event.id]
    category = session.scalars(select(Category).where(Category.code == "21K")).one()
    category.slots_taken = category.quota
    assert [c.code for c in catalog.categories_with_slots(session, event_id=event.id)] == [
        "5K",
        "10K",
    ]
    assert "XS" in [j.size for j in catalog.jersey_sizes(session, event_id=event.id)]
    snap = catalog.snapshot(session, now=now)
    assert snap.find(None) is not None and snap.find(None).category("21k").slots_left == 0  # type: ignore[union-attr]


def test_keyboard_label_with_changed_numbers_still_matches() -> None:
    options = [Option("5K", "5K", detail="Fun Run 5K — Rp150.000 (sisa 9 slot)")]
    assert parsers.pick("5K — Fun Run 5K — Rp150.000 (sisa 10 slot)", options).value == "5K"
