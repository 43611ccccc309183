"""Use cases of consent letters: a verifier accepts or rejects a minor's parental consent letter.

Each runs one transaction with fresh text overrides; the runner's notice is delivered after commit
and, when accepting made a paid registration's ticket, the e-ticket job is scheduled too.
"""

from __future__ import annotations

from core.db import utcnow
from core.fulfilment import consent
from core.messaging.texts import texts_unit_of_work
from workers.delivery import deliver_after_commit
from workers.tickets import schedule_ticket


def accept_letter(letter_id: int, *, actor: str) -> str:
    """Accept the letter; return the registration number. Raises NotFound or Conflict."""
    with texts_unit_of_work() as uow:
        registration, outbound, issued = consent.accept(
            uow.session, letter_id=letter_id, actor=actor, now=utcnow()
        )
        deliver_after_commit(uow, outbound)
        if issued:
            schedule_ticket(uow, registration.id)
        return registration.number


def reject_letter(letter_id: int, *, actor: str, note: str) -> str:
    """Reject the letter (the runner is asked for a new photo); return the registration number."""
    with texts_unit_of_work() as uow:
        registration, outbound = consent.reject(
            uow.session, letter_id=letter_id, actor=actor, note=note, now=utcnow()
        )
        deliver_after_commit(uow, outbound)
        return registration.number
