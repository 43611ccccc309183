"""Broadcasts in core: segments and their reach, STOP exclusion, batched writing, progress."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import utcnow
from core.enums import OutboundStatus, RegistrationStatus
from core.errors import InvalidSetting
from core.messaging import broadcasts, outbox
from core.models import BroadcastRecipient, CheckIn, OutboundMessage
from tests import factories as f

PAID = RegistrationStatus.PAID


def _event_with_runners(session: Session):  # noqa: ANN202
    event = f.demo_event(session, admin_password=f.PASSWORD)
    regs = {
        "paid_5k": f.make_registration(session, event, status=PAID),
        "paid_10k": f.make_registration(session, event, status=PAID, code="10K"),
        "unpaid": f.make_registration(session, event),
        "cancelled": f.make_registration(session, event, status=RegistrationStatus.CANCELLED),
    }
    session.add(CheckIn(registration_id=regs["paid_5k"].id, event_id=event.id))
    session.flush()
    return event, regs


def _reach(session: Session, event_id: int, segment: str, arg: str = "") -> int:
    return broadcasts.reach(session, event_id=event_id, segment=segment, arg=arg).chats


def test_segments_reach_the_right_chats(session: Session) -> None:
    event, regs = _event_with_runners(session)
    assert _reach(session, event.id, "all") == 3  # the cancelled one is not reached
    assert _reach(session, event.id, "paid") == 2
    assert _reach(session, event.id, "unpaid") == 1
    assert _reach(session, event.id, "checked_in") == 1
    assert _reach(session, event.id, "not_checked_in") == 1
    assert _reach(session, event.id, "category", str(regs["paid_10k"].category_id)) == 1
    with pytest.raises(InvalidSetting):
        _reach(session, event.id, "category", "")
    with pytest.raises(InvalidSetting):
        _reach(session, event.id, "no-such-segment")


def test_stop_excludes_the_chat_and_start_brings_it_back(session: Session) -> None:
    event, regs = _event_with_runners(session)
    reg = regs["paid_5k"]
    assert broadcasts.opt_out(session, channel=reg.channel, chat_id=reg.chat_id) is True
    assert broadcasts.opt_out(session, channel=reg.channel, chat_id=reg.chat_id) is False
    assert broadcasts.reach(session, event_id=event.id, segment="paid") == broadcasts.Reach(1, 1)
    assert broadcasts.opt_in(session, channel=reg.channel, chat_id=reg.chat_id) is True
    assert broadcasts.opt_in(session, channel=reg.channel, chat_id=reg.chat_id) is False
    assert _reach(session, event.id, "paid") == 2


def test_a_phone_that_said_stop_on_one_whatsapp_number_is_excluded_on_the_other(
    session: Session,
) -> None:
    event = f.demo_event(session, admin_password=f.PASSWORD)
    f.make_registration(
        session, event, status=PAID, channel="whatsapp_cloud", chat_id="6281200001111"
    )
    broadcasts.opt_out(session, channel="whatsapp", chat_id="6281200001111", phone="6281200001111")
    assert broadcasts.reach(session, event_id=event.id, segment="paid") == broadcasts.Reach(0, 1)


def test_batches_write_one_bulk_row_per_chat_and_skip_stopped_chats(session: Session) -> None:
    event = f.demo_event(session, admin_password=f.PASSWORD)
    regs = [f.make_registration(session, event, status=PAID) for _ in range(4)]
    # A second registration in the first runner's chat: one message, not two.
    f.make_registration(session, event, status=PAID, chat_id=regs[0].chat_id)
    broadcasts.opt_out(session, channel=regs[1].channel, chat_id=regs[1].chat_id)
    sent = broadcasts.create(session, event_id=event.id, segment="paid", text="Race day *Sunday*",
                             actor="admin@example.test")  # fmt: skip
    first = broadcasts.write_batch(session, sent.id, limit=2)
    assert not first.done and len(first.rows) == 1  # regs[1] said STOP
    second = broadcasts.write_batch(session, sent.id, limit=2)
    third = broadcasts.write_batch(session, sent.id, limit=2)
    assert third.done and len(second.rows) + len(third.rows) == 2
    rows = session.scalars(
        select(OutboundMessage).where(
            OutboundMessage.idempotency_key.like(f"broadcast:{sent.id}:%")
        )
    ).all()
    assert len(rows) == 3
    assert {r.priority for r in rows} == {outbox.PRIORITY_BROADCAST}
    assert all("Race day *Sunday*" in r.text and "STOP" in r.text for r in rows)
    skipped = session.scalars(
        select(BroadcastRecipient).where(BroadcastRecipient.skipped == broadcasts.STOPPED)
    ).all()
    assert [s.chat_id for s in skipped] == [regs[1].chat_id]
    assert (
        broadcasts.write_batch(session, sent.id).rows == []
    )  # a finished broadcast writes nothing


def test_progress_counts_outcomes(session: Session) -> None:
    event = f.demo_event(session, admin_password=f.PASSWORD)
    for _ in range(3):
        f.make_registration(session, event, status=PAID)
    sent = broadcasts.create(session, event_id=event.id, segment="paid", text="Hello",
                             actor="admin@example.test")  # fmt: skip
    rows = broadcasts.write_batch(session, sent.id).rows
    outbox.mark_sent(session, outbound_id=rows[0].id, provider_message_id="x", now=utcnow())
    outbox.mark_failed(session, outbound_id=rows[1].id, error="blocked", now=utcnow())
    state = broadcasts.progress(session, sent.id)
    assert (state["sent"], state["failed"], state["pending"], state["done"]) == (1, 1, 1, False)
    outbox.mark_sent(session, outbound_id=rows[2].id, provider_message_id="y", now=utcnow())
    assert broadcasts.progress(session, sent.id)["done"] is True
    results = broadcasts.recipients(session, sent.id)
    assert all(number for _r, _o, number in results)
    assert [o.status for _r, o, _n in results if o] == [
        OutboundStatus.SENT,
        OutboundStatus.FAILED,
        OutboundStatus.SENT,
    ]


def test_an_empty_or_overlong_message_is_refused(session: Session) -> None:
    event = f.demo_event(session, admin_password=f.PASSWORD)
    for text in ("  ", "x" * (broadcasts.MAX_TEXT + 1)):
        with pytest.raises(InvalidSetting):
            broadcasts.create(session, event_id=event.id, segment="all", text=text, actor="a")


@pytest.mark.sqlite
def test_broadcast_and_race_files_on_sqlite(sqlite_url: str) -> None:
    from core.db import make_engine
    from core.fulfilment import race_files

    engine = make_engine(sqlite_url)
    with Session(engine) as session, session.begin():
        event = f.demo_event(session)
        regs = [f.make_registration(session, event, status=PAID) for _ in range(3)]
        broadcasts.opt_out(session, channel=regs[0].channel, chat_id=regs[0].chat_id)
        assert broadcasts.reach(session, event_id=event.id, segment="paid") == broadcasts.Reach(
            2, 1
        )
        sent = broadcasts.create(session, event_id=event.id, segment="paid", text="Hi", actor="a")
        assert broadcasts.write_batch(session, sent.id).done
        assert broadcasts.progress(session, sent.id)["written"] == 2
        assert len(list(race_files.jersey_rows(session, event.id))) >= 2
        assert len(list(race_files.age_group_rows(session, event.id))) == 2
    engine.dispose()


def test_a_quiet_broadcast_still_writing_is_found_for_resuming(session: Session) -> None:
    from datetime import timedelta

    event = f.demo_event(session, admin_password=f.PASSWORD)
    f.make_registration(session, event, status=PAID)
    sent = broadcasts.create(session, event_id=event.id, segment="paid", text="Hi", actor="a")
    now = utcnow()
    assert sent.id not in broadcasts.stalled(session, now=now)
    assert sent.id in broadcasts.stalled(session, now=now + timedelta(minutes=3))
    broadcasts.write_batch(session, sent.id)  # finished: nothing to resume
    assert sent.id not in broadcasts.stalled(session, now=now + timedelta(minutes=3))
