"""Payment jobs (queue `low`, every minute): expire unpaid registrations, send payment reminders.

Both are safe on several workers at once (the services lock rows with SKIP LOCKED and re-check
them) and catch up after downtime (they work from stored deadlines, in batches, until none is due).
Approve and reject are use cases in workers.verification.
"""

from __future__ import annotations

import logging
from datetime import datetime

import dramatiq

from core.db import utcnow
from core.messaging.texts import texts_unit_of_work
from core.payments import deadlines
from core.payments.deadlines import BATCH
from core.registration import waitlist
from workers.broker import broker
from workers.delivery import deliver_after_commit
from workers.jobs import periodic

log = logging.getLogger(__name__)

MAX_BATCHES = 50  # per run; the next run (a minute later) continues


def expire_once(*, now: datetime | None = None) -> int:
    """Expire every registration past its expiry time, batch by batch; return how many."""
    total = 0
    for _ in range(MAX_BATCHES):
        with texts_unit_of_work() as uow:
            expired = deadlines.expire_unpaid(uow.session, now=now or utcnow())
            offers = waitlist.pending_outbound(uow.session)  # freed slots offered to the next
            deliver_after_commit(uow, [e.outbound for e in expired] + offers)
        total += len(expired)
        if len(expired) < BATCH:
            break
    if total:
        log.info("expired %s unpaid registrations", total)
    return total


def remind_once(*, now: datetime | None = None) -> int:
    """Queue every payment reminder that is due; return how many."""
    total = 0
    for _ in range(MAX_BATCHES):
        with texts_unit_of_work() as uow:
            rows = deadlines.send_reminders(uow.session, now=now or utcnow())
            deliver_after_commit(uow, rows)
        total += len(rows)
        if len(rows) < BATCH:
            break
    return total


@periodic("expire_unpaid", 60)
@dramatiq.actor(queue_name="low", broker=broker, max_retries=3)
def expire_unpaid() -> None:
    """Periodic: expire unpaid registrations and release their slots."""
    expire_once()


@periodic("payment_reminders", 60)
@dramatiq.actor(queue_name="low", broker=broker, max_retries=3)
def send_payment_reminders() -> None:
    """Periodic: send the one reminder before each payment deadline."""
    remind_once()
