"""Race-pack check-in: verify a scanned ticket or typed number, record one pickup per registration.

A scan resolves the code (ticket token, registration number or BIB), locks the registration row and
inserts the CheckIn with ON CONFLICT DO NOTHING: two desks scanning one ticket at the same moment
produce one row, and the other desk is told "already collected". A retried request carrying the same
client nonce gets the same answer and is never counted twice, even while the first is still running:
requests with one nonce are serialised by an advisory lock, and the replay check runs inside it and
the registration's row lock. Every scan, accepted or refused, is written to ScanLog with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core import audit
from core.db import advisory_xact_lock, is_postgres, lock_key
from core.enums import RegistrationStatus
from core.fulfilment import consent, tickets
from core.models import Category, CheckIn, Event, Registration, RevokedTicket, ScanLog


class Outcome(StrEnum):
    OK = "ok"
    ALREADY = "already"
    NOT_PAID = "not_paid"
    INVALID = "invalid"
    LETTER_REQUIRED = "letter_required"
    INVALID_LETTER = "invalid_letter"
    CONSENT_MISSING = "consent_missing"  # a minor whose parental consent letter is not accepted
    REUSED_NONCE = "reused_nonce"  # a client bug: one request id sent with two different codes
    TRANSFERRED = "transferred"  # an old QR: the registration went to another person


@dataclass(frozen=True, slots=True)
class ScanResult:
    """What the desk shows after a scan."""

    outcome: Outcome
    registration_id: int | None = None
    runner_name: str = ""
    category: str = ""
    bib: str = ""
    number: str = ""
    jersey_size: str = ""
    collected_at: datetime | None = None
    collected_by_desk: str = ""
    representative_name: str | None = None
    letter_recorded: bool = False  # this request wrote a check-in holding Scan.letter_path

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK


@dataclass(frozen=True, slots=True)
class Scan:
    """One scan request from a desk."""

    event_id: int
    code: str
    desk: str
    nonce: str | None = None
    staff_id: int | None = None
    representative_name: str | None = None
    letter_path: str | None = None  # relative to MEDIA_DIR; the caller saves the file only when
    # the result says letter_recorded (a refused or replayed scan leaves no orphan file)
    letter_error: str | None = None  # why the attached letter photo could not be read


def resolve(session: Session, *, event_id: int, code: str) -> Registration | None:
    """Find the registration for a ticket token, registration number or BIB in this event."""
    by_token = tickets.find_by_token(session, code)
    if by_token is not None:
        return by_token if by_token.event_id == event_id else None
    typed = code.strip()
    if not typed or len(typed) > 40:
        return None
    return session.scalar(
        select(Registration).where(
            Registration.event_id == event_id,
            or_(
                func.upper(Registration.number) == typed.upper(), Registration.bib == typed.upper()
            ),
        )
    )


def _result(
    outcome: Outcome,
    reg: Registration | None,
    done: CheckIn | None = None,
    *,
    letter_recorded: bool = False,
) -> ScanResult:
    if reg is None:
        return ScanResult(outcome)
    return ScanResult(
        outcome,
        registration_id=reg.id,
        runner_name=reg.participant.full_name,
        category=reg.category.name,
        bib=reg.bib or "",
        number=reg.number,
        jersey_size=reg.participant.jersey_size or "",
        collected_at=done.created_at if done else None,
        collected_by_desk=done.desk if done else "",
        representative_name=done.representative_name if done else None,
        letter_recorded=letter_recorded,
    )


def _replay(
    session: Session, scan: Scan, reg: Registration | None, now: datetime
) -> ScanResult | None:
    """Answer a retried request (same nonce) exactly as the first time.

    Called with the nonce's advisory lock and the registration's row lock held, so a first
    request still running has committed (or rolled back) before this looks. A nonce already used
    for another registration is refused with REUSED_NONCE, never a unique-constraint error.
    """
    if not scan.nonce:
        return None
    reg_id = reg.id if reg is not None else None
    done = session.scalar(select(CheckIn).where(CheckIn.nonce == scan.nonce))
    if done is not None:
        if done.registration_id != reg_id:
            return _reused(session, scan, reg, now)
        return _result(Outcome.OK, reg, done)
    logged = session.scalar(
        select(ScanLog).where(ScanLog.nonce == scan.nonce).order_by(ScanLog.id).limit(1)
    )
    if logged is None:
        return None
    if logged.registration_id != reg_id:
        return _reused(session, scan, reg, now)
    existing = _existing(session, reg.id) if reg is not None else None
    return _result(Outcome(logged.result), reg, existing)


def _reused(session: Session, scan: Scan, reg: Registration | None, now: datetime) -> ScanResult:
    reason = "request nonce already used for another code"
    # Logged without the nonce, so it never becomes the answer to the nonce's own retries.
    _log(session, scan, reg, Outcome.REUSED_NONCE, reason, now, with_nonce=False)
    return _result(Outcome.REUSED_NONCE, None)


def _existing(session: Session, registration_id: int) -> CheckIn | None:
    return session.scalar(select(CheckIn).where(CheckIn.registration_id == registration_id))


def _log(
    session: Session,
    scan: Scan,
    reg: Registration | None,
    outcome: Outcome,
    reason: str,
    now: datetime,
    *,
    with_nonce: bool = True,
) -> None:
    session.add(
        ScanLog(
            event_id=scan.event_id,
            registration_id=reg.id if reg else None,
            desk=scan.desk,
            nonce=scan.nonce if with_nonce else None,
            code_hint=_hint(scan.code),
            result=outcome.value,
            reason=reason,
            created_at=now,
        )
    )
    session.flush()


def _hint(code: str) -> str:
    """Keep enough of a scanned code to recognise it, never a whole ticket token."""
    code = code.strip()
    if tickets.normalise_token(code):
        return code[:6].upper() + "…"
    return code[:40]


def _refusal(session: Session, scan: Scan, reg: Registration | None) -> tuple[Outcome, str] | None:
    if reg is None:
        return Outcome.INVALID, "unknown, revoked or forged code"
    if reg.status != RegistrationStatus.PAID.value:
        return Outcome.NOT_PAID, f"registration status {reg.status}"
    if consent.blocks_ticket(session, reg):
        return Outcome.CONSENT_MISSING, "minor without an accepted consent letter"
    if scan.letter_error:
        return Outcome.INVALID_LETTER, f"authorisation letter unreadable: {scan.letter_error}"
    if scan.representative_name and scan.letter_path is None:
        event = session.get(Event, scan.event_id)
        if event is not None and event.requires_authorisation_letter:
            return Outcome.LETTER_REQUIRED, "representative without authorisation letter"
    return None


def scan(session: Session, *, request: Scan, now: datetime) -> ScanResult:
    """Check a code in at a desk and return what the desk should show.

    Lock order: the nonce's advisory lock, then the registration row.
    """
    reg = resolve(session, event_id=request.event_id, code=request.code)
    if reg is None:
        reg = _transferred_from(session, request)
    if request.nonce:
        # A retry sent while the first request is still running waits here, then replays it.
        advisory_xact_lock(session, lock_key("checkin-nonce", request.nonce))
    if reg is not None:
        # Lock before reading its check-in so concurrent desks queue here instead of racing.
        session.execute(select(Registration.id).where(Registration.id == reg.id).with_for_update())
        session.refresh(reg)
    replayed = _replay(session, request, reg, now)
    if replayed is not None:
        return replayed
    old_qr = _old_qr(session, request, reg, now)
    if old_qr is not None:
        return old_qr
    refusal = _refusal(session, request, reg)
    if refusal is not None:
        _log(session, request, reg, *refusal, now)
        return _result(refusal[0], reg)
    assert reg is not None
    inserted = _insert_checkin(session, _checkin_row(request, reg, now))
    done = _existing(session, reg.id)
    if not inserted:
        _log(
            session,
            request,
            reg,
            Outcome.ALREADY,
            f"already collected at desk {done.desk if done else '?'}",
            now,
        )
        return _result(Outcome.ALREADY, reg, done)
    _log(session, request, reg, Outcome.OK, "", now)
    recorded = bool(request.letter_path) and done is not None
    audit.record(
        session,
        actor=request.desk or "checkin",
        action="registration.checked_in",
        subject_type="registration",
        subject_id=reg.id,
        desk=request.desk,
        representative=bool(request.representative_name),
    )
    return _result(Outcome.OK, reg, done, letter_recorded=recorded)


def _old_qr(
    session: Session, scan: Scan, reg: Registration | None, now: datetime
) -> ScanResult | None:
    """Refuse a ticket token that is no longer the registration's (read under its row lock, so a
    transfer committed while this scan waited wins, consistently); None for a current code."""
    if reg is None or not _token_replaced(scan.code, reg):
        return None
    outcome = Outcome.TRANSFERRED if _was_transferred(session, scan.code) else Outcome.INVALID
    _log(session, scan, reg, outcome, "old QR: ticket transferred or reissued", now)
    return ScanResult(outcome, registration_id=reg.id, number=reg.number)


def _transferred_from(session: Session, scan: Scan) -> Registration | None:
    """The registration an old (transferred) ticket token belonged to, in this event."""
    token = tickets.normalise_token(scan.code)
    if token is None:
        return None
    revoked = session.scalar(select(RevokedTicket).where(RevokedTicket.token == token))
    reg = session.get(Registration, revoked.registration_id) if revoked else None
    return reg if reg is not None and reg.event_id == scan.event_id else None


def _was_transferred(session: Session, code: str) -> bool:
    token = tickets.normalise_token(code)
    found = session.scalar(select(RevokedTicket.id).where(RevokedTicket.token == token))
    return found is not None


def _token_replaced(code: str, reg: Registration) -> bool:
    """A scanned ticket token that is no longer the registration's current one."""
    token = tickets.normalise_token(code)
    return token is not None and reg.ticket_token != token


