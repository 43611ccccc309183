"""core.messaging.inbox and the delivery half of core.messaging.outbox, on a savepoint session."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from core.db import unit_of_work
from core.enums import Channel, OutboundStatus
from core.messages import InboundMessage, Reply
from core.messaging import inbox, outbox
from core.models import Conversation, OutboundMessage

NOW = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)


def _message(external_id: str, chat_id: str = "6281234567890") -> InboundMessage:
    return InboundMessage(
        channel=Channel.WHATSAPP, external_id=external_id, chat_id=chat_id, text="halo",
        phone=chat_id, sender_name="Budi", raw={"sender": chat_id},
    )  # fmt: skip


def test_record_inbound_dedupes_and_links_one_conversation(session: Session) -> None:
    first = inbox.record_inbound(session, _message("inbox:1"))
    again = inbox.record_inbound(session, _message("inbox:1"))
    second = inbox.record_inbound(session, _message("inbox:2"))
    assert first is not None and second is not None and again is None
    assert first.conversation_id == second.conversation_id
    conversation = session.get(Conversation, first.conversation_id)
    assert conversation is not None and conversation.phone == "6281234567890"
    assert [u.id for u in inbox.pending(session, conversation_id=conversation.id)] == [
        first.id,
        second.id,
    ]
    inbox.mark_processed(session, first, now=NOW)
    assert [u.id for u in inbox.pending(session, conversation_id=conversation.id)] == [second.id]
    assert inbox.message_of(second).text == "halo"


def _queue(session: Session, *texts: str) -> list[int]:
    return [
        outbox.write(
            session, channel="telegram", recipient="42", reply=Reply(text=text),
            idempotency_key=f"k:{text}",
        ).id
        for text in texts
    ]  # fmt: skip


def test_claims_are_one_at_a_time_in_id_order(session: Session) -> None:
    first, second = _queue(session, "a", "b")
    claim = outbox.claim_next(session, channel="telegram", recipient="42", now=NOW)
    assert claim.row is not None and claim.row.id == first
    assert outbox.claim_next(session, channel="telegram", recipient="42", now=NOW).busy
    outbox.mark_sent(session, outbound_id=first, provider_message_id="9", now=NOW)
    claim = outbox.claim_next(session, channel="telegram", recipient="42", now=NOW)
    assert claim.row is not None and claim.row.id == second


def test_abandoned_claim_is_taken_over_after_the_lease(session: Session) -> None:
    (only,) = _queue(session, "a")
    outbox.claim_next(session, channel="telegram", recipient="42", now=NOW)
    later = NOW + outbox.CLAIM_LEASE + timedelta(seconds=1)
    assert outbox.find_stale(session, now=later) == [("telegram", "42", 0)]
    claim = outbox.claim_next(session, channel="telegram", recipient="42", now=later)
    assert claim.row is not None and claim.row.id == only and claim.row.attempts == 2


def test_sent_rows_are_never_reclaimed_or_failed(session: Session) -> None:
    (only,) = _queue(session, "a")
    outbox.claim_next(session, channel="telegram", recipient="42", now=NOW)
    outbox.mark_sent(session, outbound_id=only, provider_message_id="1", now=NOW)
    row = outbox.mark_failed(session, outbound_id=only, error="late", now=NOW)
    assert row.status == OutboundStatus.SENT and row.provider_message_id == "1"
    assert outbox.claim_next(session, channel="telegram", recipient="42", now=NOW).row is None


def test_retry_later_blocks_the_queue_until_due(session: Session) -> None:
    first, _second = _queue(session, "a", "b")
    outbox.claim_next(session, channel="telegram", recipient="42", now=NOW)
    due = NOW + timedelta(seconds=30)
    outbox.retry_later(session, outbound_id=first, at=due, error="429")
    claim = outbox.claim_next(session, channel="telegram", recipient="42", now=NOW)
    assert claim.row is None and claim.wait_until == due  # "b" must not overtake "a"
    claim = outbox.claim_next(session, channel="telegram", recipient="42", now=due)
    assert claim.row is not None and claim.row.id == first


def test_queue_records_the_conversation_language(session: Session) -> None:
    update = inbox.record_inbound(session, _message("inbox:9"))
    assert update is not None
    row = outbox.write(
        session, channel="whatsapp", recipient="628", reply=Reply(text="x"),
        idempotency_key="lang:1", conversation_id=update.conversation_id,
    )  # fmt: skip
    assert row.extra["lang"] == "id"


def test_claim_batch_takes_consecutive_due_rows_and_release_hands_them_back(
    session: Session,
) -> None:
    first, second, third = _queue(session, "a", "b", "c")
    claimed = outbox.claim_batch(session, channel="telegram", recipient="42", now=NOW, limit=2)
    assert isinstance(claimed, list) and [r.id for r in claimed] == [first, second]
    assert outbox.claim_next(session, channel="telegram", recipient="42", now=NOW).busy
    outbox.mark_sent_now(session, outbound_id=first, provider_message_id="1", now=NOW)
    outbox.release(session, outbound_ids=[second])
    session.expire_all()
    claimed = outbox.claim_batch(session, channel="telegram", recipient="42", now=NOW, limit=5)
    assert isinstance(claimed, list) and [r.id for r in claimed] == [second, third]
    assert [r.attempts for r in claimed] == [1, 1]  # the released claim did not count


def test_claim_batch_stops_at_a_row_waiting_for_its_retry(session: Session) -> None:
    first, second, _third = _queue(session, "a", "b", "c")
    outbox.claim_next(session, channel="telegram", recipient="42", now=NOW)
    outbox.mark_sent(session, outbound_id=first, provider_message_id="1", now=NOW)
    outbox.claim_next(session, channel="telegram", recipient="42", now=NOW)
    outbox.retry_later(session, outbound_id=second, at=NOW + timedelta(seconds=30), error="x")
    claimed = outbox.claim_batch(session, channel="telegram", recipient="42", now=NOW, limit=5)
    assert not isinstance(claimed, list) and claimed.wait_until is not None


def _rows(session: Session, ids: list[int]) -> list[OutboundMessage]:
    return [session.get(OutboundMessage, row_id) for row_id in ids]  # type: ignore[misc]


def test_claim_written_claims_a_recipients_new_rows_when_nothing_older_is_open(
    session: Session,
) -> None:
    rows = _rows(session, _queue(session, "a", "b"))
    assert outbox.claim_written(session, rows, now=NOW)
    session.expire_all()
    assert [(r.status, r.claimed_at, r.attempts) for r in _rows(session, [r.id for r in rows])] == [
        (OutboundStatus.SENDING, NOW, 1)
    ] * 2
    # Claimed as claim_batch leaves rows: another sender finds the head busy.
    assert outbox.claim_next(session, channel="telegram", recipient="42", now=NOW).busy


def test_claim_written_leaves_new_rows_behind_an_older_open_one(session: Session) -> None:
    (older,) = _queue(session, "a")
    newer = _rows(session, _queue(session, "b"))
    assert not outbox.claim_written(session, newer, now=NOW)  # "a" goes first, by claim_batch
    session.expire_all()
    assert _rows(session, [newer[0].id])[0].status == OutboundStatus.PENDING
    outbox.mark_sent_now(session, outbound_id=older, provider_message_id="1", now=NOW)
    assert outbox.claim_written(session, _rows(session, [newer[0].id]), now=NOW)


def test_mark_sent_asking_says_whether_the_recipient_has_more(session: Session) -> None:
    first, second = _queue(session, "a", "b")
    ask = {"channel": "telegram", "recipient": "42", "now": NOW}
    assert outbox.mark_sent_asking(
        session.connection(), outbound_id=first, provider_message_id="1", **ask
    )
    assert not outbox.mark_sent_asking(
        session.connection(), outbound_id=second, provider_message_id="2", **ask
    )
    session.expire_all()
    sent = _rows(session, [first, second])
    assert [(r.status, r.provider_message_id) for r in sent] == [
        (OutboundStatus.SENT, "1"),
        (OutboundStatus.SENT, "2"),
    ]
    # A row already sent keeps its first provider id.
    outbox.mark_sent_asking(session.connection(), outbound_id=first, provider_message_id="9", **ask)
    session.expire_all()
    assert _rows(session, [first])[0].provider_message_id == "1"


def _write(
    session: Session, key: str, *, claim: bool = True, recipient: str = "42"
) -> OutboundMessage:
    return outbox.write(
        session, channel="telegram", recipient=recipient, reply=Reply(text=key),
        idempotency_key=f"w:{key}", fresh=True, claim_at=NOW if claim else None,
    )  # fmt: skip


def test_a_reply_written_with_claim_at_is_claimed_by_its_insert(session: Session) -> None:
    row = _write(session, "a")
    assert (row.status, row.claimed_at, row.attempts) == (OutboundStatus.SENDING, NOW, 1)
    session.expire_all()
    stored = session.get(OutboundMessage, row.id)
    assert stored is not None and (stored.status, stored.attempts) == (OutboundStatus.SENDING, 1)
    assert outbox.claim_next(session, channel="telegram", recipient="42", now=NOW).busy


def test_rows_this_transaction_claimed_do_not_hold_the_next_ones_back(committed_db: None) -> None:
    # A button's acknowledgement, then the replies (one INSERT of several rows): all claimed,
    # sent in id order by the writer after its commit. (Not on the savepoint session: a row
    # written in a savepoint carries the sub-transaction's id, and holds the next ones back.)
    with unit_of_work() as uow:
        ack = _write(uow.session, "ack")
        replies = outbox.write_many(
            uow.session, channel="telegram", recipient="42", key_prefix="w:many", fresh=True,
            replies=[Reply(text="b"), Reply(text="c")], claim_at=NOW,
        )  # fmt: skip
        assert [r.status for r in [ack, *replies]] == [OutboundStatus.SENDING] * 3
        assert _write(uow.session, "other chat", recipient="43").status == OutboundStatus.SENDING


def test_an_open_row_not_claimed_here_holds_the_new_ones_back(session: Session) -> None:
    older = _write(session, "older", claim=False)  # e.g. a notification queued for the sender
    newer = _write(session, "newer")
    assert (newer.status, newer.claimed_at, newer.attempts) == (OutboundStatus.PENDING, None, 0)
    claimed = outbox.claim_batch(session, channel="telegram", recipient="42", now=NOW, limit=5)
    assert isinstance(claimed, list) and [r.id for r in claimed] == [older.id, newer.id]


def test_bulk_rows_and_whatsapp_rows_without_a_device_are_not_claimed_on_insert(
    session: Session,
) -> None:
    bulk = outbox.write(
        session, channel="telegram", recipient="44", reply=Reply(text="promo"),
        idempotency_key="w:bulk", priority=outbox.PRIORITY_BROADCAST, fresh=True, claim_at=NOW,
    )  # fmt: skip
    unknown_device = outbox.write(
        session, channel="whatsapp", recipient="6281", reply=Reply(text="hi"),
        idempotency_key="w:wa", fresh=True, claim_at=NOW,
    )  # fmt: skip
    assert [bulk.status, unknown_device.status] == [OutboundStatus.PENDING] * 2


def test_a_claimed_row_of_another_transaction_holds_the_new_ones_back(committed_db: None) -> None:
    with unit_of_work() as uow:  # another sender's claim, committed
        _write(uow.session, "theirs")
    with unit_of_work() as uow:
        mine = _write(uow.session, "mine")
        assert mine.status == OutboundStatus.PENDING
