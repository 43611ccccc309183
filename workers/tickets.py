"""E-ticket actor (queue `default`): render the ticket and write it to the outbox, then deliver.

Idempotent: the outbox rows carry the key ``ticket:{registration}:{version}`` (and
``ticket-email:...``), so a redelivered or retried message finds the rows already written and the
dispatcher never sends a row twice. Chat and email sends are retried with backoff by
workers.delivery, and a row that keeps failing is marked failed with its error (visible in the admin).
"""

from __future__ import annotations

import logging

import dramatiq

from core.db import unit_of_work, utcnow
from core.fulfilment import tickets
from core.messaging import texts
from core.models import Registration
from workers.broker import broker
from workers.delivery import deliver_after_commit

log = logging.getLogger(__name__)


@dramatiq.actor(queue_name="default", broker=broker, max_retries=8)
def send_ticket(registration_id: int, resend: str | None = None) -> None:
    """Send a paid registration's e-ticket to its chat (and by email when possible).

    ``resend`` (any unique string, e.g. an audit id) asks for another copy of the same ticket:
    without it a second call for the same ticket version sends nothing.
    """
    suffix = f":resend:{resend}" if resend else ""
    with unit_of_work() as uow:
        texts.refresh_overrides(uow.session, now=utcnow())
        registration = uow.session.get(Registration, registration_id)
        if registration is None:
            log.warning("send_ticket: registration %s not found", registration_id)
            return
        rows = tickets.queue_ticket(uow.session, registration=registration, key_suffix=suffix)
        if not rows:
            log.info("send_ticket: registration %s has no valid ticket", registration_id)
            return
        email = tickets.write_ticket_email(
            uow.session, registration=registration, key_suffix=suffix
        )
        if email is not None:
            rows.append(email)
        deliver_after_commit(uow, rows)


# The name used in the design guide; same actor.
issue_ticket = send_ticket
