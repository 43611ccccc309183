"""The two plugged-in broadcast segments: the waiting list and a custom-question answer."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.enums import RegistrationStatus
from core.errors import InvalidSetting
from core.messaging import broadcasts
from core.models import BroadcastRecipient, EventQuestion, WaitlistEntry
from tests import factories as f


def _entry(session: Session, event, cat, status: str = "waiting", **kw) -> WaitlistEntry:  # type: ignore[no-untyped-def]
    entry = WaitlistEntry(event_id=event.id, category_id=cat.id, channel="telegram",
                          chat_id=f.random_chat_id(), position=kw.pop("position", 1),
                          status=status, name="Waiting Runner", **kw)  # fmt: skip
    session.add(entry)
    session.flush()
    return entry


def test_waiting_list_reaches_runners_still_waiting_or_offered(session: Session) -> None:
    event = f.demo_event(session, admin_password=f.PASSWORD)
    five, ten = f.category(session, event, "5K"), f.category(session, event, "10K")
    _entry(session, event, five)
    _entry(session, event, five, "offered", position=2)
    _entry(session, event, ten)
    _entry(session, event, five, "lapsed", position=3)
    _entry(session, event, five, "left", position=4)
    f.make_registration(session, event, status=RegistrationStatus.PAID)  # not on a list
    reach = broadcasts.reach(session, event_id=event.id, segment="waitlist")
    assert reach.chats == 3
    assert (
        broadcasts.reach(session, event_id=event.id, segment="waitlist", arg=str(ten.id)).chats == 1
    )


def test_waiting_list_broadcast_writes_one_row_per_waiting_chat_and_honours_stop(
    session: Session,
) -> None:
    event = f.demo_event(session, admin_password=f.PASSWORD)
    cat = f.category(session, event, "5K")
    entries = [_entry(session, event, cat, position=n) for n in range(3)]
    broadcasts.opt_out(session, channel="telegram", chat_id=entries[1].chat_id)
    sent = broadcasts.create(session, event_id=event.id, segment="waitlist",
                             text="More slots on Friday", actor="admin@example.test")  # fmt: skip
    batch = broadcasts.write_batch(session, sent.id)
    assert batch.done and len(batch.rows) == 2
    assert {r.recipient for r in batch.rows} == {entries[0].chat_id, entries[2].chat_id}
    recipients = session.scalars(
        select(BroadcastRecipient).where(BroadcastRecipient.broadcast_id == sent.id)
    ).all()
    assert len(recipients) == 3 and all(r.registration_id is None for r in recipients)
    assert sum(r.skipped == broadcasts.STOPPED for r in recipients) == 1


def test_answer_segment_matches_the_stored_answer_case_insensitively(session: Session) -> None:
    event = f.demo_event(session, admin_password=f.PASSWORD)
    question = EventQuestion(event_id=event.id, kind="choice", label="Naik shuttle?",
                             options=[{"id": "Ya", "en": "Yes"}, {"id": "Tidak", "en": "No"}])  # fmt: skip
    session.add(question)
    session.flush()
    key = question.key
    for answer, status in (("Ya", RegistrationStatus.PAID), ("ya", RegistrationStatus.PENDING_PAYMENT),
                           ("Tidak", RegistrationStatus.PAID), ("Ya", RegistrationStatus.CANCELLED)):  # fmt: skip
        person = f.runner(session, event)
        person.answers = {**person.answers, key: answer}
        f.make_registration(session, event, participant=person, status=status)
    f.make_registration(session, event, status=RegistrationStatus.PAID)  # did not answer
    session.flush()
    assert (
        broadcasts.reach(
            session, event_id=event.id, segment="answer", arg=f"{question.id}=Ya"
        ).chats
        == 2
    )
    assert (
        broadcasts.reach(
            session, event_id=event.id, segment="answer", arg=f"{question.id}=tidak"
        ).chats
        == 1
    )
    with pytest.raises(InvalidSetting):
        broadcasts.reach(session, event_id=event.id, segment="answer", arg="shuttle")
