"""Bank statement matching: import credits from a mutation export, match them to unique amounts.

The admin upload page calls, in order: ``parse_preview`` (show what would be imported),
``import_lines`` (store credits; a credit already imported is skipped: unique on account,
reference and amount), ``match`` (exact / ambiguous / unmatched), then ``approve_line`` or
``discard_line`` per line. ``save_mapping`` remembers an account's column mapping.
Line status: ``unmatched`` (open), ``approved``, ``discarded``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import insert_ignore
from core.errors import Conflict, NotFound
from core.models import AdminUser, PaymentAccount, Registration, StatementLine
from core.services import audit
from core.services.payment_support import AWAITING_STATUSES
from core.services.payment_verification import Approval, approve_registration
from core.services.statement_csv import (
    PRESETS,
    ParsedLine,
    Preview,
    StatementFormatError,
    parse,
    preset_for,
)

__all__ = [
    "PRESETS",
    "LineMatch",
    "MatchReport",
    "ParsedLine",
    "Preview",
    "StatementFormatError",
    "approve_line",
    "discard_line",
    "import_lines",
    "mapping_for",
    "match",
    "parse_preview",
    "save_mapping",
]

OPEN, APPROVED, DISCARDED = "unmatched", "approved", "discarded"


@dataclass(slots=True)
class LineMatch:
    """A stored credit and the registrations whose outstanding amount equals it."""

    line: StatementLine
    candidates: list[Registration]


@dataclass(slots=True)
class MatchReport:
    """Open lines sorted for the admin: ready to approve, several candidates, or none."""

    exact: list[LineMatch] = field(default_factory=list)
    ambiguous: list[LineMatch] = field(default_factory=list)
    unmatched: list[LineMatch] = field(default_factory=list)


def mapping_for(account: PaymentAccount) -> dict[str, Any]:
    """Return the account's remembered mapping, else the preset for its bank."""
    return dict(account.statement_mapping or preset_for(account.bank_name))


def parse_preview(content: bytes | str, mapping: Mapping[str, Any]) -> Preview:
    """Parse an export without storing anything (raises StatementFormatError)."""
    return parse(content, mapping)


def save_mapping(
    session: Session, *, account_id: int, mapping: Mapping[str, Any], actor: str
) -> PaymentAccount:
    """Remember the column mapping (or ``{"preset": "bca"}``-style copy) for an account."""
    account = session.get(PaymentAccount, account_id)
    if account is None:
        raise NotFound(f"payment account {account_id}")
    before = dict(account.statement_mapping or {})
    account.statement_mapping = dict(mapping)
    audit.record(
        session,
        actor=actor,
        action="payment_account.mapping_saved",
        subject_type="payment_account",
        subject_id=account.id,
        before=before,
        after=dict(mapping),
    )
    return account


def import_lines(
    session: Session,
    *,
    account_id: int,
    event_id: int,
    lines: Sequence[ParsedLine],
    actor: str,
) -> tuple[int, int]:
    """Store credits; return (imported, already known). A re-uploaded file imports nothing twice."""
    known = {
        (reference, amount)
        for reference, amount in session.execute(
            select(StatementLine.reference, StatementLine.amount).where(
                StatementLine.account_id == account_id,
                StatementLine.reference.in_({line.reference for line in lines}),
            )
        )
    }
    rows = _new_rows(lines, known, account_id=account_id, event_id=event_id)
    # ON CONFLICT DO NOTHING as well: a concurrent upload of the same file cannot double a line.
    insert_ignore(
        session,
        StatementLine.__table__,
        list(rows.values()),
        keys=["account_id", "reference", "amount"],
    )
    created = len(rows)
    audit.record(
        session,
        actor=actor,
        action="statement.imported",
        subject_type="payment_account",
        subject_id=account_id,
        imported=created,
        known=len(lines) - created,
    )
    return created, len(lines) - created


def _new_rows(
    lines: Sequence[ParsedLine], known: set[tuple[str, int]], *, account_id: int, event_id: int
) -> dict[tuple[str, int], dict[str, Any]]:
    """Rows for lines not stored yet (and not repeated within the file), keyed by the unique key."""
    rows: dict[tuple[str, int], dict[str, Any]] = {}
    for line in lines:
        key = (line.reference, line.amount)
        if key not in known and key not in rows:
            rows[key] = {
                "event_id": event_id,
                "account_id": account_id,
                "reference": line.reference,
                "amount": line.amount,
                "posted_at": line.posted_at,
                "description": line.description,
                "status": OPEN,
            }
    return rows


def _outstanding(session: Session, event_id: int) -> dict[int, list[Registration]]:
    """Map each amount still owed in the event to the registrations owing it."""
    owing: dict[int, list[Registration]] = defaultdict(list)
    for registration in session.scalars(
        select(Registration)
        .where(Registration.event_id == event_id, Registration.status.in_(AWAITING_STATUSES))
        .order_by(Registration.id)
    ):
        owing[registration.amount_due - (registration.amount_received or 0)].append(registration)
    return owing


def match(session: Session, *, event_id: int) -> MatchReport:
    """Sort the event's open lines: one candidate claimed by one line is exact, else listed."""
    lines = session.scalars(
        select(StatementLine)
        .where(StatementLine.event_id == event_id, StatementLine.status == OPEN)
        .order_by(StatementLine.id)
    ).all()
    owing = _outstanding(session, event_id)
    claims: dict[int, int] = defaultdict(int)
    for line in lines:
        for registration in owing.get(line.amount, []):
            claims[registration.id] += 1
    report = MatchReport()
    for line in lines:
        candidates = owing.get(line.amount, [])
        item = LineMatch(line, list(candidates))
        if not candidates:
            report.unmatched.append(item)
        elif len(candidates) == 1 and claims[candidates[0].id] == 1:
            report.exact.append(item)
        else:
            report.ambiguous.append(item)
    return report


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

    Raises:
        Conflict: discarded line, no single match and none picked, or registration already
            approved from another line.
    """
    line = _lock_line(session, line_id)  # lock order: line, then registration (inside approve)
    if line.status == APPROVED and line.registration_id is not None:
        registration = session.get(Registration, line.registration_id)
        return Approval(False, line.registration_id, 0, registration.status if registration else "")
    if line.status == DISCARDED:
        raise Conflict(key="payment.statement.discarded")
    registration_id = _pick_registration(session, line, registration_id)
    result = approve_registration(
        session,
        registration_id=registration_id,
        actor=actor,
        amount_received=line.amount,
        reference=f"{line.account_id}:{line.reference}",
        now=now,
    )
    line.status = APPROVED
    line.registration_id = registration_id
    audit.record(
        session,
        actor=actor.email,
        action="statement.line_approved",
        subject_type="statement_line",
        subject_id=line.id,
        registration_id=registration_id,
        amount=line.amount,
        changed=result.changed,
    )
    return result


def _pick_registration(session: Session, line: StatementLine, registration_id: int | None) -> int:
    """The registration this line pays: the admin's pick, else the single exact match."""
    if registration_id is None:
        candidates = _outstanding(session, line.event_id).get(line.amount, [])
        if len(candidates) != 1:
            raise Conflict(key="payment.statement.not_exact", count=len(candidates))
        registration_id = candidates[0].id
    taken = session.scalar(
        select(StatementLine.id).where(StatementLine.registration_id == registration_id)
    )
    if taken is not None:
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
