"""Periodic job (queue `low`): remind idle registration drafts once, drop them after 7 days."""

from __future__ import annotations

from datetime import datetime

import dramatiq

from core.db import utcnow
from core.messaging.texts import texts_unit_of_work
from flows import drafts
from workers.broker import broker
from workers.delivery import deliver_after_commit
from workers.jobs import periodic


def sweep_drafts_once(now: datetime | None = None) -> int:
    """Run one pass in one transaction; return the number of reminders written."""
    with texts_unit_of_work() as uow:
        rows = drafts.sweep_idle(uow.session, now=now or utcnow())
        deliver_after_commit(uow, rows)
    return len(rows)


@periodic("sweep_drafts", 300)
@dramatiq.actor(queue_name="low", broker=broker, max_retries=3)
def sweep_drafts() -> None:
    """Periodic: remind idle drafts after 24 h and drop them after 7 days."""
    sweep_drafts_once()
