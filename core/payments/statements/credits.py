"""Bank statement matching: import credits from a mutation export, match them to unique amounts.

The admin upload page calls, in order: ``parse_preview`` (show what would be imported),
``import_lines`` (store credits; a credit already imported is skipped: unique on account,
reference and amount), ``match`` (exact / ambiguous / unmatched), then ``approve_line`` or
``discard_line`` per line. ``save_mapping`` remembers an account's column mapping.
Line status: ``unmatched`` (open), ``approved``, ``discarded``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.db import insert_ignore
from core.errors import NotFound
from core.models import PaymentAccount, Registration, RegistrationGroup, StatementLine
from core.payments.statements import matching
from core.payments.statements.approval import OPEN
from core.payments.statements.bank_csv import (
    ParsedLine,
    Preview,
    StatementFormatError,
    parse,
    preset_for,
)


@dataclass(slots=True)
class LineMatch:
    """A stored credit and the registrations whose outstanding amount equals it."""

    line: StatementLine
    candidates: list[Registration]
    group: bool = False  # the candidates are one group paid by this single credit
    team: RegistrationGroup | None = None  # ... and that group is one leader's (DAFTAR GRUP)


@dataclass(slots=True)
class MatchReport:
    """Open lines sorted for the admin: ready to approve, several candidates, or none."""

    exact: list[LineMatch] = field(default_factory=list)
    ambiguous: list[LineMatch] = field(default_factory=list)
    unmatched: list[LineMatch] = field(default_factory=list)
    already_paid: list[LineMatch] = field(default_factory=list)  # paid from an approved photo


def mapping_for(account: PaymentAccount) -> dict[str, Any]:
    """Return the account's remembered mapping, else the preset for its bank."""
    return dict(account.statement_mapping or preset_for(account.bank_name))


def parse_preview(content: bytes | str, mapping: Mapping[str, Any]) -> Preview:
    """Parse an export without storing anything (raises StatementFormatError)."""
    return parse(content, mapping)


def check_mapping(mapping: Mapping[str, Any]) -> None:
    """Raise StatementFormatError unless ``mapping`` names a date and an amount or credit column."""
    if not mapping.get("date"):
        raise StatementFormatError("choose the date column")
    if not (mapping.get("amount") or mapping.get("credit")):
        raise StatementFormatError("choose an amount column or a credit column")


def save_mapping(
    session: Session, *, account_id: int, mapping: Mapping[str, Any], actor: str
) -> PaymentAccount:
    """Remember the column mapping (or ``{"preset": "bca"}``-style copy) for an account.

    Raises:
        StatementFormatError: the mapping names no date column, or neither amount nor credit.
    """
    check_mapping(mapping)
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


def match(session: Session, *, event_id: int) -> MatchReport:
    """Sort the event's open lines: one candidate claimed by one line is exact, else listed."""
    lines = session.scalars(
        select(StatementLine)
        .where(StatementLine.event_id == event_id, StatementLine.status == OPEN)
        .order_by(StatementLine.id)
    ).all()
    owing = matching.owing_by_amount(session, event_id=event_id)
    claims: dict[int, int] = defaultdict(int)
    for line in lines:
        for registration in owing.get(line.amount, []):
            claims[registration.id] += 1
    groups = matching.open_groups(session, event_id=event_id)
    # A group total is exact only when one group owes it and one otherwise unmatched line pays it.
    group_claims = Counter(line.amount for line in lines if not owing.get(line.amount))
    report = MatchReport()
    paid = matching.paid_by_amount(session, event_id=event_id)
    for line in lines:
        candidates = owing.get(line.amount, [])
        item = LineMatch(line, list(candidates))
        paying = groups.get(line.amount, []) if not candidates else []
        if len(paying) == 1 and group_claims[line.amount] == 1:
            team = matching.team_of(session, paying[0])
            report.exact.append(LineMatch(line, paying[0], group=True, team=team))
        elif not candidates and paid.get(line.amount):
            paid_by = paid[line.amount]
            report.already_paid.append(
                LineMatch(line, paid_by, team=matching.team_of(session, paid_by))
            )
        elif not candidates:
            report.unmatched.append(item)
        elif len(candidates) == 1 and claims[candidates[0].id] == 1:
            report.exact.append(item)
        else:
            report.ambiguous.append(item)
    return report
