"""STATUS in a group leader's chat: the group as one block with one amount, then each runner's BIB."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from core.enums import Channel
from core.formatting import rupiah
from core.payments import group_payment
from core.registration import groups, intake
from tests.factories import (
    NOW,
    UNPAID,
    demo_event,
    encode,
    inbound,
    make_registration,
    make_staff,
    random_phone,
    screenshot,
    suffix,
)
from tests.flows.chat import Chat


def _group(session: Session, event, chat_id: str, size: int = 3):  # type: ignore[no-untyped-def]
    group = groups.start(session, event_id=event.id, channel="telegram", chat_id=chat_id,
                         leader_name="Leader")  # fmt: skip
    for n in range(size):
        answers = {"full_name": f"Runner {n} {suffix()}", "gender": "F", "phone": random_phone(),
                   "email": f"g-{suffix()}@example.test", "jersey_size": "M"}  # fmt: skip
        sub = intake.Submission(event_id=event.id, category_code="5K", answers=answers,
                                channel="telegram", chat_id=chat_id)  # fmt: skip
        groups.add_member(session, group, sub, now=NOW)
    group_payment.assign_group_amount(session, group=group, now=NOW)
    return group


def test_status_shows_the_group_with_one_amount_then_its_bibs(session: Session) -> None:
    chat = Chat(session, Channel.TELEGRAM)
    event = demo_event(session)
    own = make_registration(session, event, **UNPAID, channel="telegram", chat_id=chat.chat_id)
    group = _group(session, event, chat.chat_id)
    members = groups.members(session, group)
    [reply] = chat.send("STATUS")
    assert f"1. *{own.number}*" in reply.text and "2. 👥 *Grup 3 pelari*" in reply.text
    assert "Grup 3 pelari" in reply.text and all(r.number in reply.text for r in members)
    assert reply.text.count("Tagihan") == 2 and rupiah(group.amount_due) in reply.text
    assert rupiah(members[0].amount_due) not in reply.text  # no share carrying the group's code
    raw = inbound(encode(screenshot(group.amount_due), "PNG"))
    group_payment.receive_group_photo(session, group=group, stored_path=raw,
                                      provider_file_id=None, now=NOW + timedelta(minutes=30))  # fmt: skip
    group_payment.approve_group(session, group=group, actor=make_staff(session),
                                now=NOW + timedelta(hours=1))  # fmt: skip
    [reply] = chat.send("STATUS")
    assert all(r.bib and f"BIB *{r.bib}*" in reply.text for r in members)
    assert "Tagihan seluruh grup" not in reply.text and "TIKET" in reply.text