def _insert_checkin(session: Session, row: dict[str, object]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id: True only when this call created the row."""
    dialect = postgresql if is_postgres(session) else sqlite
    stmt = (
        dialect.insert(CheckIn)
        .values(**row)
        .on_conflict_do_nothing(index_elements=["registration_id"])
        .returning(CheckIn.id)
    )
    return session.execute(stmt).first() is not None


def _checkin_row(scan: Scan, reg: Registration, now: datetime) -> dict[str, object]:
    return {
        "registration_id": reg.id,
        "event_id": reg.event_id,
        "desk": scan.desk,
        "staff_id": scan.staff_id,
        "nonce": scan.nonce,
        "representative_name": (scan.representative_name or "").strip() or None,
        "authorisation_letter_path": scan.letter_path,
        "created_at": now,
    }


@dataclass(frozen=True, slots=True)
class CategoryCount:
    category_id: int
    code: str
    name: str
    paid: int
    checked_in: int


def counts_per_category(session: Session, event_id: int) -> list[CategoryCount]:
    """Paid registrations and check-ins per category of an event (for the dashboard)."""
    paid = (
        select(Registration.category_id, func.count().label("n"))
        .where(
            Registration.event_id == event_id, Registration.status == RegistrationStatus.PAID.value
        )
        .group_by(Registration.category_id)
        .subquery()
    )
    done = (
        select(Registration.category_id, func.count().label("n"))
        .join(CheckIn, CheckIn.registration_id == Registration.id)
        .where(CheckIn.event_id == event_id)
        .group_by(Registration.category_id)
        .subquery()
    )
    rows = session.execute(
        select(Category.id, Category.code, Category.name, paid.c.n, done.c.n)
        .outerjoin(paid, paid.c.category_id == Category.id)
        .outerjoin(done, done.c.category_id == Category.id)
        .where(Category.event_id == event_id)
        .order_by(Category.sort_order, Category.id)
    ).all()
    return [CategoryCount(r[0], r[1], r[2], r[3] or 0, r[4] or 0) for r in rows]
