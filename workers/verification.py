"""Use cases of payment verification: approve, reject, approve a bank-statement line.

Each one owns its whole sequence: a transaction with fresh text overrides, the payments service
(locks, status, BIB, audit, the runner's outbox rows), then ``after_verification`` schedules the
runner's notice and, when the registration became paid, its e-ticket job, both after commit.
The admin pages, the bulk statement actor and the tests call these functions; none rewrites them.

They run in the caller's process (an admin request waits for its own approval, which takes one
short transaction); only the delivery and the e-ticket are left to the workers.
"""

from __future__ import annotations

from core.db import UnitOfWork, utcnow
from core.errors import ServiceError
from core.messaging.texts import texts_unit_of_work
from core.models import AdminUser, Payment
from core.payments import group_payment, rejection, verification
from core.payments.screenshot_reading import service as screenshot_service
from core.payments.statements import approval
from core.registration import groups
from workers.delivery import deliver_after_commit
from workers.tickets import schedule_ticket


def approve_payment(
    payment_id: int, *, actor: AdminUser, amount_received: int | None = None
) -> verification.Approval:
    """Approve one payment as ``actor``; a second approval returns ``changed=False``."""
    with texts_unit_of_work() as uow:
        result = verification.approve(
            uow.session,
            payment_id=payment_id,
            actor=actor,
            amount_received=amount_received,
            now=utcnow(),
        )
        after_verification(uow, result)
    return result


def approve_group_payment(
    group_id: int, *, actor: AdminUser, amount_received: int | None = None
) -> group_payment.GroupOutcome:
    """Approve a registration group's one payment in one transaction (members paid in turn).

    The leader gets one message with every member's BIB, then each member's e-ticket.
    """
    with texts_unit_of_work() as uow:
        group = groups.get(uow.session, group_id)
        outcome = group_payment.approve_group(
            uow.session, group=group, actor=actor, now=utcnow(), amount_received=amount_received
        )
        deliver_after_commit(uow, outcome.notice)
        for approval in outcome.approvals:
            after_verification(uow, approval)
    return outcome


def reject_payment(
    payment_id: int, *, actor: AdminUser, reason: str, note: str = ""
) -> rejection.Rejection:
    """Reject one payment with a preset reason key or free text (plus a note); the runner is told."""
    with texts_unit_of_work() as uow:
        result = rejection.reject(
            uow.session, payment_id=payment_id, actor=actor, reason=reason, now=utcnow(), note=note
        )
        after_verification(uow, result)
    return result


def reject_group_payment(
    group_id: int, *, actor: AdminUser, reason: str, note: str = ""
) -> group_payment.GroupOutcome:
    """Reject a registration group's one photo in one transaction: one message to the leader."""
    with texts_unit_of_work() as uow:
        group = groups.get(uow.session, group_id)
        outcome = group_payment.reject_group(
            uow.session, group=group, actor=actor, reason=reason, now=utcnow(), note=note
        )
        deliver_after_commit(uow, outcome.notice)
    return outcome


def approve_statement_line(staff_id: int, line_id: int, registration_id: int | None = None) -> str:
    """Approve one statement line as ``staff_id`` (its exact match, or ``registration_id``).

    Returns the registration's new status. Called by the statements page for one line and by
    workers.statements.approve_exact_matches for each exact match, one transaction per line.
    """
    with texts_unit_of_work() as uow:
        staff = uow.session.get(AdminUser, staff_id)
        if staff is None:
            raise ServiceError("The staff account no longer exists.")
        result = approval.approve_line(
            uow.session, line_id=line_id, actor=staff, now=utcnow(), registration_id=registration_id
        )
        for approved in (result, *result.others):  # a photo group is approved together
            after_verification(uow, approved)
    return result.status


def approve_green_payment(payment_id: int, *, actor: AdminUser, batch: str) -> list[int]:
    """Approve one payment of an "approve all green" batch, re-checked under its lock.

    A registration group's photo is approved as one (its leader gets the one combined message,
    then the tickets). Returns the ids of the payments approved: every member's for a group, none
    when it is no longer all green (or already handled): the batch skips it.
    """
    with texts_unit_of_work() as uow:
        session = uow.session
        payment = session.get(Payment, payment_id)
        group = group_payment.group_of_photo(session, payment) if payment is not None else None
        if group is not None and payment is not None:
            outcome = screenshot_service.approve_group_if_green(
                session, group=group, payment=payment, actor=actor, now=utcnow(), batch=batch
            )
            if outcome is None:
                return []
            deliver_after_commit(uow, outcome.notice)
            for approval in outcome.approvals:
                after_verification(uow, approval)
            return [a.payment_id for a in outcome.approvals if a.changed]
        result = screenshot_service.approve_if_green(
            session, payment_id=payment_id, actor=actor, now=utcnow(), batch=batch
        )
        if result is None:
            return []
        after_verification(uow, result)
        return [result.payment_id]


def after_verification(
    uow: UnitOfWork, result: verification.Approval | rejection.Rejection
) -> None:
    """Deliver the runner's notice after commit; send the e-ticket when the approval made it paid."""
    deliver_after_commit(uow, result.outbound)
    if isinstance(result, verification.Approval) and result.paid:
        schedule_ticket(uow, result.registration_id)
