"""Broadcast writing (queue `low`): one job writes a batch of outbox rows, then queues the next.

Each batch is its own transaction (core.messaging.broadcasts.write_batch) and hands its rows to
delivery after commit, so the first runners receive the message while later batches are written,
and a crash loses at most one uncommitted batch (the retry resumes at the stored cursor).
"""

from __future__ import annotations

import logging

import dramatiq

from core.db import unit_of_work, utcnow
from core.messaging import broadcasts
from workers.broker import broker
from workers.delivery import deliver_after_commit
from workers.jobs import periodic

log = logging.getLogger(__name__)


@dramatiq.actor(queue_name="low", broker=broker, max_retries=10)
def write_broadcast(broadcast_id: int) -> None:
    """Write the next batch of ``broadcast_id``'s recipients; re-queue itself until done."""
    with unit_of_work() as uow:
        batch = broadcasts.write_batch(uow.session, broadcast_id)
        deliver_after_commit(uow, batch.rows)
    if not batch.done:
        write_broadcast.send(broadcast_id)
    else:
        log.info("broadcast %s written", broadcast_id)


@periodic("resume_broadcasts", 60)
@dramatiq.actor(queue_name="low", broker=broker, max_retries=0)
def resume_broadcasts() -> None:
    """Re-queue broadcasts whose writing job was lost (Redis down at the send, a crash).

    A second job for a broadcast still queued is harmless: batches take the broadcast's row lock
    and resume at its cursor.
    """
    with unit_of_work() as uow:
        ids = broadcasts.stalled(uow.session, now=utcnow())
    for broadcast_id in ids:
        write_broadcast.send(broadcast_id)
    if ids:
        log.info("resumed %s broadcasts", len(ids))
