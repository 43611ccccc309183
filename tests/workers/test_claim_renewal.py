"""Outbox claim leases: a live sender's renewal thread keeps a long send's claim; a dead one's lapses.

The lease is CLAIM_LEASE (10 s) and a live process renews what it holds every RENEW_EVERY
(2.5 s). Instead of sleeping past the lease, the tests ask claim_next what another worker would
see at a later instant: with the renewal the claim is still busy there, without it it is taken.
A killed process holding a claim for real is tests/workers/test_delivery.py's kill -9 test.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update

from core.db import get_sessionmaker, unit_of_work, utcnow
from core.enums import Channel, OutboundStatus
from core.messages import Reply
from core.messaging import outbox
from core.models import OutboundMessage
from tests.channels.helpers import wait_until
from workers.delivery import RENEW_EVERY, drain

LEASE = outbox.CLAIM_LEASE


def _queue(recipient: str, text: str) -> int:
    with unit_of_work() as uow:
        row = outbox.write(
            uow.session, channel=Channel.TELEGRAM.value, recipient=recipient,
            reply=Reply(text=text), idempotency_key=f"renewal:{recipient}:{text}",
        )  # fmt: skip
        return row.id


def _row(row_id: int) -> OutboundMessage:
    with get_sessionmaker()() as session:
        row = session.get(OutboundMessage, row_id)
        assert row is not None
        session.expunge(row)
        return row


def _other_worker_claims(recipient: str, at: datetime) -> outbox.Claim:
    """What a second worker's claim_next would get at ``at`` (rolled back: nothing changes)."""
    with get_sessionmaker()() as session:
        claim = outbox.claim_next(session, channel="telegram", recipient=recipient, now=at)
        session.rollback()
        return claim


def test_a_long_send_keeps_its_claim_while_its_process_lives(channels: Any) -> None:
    fake_telegram, _ = channels
    fake_telegram.hold("sendMessage")  # the provider takes as long as the test wants
    row_id = _queue("71", "lama")
    sender = threading.Thread(target=drain, args=("telegram", "71"), daemon=True)
    sender.start()
    try:
        wait_until(lambda: fake_telegram.requests("sendMessage"), what="the send to start")
        first_claim = _row(row_id).claimed_at
        assert first_claim is not None
        # The renewer's period does not start with this claim: its first renewal may come at
        # once, so wait for one at least 2 s after the claim (it renews every RENEW_EVERY).
        wait_until(
            lambda: _row(row_id).claimed_at > first_claim + timedelta(seconds=2),  # type: ignore[operator]
            timeout=RENEW_EVERY * 2 + 4,
            what="the renewal thread to extend the lease",
        )
        # Past the first lease the claim still holds: nobody else sends this message.
        claim = _other_worker_claims("71", first_claim + LEASE + timedelta(seconds=1))
        assert claim.busy and claim.row is None
    finally:
        fake_telegram.release("sendMessage")
        sender.join(timeout=30)
    row = _row(row_id)
    assert row.status == OutboundStatus.SENT and row.attempts == 1
    assert fake_telegram.sent_texts(71) == ["lama"]


def test_a_dead_senders_claim_lapses_and_is_taken_over(channels: Any) -> None:
    fake_telegram, _ = channels
    row_id = _queue("72", "yatim")
    died_at = utcnow() - LEASE + timedelta(seconds=2)  # claimed 8 s ago by a process now dead
    with unit_of_work() as uow:
        uow.session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id == row_id)
            .values(status=OutboundStatus.SENDING.value, claimed_at=died_at, attempts=1)
        )
    # A live process's renewer does not touch rows it does not hold.
    holder = _queue("73", "hidup")
    fake_telegram.hold("sendMessage")
    live = threading.Thread(target=drain, args=("telegram", "73"), daemon=True)
    live.start()
    try:
        wait_until(lambda: _row(holder).claimed_at is not None, what="a claim")
        claimed = _row(holder).claimed_at
        wait_until(lambda: _row(holder).claimed_at != claimed, timeout=RENEW_EVERY * 2 + 2)
        assert _row(row_id).claimed_at == died_at, "an unheld claim is never renewed"
    finally:
        fake_telegram.release("sendMessage")
        live.join(timeout=30)
    # The drain that finds the dead claim busy checks back when its lease ends and takes over.
    drain("telegram", "72")
    wait_until(lambda: _row(row_id).status == OutboundStatus.SENT, timeout=LEASE.seconds + 5)
    assert _row(row_id).attempts == 2
    assert fake_telegram.sent_texts(72) == ["yatim"]
