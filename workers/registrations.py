"""Use cases of an organiser changing a registration: cancel, move to another category, edit.

Each opens its transaction (with fresh text overrides), calls core.registration.manage and
schedules what must follow the commit. The admin registration page and the tests call these.
"""

from __future__ import annotations

from typing import Any

from core.db import utcnow
from core.enums import RegistrationStatus
from core.errors import NotFound
from core.events.catalog import question_of
from core.messaging.texts import texts_unit_of_work
from core.models import EventQuestion, Registration
from core.registration import changes as registration_changes
from core.registration import manage, refunds, waitlist
from flows import registry
from workers.delivery import deliver_after_commit
from workers.tickets import schedule_ticket


def cancel_registration(registration_id: int, *, actor: str, reason: str) -> Registration:
    """Cancel a registration: slot and jersey released, ticket revoked (a second call is a no-op)."""
    with texts_unit_of_work() as uow:
        registration = manage.cancel(
            uow.session,
            registration_id=registration_id,
            actor=actor,
            reason=reason,
            now=utcnow(),
        )
        deliver_after_commit(uow, waitlist.pending_outbound(uow.session))  # the freed slot's offer
    return registration


def move_registration(registration_id: int, *, category_id: int, actor: str) -> Registration:
    """Move a registration to another category; a paid one gets its reissued e-ticket after commit."""
    with texts_unit_of_work() as uow:
        registration_changes.guard_freeze(
            uow.session, registration_id=registration_id, changes={"category_id": category_id}
        )
        registration = manage.move_category(
            uow.session, registration_id=registration_id, category_id=category_id, actor=actor
        )
        if registration.status == RegistrationStatus.PAID.value:
            schedule_ticket(uow, registration.id)
        deliver_after_commit(uow, waitlist.pending_outbound(uow.session))
    return registration


def edit_participant(
    registration_id: int, *, changes: dict[str, Any], actor: str
) -> dict[str, tuple[Any, Any]]:
    """Change participant fields (a jersey change moves stock); return {field: (before, after)}."""
    with texts_unit_of_work() as uow:
        registration_changes.guard_freeze(
            uow.session, registration_id=registration_id, changes=changes
        )
        return manage.edit_participant(
            uow.session, registration_id=registration_id, changes=changes, actor=actor
        )


def edit_answer(
    registration_id: int, *, question_id: int, text: str, actor: str, language: str
) -> Any:
    """An organiser's new answer to an event question, read by that question's own chat parser
    (ValueError with the chat's reason when it does not fit); returns the stored value."""
    with texts_unit_of_work() as uow:
        question = uow.session.get(EventQuestion, question_id)
        if question is None:
            raise NotFound(f"question {question_id}")
        value = registry.parse_event_answer(question_of(question), text, language, utcnow())
        manage.set_answer(
            uow.session,
            registration_id=registration_id,
            question_id=question_id,
            value=value,
            actor=actor,
        )
    return value


def mark_refunded(
    refund_id: int, *, actor: str, amount: int | None, reference: str, note: str
) -> refunds.Marked:
    """The organiser sent a refund: recorded (audited), the runner told after commit."""
    with texts_unit_of_work() as uow:
        marked = refunds.mark_refunded(
            uow.session, refund_id=refund_id, actor=actor, now=utcnow(), amount=amount,
            reference=reference, note=note,
        )  # fmt: skip
        deliver_after_commit(uow, marked.outbound)
    return marked


def waive_refund(refund_id: int, *, actor: str, note: str) -> refunds.Marked:
    """Nothing is given back under the event's rule: the refund is closed (audited)."""
    with texts_unit_of_work() as uow:
        return refunds.waive(uow.session, refund_id=refund_id, actor=actor, now=utcnow(), note=note)
