"""retention (queue `low`, daily): remove each event's sensitive personal data once its retention
after race day has run out (core.privacy.retention); files go after each event's commit."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from zoneinfo import ZoneInfo

import dramatiq

from core.config import get_settings
from core.db import unit_of_work, utcnow
from core.privacy import files, retention
from workers.broker import broker
from workers.jobs import periodic

log = logging.getLogger(__name__)
DAY = 24 * 3600


@dataclass(frozen=True, slots=True)
class RetentionRun:
    events: int
    photos: int
    letters: int
    participants: int


def retention_once(*, now: datetime | None = None) -> RetentionRun:
    """Purge every event that is due as of ``now`` (one transaction per event)."""
    now = now or utcnow()
    today = now.astimezone(ZoneInfo(get_settings().timezone)).date()
    with unit_of_work() as uow:
        due = retention.due_events(uow.session, today=today)
    purges = [p for p in (_purge(event_id, now) for event_id in due) if p is not None]
    run = RetentionRun(len(purges), sum(p.photos for p in purges),
                       sum(p.letters for p in purges), sum(p.participants for p in purges))  # fmt: skip
    if purges:  # counts and event ids only: nothing that names a runner
        log.info("retention purged %s events: %s photos, %s letters, %s participants",
                 run.events, run.photos, run.letters, run.participants)  # fmt: skip
    return run


def _purge(event_id: int, now: datetime) -> retention.Purge | None:
    with unit_of_work() as uow:
        purge = retention.purge_event(uow.session, event_id=event_id, now=now)
        if purge is not None:
            uow.on_commit(partial(files.remove, purge.paths))
    return purge


@periodic("retention", DAY)
@dramatiq.actor(queue_name="low", broker=broker, max_retries=3)
def retention_job() -> None:
    """Periodic job: the personal-data retention purge."""
    retention_once()
