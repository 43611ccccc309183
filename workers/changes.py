"""Use cases of an organiser changing a registration after it was made (admin detail page).

Each opens its transaction, calls core (the freeze is enforced there; ``override`` is audited) and
sends a paid registration's new e-ticket once the change has committed.
"""

from __future__ import annotations

from typing import Any

from core.db import utcnow
from core.enums import RegistrationStatus
from core.messaging import outbox
from core.messaging.texts import texts_unit_of_work
from core.models import Event, Registration
from core.payments import category_change
from core.registration import changes
from core.registration.changes import Who
from workers.delivery import deliver_after_commit
from workers.tickets import schedule_ticket


def change_jersey(registration_id: int, *, size: str, who: Who) -> dict[str, tuple[Any, Any]]:
    with texts_unit_of_work() as uow:
        diff = changes.change_jersey(
            uow.session, registration_id=registration_id, size=size, who=who, now=utcnow()
        )
        _ticket_after(uow, registration_id)
    return diff


def change_category(
    registration_id: int, *, category_id: int, who: Who
) -> category_change.Repriced:
    with texts_unit_of_work() as uow:
        result = category_change.change_category(
            uow.session,
            registration_id=registration_id,
            category_id=category_id,
            who=who,
            now=utcnow(),
        )
        _ticket_after(uow, registration_id)
    return result


def transfer(registration_id: int, *, person: dict[str, Any], who: Who) -> Registration:
    """Transfer; both holders are told and the new ticket queued in the same transaction."""
    with texts_unit_of_work() as uow:
        reg = changes.transfer(
            uow.session, registration_id=registration_id, person=person, who=who, now=utcnow()
        )
        rows = changes.tell_holders(uow.session, reg, tell_old=True)
        outbox.take_remembered(uow.session)  # delivered here, not by a chat worker
        deliver_after_commit(uow, rows)
    return reg


def save_policy(event_id: int, *, data: dict[str, Any], actor: str) -> Event:
    with texts_unit_of_work() as uow:
        return changes.save_policy(uow.session, event_id=event_id, data=data, actor=actor)


def _ticket_after(uow: Any, registration_id: int) -> None:
    reg = uow.session.get(Registration, registration_id)
    if reg is not None and reg.status == RegistrationStatus.PAID.value:
        schedule_ticket(uow, registration_id)
