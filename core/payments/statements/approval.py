"""Approving and discarding bank statement lines (part of ``core.payments.statements``).

Lock order: the line, then each registration by id (inside ``approve_registration``). A line pays
one registration (the exact match or the admin's pick), or every registration of one photo group
when it equals the group's total; a part-paid registration takes a second line (the top-up).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.enums import AWAITING_STATUSES
from core.errors import Conflict, NotFound
from core.models import AdminUser, AuditLog, Registration, StatementLine
from core.payments import group_notice
from core.payments.statements import matching
from core.payments.verification import Approval, approve_registration

OPEN, APPROVED, DISCARDED = "unmatched", "approved", "discarded"


def _lock_line(session: Session, line_id: int) -> StatementLine:
    line = session.scalars(
        select(StatementLine)
        .where(StatementLine.id == line_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if line is None:
        raise NotFound(f"statement line {line_id}")
    return line


def approve_line(
    session: Session,
    *,
    line_id: int,
    actor: AdminUser,
    now: datetime,
    registration_id: int | None = None,
) -> Approval:
    """Approve the registration a credit pays (the exact match, or the one the admin picked).

    A credit no single registration owes but one photo group owes in total approves the whole
    group: the first registration's Approval is returned, the others in its ``others``.

    Raises:
        Conflict: discarded line, no single match and none picked, or registration already
            approved from another line.
    """
    line = _lock_line(session, line_id)  # lock order: line, then registration (inside approve)
    if line.status == APPROVED:
        return _already_approved(session, line)
    if line.status == DISCARDED:
        raise Conflict(key="payment.statement.discarded")
    owing: list[Registration] = []
    if registration_id is None:
        owing = matching.owing_by_amount(session, event_id=line.event_id).get(line.amount, [])
        if not owing:  # no single registration owes it: perhaps one photo group in total
            group = matching.group_for(session, event_id=line.event_id, amount=line.amount)
            if group is not None:
                return _approve_group(session, line, group, actor, now)
    registration_id = _pick_registration(session, registration_id, owing)
    result = approve_registration(
        session,
        registration_id=registration_id,
        actor=actor,
        amount_received=line.amount,
        reference=f"{line.account_id}:{line.reference}",
        now=now,
    )
    _mark_approved(session, line, [result], actor)
    return result


def _approve_group(
    session: Session,
    line: StatementLine,
    group: Sequence[Registration],
    actor: AdminUser,
    now: datetime,
) -> Approval:
    """Approve every registration of a group from one credit equal to the group's total.

    A registration group (one leader) hears it in one message listing every member's BIB.
    """
    team = matching.team_of(session, group)
    results = [
        approve_registration(
            session,
            registration_id=registration.id,
            actor=actor,
            amount_received=None,  # each is credited exactly what it owed; together: the line
            reference=f"{line.account_id}:{line.reference}",
            now=now,
            notice=team is None,
        )
        for registration in sorted(group, key=lambda r: r.id)  # lock order: by id
    ]
    _mark_approved(session, line, results, actor)
    first = results[0]
    first.others = results[1:]
    if team is not None:
        first.outbound += group_notice.paid_notice(session, group=team, approvals=results)
    return first


def _mark_approved(
    session: Session, line: StatementLine, results: Sequence[Approval], actor: AdminUser
) -> None:
    """Set the line approved and link it; the audit row names every registration it paid."""
    ids = [r.registration_id for r in results]
    linked = set(
        session.scalars(
            select(StatementLine.registration_id).where(StatementLine.registration_id.in_(ids))
        )
    )
    line.status = APPROVED
    # registration_id is unique: it links a registration's first credit. A top-up credit (the
    # rest of a part-payment) is linked by its payment's statement_reference and the audit row.
    line.registration_id = next((i for i in ids if i not in linked), None)
    audit.record(
        session,
        actor=actor.email,
        action="statement.line_approved",
        subject_type="statement_line",
        subject_id=line.id,
        registration_id=ids[0],
        registrations=ids,
        amount=line.amount,
        changed=any(r.changed for r in results),
    )


def _already_approved(session: Session, line: StatementLine) -> Approval:
    """The idempotent answer for a line approved before (a double click)."""
    registration_id = line.registration_id
    if registration_id is None:  # a top-up line: the audit row names the registration
        audited = session.scalar(
            select(AuditLog.data)
            .where(
                AuditLog.action == "statement.line_approved",
                AuditLog.subject_type == "statement_line",
                AuditLog.subject_id == str(line.id),
            )
            .limit(1)
        )
        registration_id = int((audited or {}).get("registration_id") or 0)
    registration = session.get(Registration, registration_id) if registration_id else None
    status = registration.status if registration is not None else ""
    return Approval(False, registration_id or 0, 0, status)


def _pick_registration(
    session: Session, registration_id: int | None, candidates: Sequence[Registration]
) -> int:
    """The registration this line pays: the admin's pick, else the single exact match.

    ``candidates``: the registrations owing exactly the line's amount (looked up by the caller).
    """
    if registration_id is None:
        if len(candidates) != 1:
            raise Conflict(key="payment.statement.not_exact", count=len(candidates))
        registration_id = candidates[0].id
    taken = session.scalar(
        select(StatementLine.id).where(StatementLine.registration_id == registration_id)
    )
    # A registration that already has a credit and still owes money was part-paid: this line is
    # the top-up. Once it is paid, a second credit would be counted twice.
    status = session.scalar(select(Registration.status).where(Registration.id == registration_id))
    if taken is not None and status not in AWAITING_STATUSES:
        raise Conflict(key="payment.statement.registration_has_line", line_id=taken)
    return registration_id


def discard_line(session: Session, *, line_id: int, actor: str) -> StatementLine:
    """Set a credit aside (not a registration payment); an approved line cannot be discarded."""
    line = _lock_line(session, line_id)
    if line.status == APPROVED:
        raise Conflict(key="payment.statement.already_approved")
    if line.status != DISCARDED:
        line.status = DISCARDED
        audit.record(
            session,
            actor=actor,
            action="statement.line_discarded",
            subject_type="statement_line",
            subject_id=line.id,
            amount=line.amount,
        )
    return line
