"""Side effects scheduled after an admin transaction commits (outbound delivery, e-tickets)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

from core.db import UnitOfWork
from workers.delivery import deliver_after_commit
from workers.tickets import send_ticket as send_ticket_actor


def deliver(uow: UnitOfWork, rows: Sequence[Any]) -> None:
    """Enqueue delivery of outbound rows written in this transaction, after it commits."""
    if rows:
        deliver_after_commit(uow, list(rows))


def send_ticket(uow: UnitOfWork, registration_id: int, *, resend: str | None = None) -> None:
    """Enqueue the e-ticket for a registration (after commit); ``resend`` asks for another copy."""
    if resend:
        uow.on_commit(partial(send_ticket_actor.send, registration_id, resend))
    else:
        uow.on_commit(partial(send_ticket_actor.send, registration_id))
