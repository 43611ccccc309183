"""Waiting-list job (queue `low`, every minute): lapse slot holds past their time, offer the next.

Safe on several workers at once: each lapsed entry is locked (SKIP LOCKED) under its category's row
lock and re-checked, so a hold lapses once and its slot is offered to one runner only.
"""

from __future__ import annotations

import logging
from datetime import datetime

import dramatiq

from core.db import utcnow
from core.messaging.texts import texts_unit_of_work
from core.registration import waitlist
from workers.broker import broker
from workers.delivery import deliver_after_commit
from workers.jobs import periodic

log = logging.getLogger(__name__)

MAX_BATCHES = 50


def lapse_once(*, now: datetime | None = None) -> int:
    """Lapse every hold past its time (batch by batch); return how many notices were queued."""
    total = 0
    for _ in range(MAX_BATCHES):
        with texts_unit_of_work() as uow:
            rows = waitlist.lapse_due(uow.session, now=now or utcnow())
            deliver_after_commit(uow, rows)
        total += len(rows)
        if len(rows) < waitlist.BATCH:
            break
    if total:
        log.info("waiting list: %s notices after lapsed holds", total)
    return total


@periodic("waitlist_lapse", 60)
@dramatiq.actor(queue_name="low", broker=broker, max_retries=3)
def lapse_holds() -> None:
    """Periodic: lapse waiting-list holds past their time and offer each slot to the next runner."""
    lapse_once()
