"""sweep (queue `low`, every 30 s): re-enqueue inbound and outbound rows that were left behind.

Covers the window where a commit succeeded but the enqueue did not (Redis down, a crash), and
deliveries whose worker died mid-send.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import dramatiq

from core import media
from core.db import unit_of_work, utcnow
from core.messaging import inbox, outbox
from workers import conversations, delivery
from workers.broker import broker
from workers.jobs import periodic

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(seconds=60)
INBOUND_KEEP = timedelta(days=8)  # longer than a draft lives (7 days)


@dataclass(frozen=True, slots=True)
class SweepResult:
    conversations: int
    recipients: int


def sweep_once(*, now: datetime | None = None) -> SweepResult:
    """Find stale rows as of ``now`` and enqueue their conversations and recipients again."""
    now = now or utcnow()
    with unit_of_work() as uow:
        conversation_ids = inbox.find_stale(uow.session, older_than=now - STALE_AFTER)
        recipients = outbox.find_stale(uow.session, now=now, older_than=STALE_AFTER)
    for conversation_id in conversation_ids:
        conversations.enqueue(conversation_id)
    for channel, recipient, priority in recipients:
        delivery.enqueue(channel, recipient, priority=priority)
    if conversation_ids or recipients:
        log.info(
            "sweep re-enqueued %s conversations, %s recipients",
            len(conversation_ids),
            len(recipients),
        )
    return SweepResult(conversations=len(conversation_ids), recipients=len(recipients))


@periodic("sweep", 30)
@dramatiq.actor(queue_name="low", broker=broker, max_retries=0)
def sweep() -> None:
    """Periodic job: re-enqueue stale inbound and outbound rows."""
    sweep_once()


@periodic("clean_inbound", 3600)
@dramatiq.actor(queue_name="low", broker=broker, max_retries=0)
def clean_inbound() -> None:
    """Periodic job: delete raw image downloads that were never used (see images.remove_stale_inbound)."""
    removed = media.remove_stale_inbound(older_than=INBOUND_KEEP.total_seconds(), now=time.time())
    if removed:
        log.info("removed %s unused inbound files", removed)
