"""E-ticket actor (queue `default`) and the "resend the e-ticket" use case.

Idempotent: the outbox rows carry the key ``ticket:{registration}:{version}`` (and
``ticket-email:...``), so a redelivered or retried message finds the rows already written and the
dispatcher never sends a row twice. Chat and email sends are retried with backoff by
workers.delivery, and a row that keeps failing is marked failed with its error (visible in the admin).
"""

from __future__ import annotations

import logging
from functools import partial

import dramatiq

from core import audit
from core.db import UnitOfWork
from core.enums import RegistrationStatus
from core.errors import ServiceError
from core.fulfilment import tickets
from core.messaging.texts import texts_unit_of_work
from core.models import Registration
from core.registration import groups, search
from workers.broker import broker
from workers.delivery import deliver_after_commit

log = logging.getLogger(__name__)


class NoTicket(ServiceError):
    """Only a paid registration with a ticket token has an e-ticket to send again."""

    key = "ticket.none"


@dramatiq.actor(queue_name="default", broker=broker, max_retries=8)
def send_ticket(registration_id: int, resend: str | None = None) -> None:
    """Send a paid registration's e-ticket to its chat (and by email when possible).

    ``resend`` (any unique string, e.g. an audit id) asks for another copy of the same ticket:
    without it a second call for the same ticket version sends nothing.
    """
    suffix = f":resend:{resend}" if resend else ""
    with texts_unit_of_work() as uow:
        registration = uow.session.get(Registration, registration_id)
        if registration is None:
            log.warning("send_ticket: registration %s not found", registration_id)
            return
        rows = tickets.queue_ticket(uow.session, registration=registration, key_suffix=suffix)
        if not rows:
            log.info("send_ticket: registration %s has no valid ticket", registration_id)
            return
        # A group member's own copy (when the event allows it): the leader's chat got the first.
        rows += groups.member_ticket_copy(uow.session, registration)
        email = tickets.write_ticket_email(
            uow.session, registration=registration, key_suffix=suffix
        )
        if email is not None:
            rows.append(email)
        deliver_after_commit(uow, rows)


# The name used in the design guide; same actor.
issue_ticket = send_ticket


def schedule_ticket(uow: UnitOfWork, registration_id: int, *, resend: str | None = None) -> None:
    """Enqueue ``send_ticket`` once ``uow`` commits; ``resend`` asks for another copy."""
    args = (registration_id, resend) if resend else (registration_id,)
    uow.on_commit(partial(send_ticket.send, *args))


def resend_ticket(registration_id: int, *, actor: str) -> None:
    """Send another copy of a paid registration's e-ticket (audited); NoTicket when it has none.

    Raises NotFound for an unknown registration.
    """
    with texts_unit_of_work() as uow:
        registration = search.get(uow.session, registration_id)
        if registration.status != RegistrationStatus.PAID.value or not registration.ticket_token:
            raise NoTicket("Only paid registrations have an e-ticket.")
        row = audit.record(
            uow.session, actor=actor, action="ticket.resend_requested",
            subject_type="registration", subject_id=registration.id,
        )  # fmt: skip
        uow.session.flush()  # the audit id makes this copy's outbox keys unique
        schedule_ticket(uow, registration.id, resend=f"audit{row.id}")
