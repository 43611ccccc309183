"""Check-in scans: outcomes, nonce replay, logging, representatives, counts and exports."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.enums import RegistrationStatus
from core.fulfilment import checkin, checkin_exports, letters, paid
from core.fulfilment.checkin import Outcome, Scan
from core.models import AuditLog, CheckIn, ScanLog
from tests.factories import demo_event, make_registration

NOW = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


def paid_registration(session: Session, **kwargs: object):  # type: ignore[no-untyped-def]
    reg = make_registration(session, demo_event(session), **({"code": "10K"} | kwargs))  # type: ignore[arg-type]
    paid.mark_paid(session, registration=reg, actor="t", now=NOW)
    return reg


def do_scan(session: Session, reg_or_event_id: int, code: str, **kw: object) -> checkin.ScanResult:
    request = Scan(event_id=reg_or_event_id, code=code, desk=str(kw.pop("desk", "Desk 1")), **kw)  # type: ignore[arg-type]
    return checkin.scan(session, request=request, now=NOW)


def test_scan_ticket_token_checks_in_once(session: Session) -> None:
    reg = paid_registration(session, full_name="Siti Aminah", jersey_size="L")
    result = do_scan(session, reg.event_id, reg.ticket_token or "", nonce="n1")
    assert result.outcome is Outcome.OK
    assert (result.runner_name, result.bib, result.jersey_size) == ("Siti Aminah", reg.bib, "L")
    assert result.category == "10K Race"

    again = do_scan(session, reg.event_id, reg.ticket_token or "", nonce="n2", desk="Desk 2")
    assert again.outcome is Outcome.ALREADY
    assert again.collected_by_desk == "Desk 1" and again.collected_at == NOW
    assert session.scalar(select(func.count()).select_from(CheckIn)) == 1
    assert (
        session.scalar(select(func.count()).where(AuditLog.action == "registration.checked_in"))
        == 1
    )


def test_typed_registration_number_and_bib(session: Session) -> None:
    first, second = paid_registration(session), paid_registration(session)
    assert do_scan(session, first.event_id, first.number.lower()).outcome is Outcome.OK
    assert do_scan(session, second.event_id, f" {second.bib} ").outcome is Outcome.OK


def test_retried_nonce_is_answered_the_same_and_counted_once(session: Session) -> None:
    reg = paid_registration(session)
    first = do_scan(session, reg.event_id, reg.number, nonce="abc")
    retry = do_scan(session, reg.event_id, reg.number, nonce="abc")
    assert first.outcome is retry.outcome is Outcome.OK
    assert session.scalar(select(func.count()).select_from(CheckIn)) == 1
    assert session.scalar(select(func.count()).where(ScanLog.nonce == "abc")) == 1

    bad = do_scan(session, reg.event_id, "nonsense", nonce="xyz")
    bad_retry = do_scan(session, reg.event_id, "nonsense", nonce="xyz")
    assert bad.outcome is bad_retry.outcome is Outcome.INVALID
    assert session.scalar(select(func.count()).where(ScanLog.nonce == "xyz")) == 1


def test_refusals_are_logged_with_reasons(session: Session) -> None:
    event = demo_event(session)
    unpaid = make_registration(
        session, event, status=RegistrationStatus.PENDING_PAYMENT, code="10K"
    )
    reg = paid_registration(session)
    old_token = reg.ticket_token or ""
    from core.fulfilment import tickets

    tickets.reissue(session, registration=reg, actor="t")
    assert do_scan(session, event.id, unpaid.number).outcome is Outcome.NOT_PAID
    assert do_scan(session, event.id, old_token).outcome is Outcome.INVALID
    assert do_scan(session, event.id, "=cmd|' /C calc'!A0").outcome is Outcome.INVALID
    logs = session.scalars(select(ScanLog).order_by(ScanLog.id)).all()
    assert [log.result for log in logs] == ["not_paid", "invalid", "invalid"]
    assert "pending_payment" in logs[0].reason and logs[1].code_hint.endswith("…")
    assert old_token not in logs[1].code_hint

    exported = list(
        csv.reader(io.StringIO(checkin_exports.export_failed_scans_csv(session, event.id)))
    )
    assert exported[0][:3] == ["scanned_at", "desk", "result"]
    assert len(exported) == 4 and exported[3][4].startswith("'=")  # no spreadsheet formulas


def test_token_of_another_event_is_invalid(session: Session) -> None:
    from core.models import Event

    reg = paid_registration(session)
    other = Event(slug="other-run", name="Other Run", race_date=reg.event.race_date)
    session.add(other)
    session.flush()
    assert do_scan(session, other.id, reg.ticket_token or "").outcome is Outcome.INVALID
    assert do_scan(session, other.id, reg.number).outcome is Outcome.INVALID


def test_representative_pickup_and_letter_requirement(session: Session) -> None:
    reg = paid_registration(session)
    reg.event.requires_authorisation_letter = True
    refused = do_scan(session, reg.event_id, reg.number, representative_name="Budi")
    assert refused.outcome is Outcome.LETTER_REQUIRED

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(buffer, format="JPEG")
    letter = letters.new_letter_path()
    letters.save_letter(letters.clean_letter(buffer.getvalue()), letter)
    ok = do_scan(session, reg.event_id, reg.number, representative_name="Budi", letter_path=letter)
    assert ok.outcome is Outcome.OK and ok.representative_name == "Budi"
    row = session.scalars(select(CheckIn)).one()
    assert row.authorisation_letter_path == letter and letter.startswith("checkin-letters/")

    exported = list(
        csv.reader(io.StringIO(checkin_exports.export_checkins_csv(session, reg.event_id)))
    )
    assert exported[1][1:5] == ["Desk 1", reg.number, reg.bib, reg.participant.full_name]
    assert exported[1][7:] == ["Budi", "yes"]


def test_counts_per_category(session: Session) -> None:
    a, b, c = (
        paid_registration(session),
        paid_registration(session),
        paid_registration(session, code="5K"),
    )
    do_scan(session, a.event_id, a.number)
    counts = {
        row.code: (row.paid, row.checked_in)
        for row in checkin.counts_per_category(session, a.event_id)
    }
    assert counts == {"5K": (1, 0), "10K": (2, 1), "21K": (0, 0)}
    _ = (b, c)


def test_unreadable_letter_is_refused_and_logged_with_its_reason(session: Session) -> None:
    reg = paid_registration(session)
    result = do_scan(
        session,
        reg.event_id,
        reg.number,
        nonce="letter-1",
        representative_name="Budi",
        letter_error="letter photo unreadable",
    )
    assert result.outcome is Outcome.INVALID_LETTER and not result.letter_recorded
    log = session.scalars(select(ScanLog).where(ScanLog.nonce == "letter-1")).one()
    assert (log.result, log.registration_id) == ("invalid_letter", reg.id)
    assert "letter photo unreadable" in log.reason
    assert session.scalar(select(func.count()).select_from(CheckIn)) == 0
    retry = do_scan(
        session, reg.event_id, reg.number, nonce="letter-1", letter_error="letter photo unreadable"
    )
    assert retry.outcome is Outcome.INVALID_LETTER
    assert session.scalar(select(func.count()).where(ScanLog.nonce == "letter-1")) == 1


def test_letter_is_recorded_only_by_the_scan_that_writes_the_checkin(session: Session) -> None:
    reg = paid_registration(session)
    first = do_scan(
        session, reg.event_id, reg.number, nonce="rep-1", representative_name="Budi",
        letter_path="checkin-letters/a.jpg",
    )  # fmt: skip
    assert first.outcome is Outcome.OK and first.letter_recorded
    retry = do_scan(
        session, reg.event_id, reg.number, nonce="rep-1", representative_name="Budi",
        letter_path="checkin-letters/b.jpg",
    )  # fmt: skip
    again = do_scan(
        session, reg.event_id, reg.number, nonce="rep-2", representative_name="Budi",
        letter_path="checkin-letters/c.jpg",
    )  # fmt: skip
    assert (retry.outcome, again.outcome) == (Outcome.OK, Outcome.ALREADY)
    assert not retry.letter_recorded and not again.letter_recorded
    row = session.scalars(select(CheckIn)).one()
    assert row.authorisation_letter_path == "checkin-letters/a.jpg"


def test_nonce_reused_for_another_registration_is_refused_clearly(session: Session) -> None:
    first, second = paid_registration(session), paid_registration(session)
    assert do_scan(session, first.event_id, first.number, nonce="same-1").outcome is Outcome.OK
    reused = do_scan(session, second.event_id, second.number, nonce="same-1")
    assert reused.outcome is Outcome.REUSED_NONCE and reused.registration_id is None
    assert session.scalar(select(func.count()).select_from(CheckIn)) == 1
    log = session.scalars(select(ScanLog).where(ScanLog.result == "reused_nonce")).one()
    assert log.nonce is None and "another code" in log.reason
    # The first request's own retry is still answered as the first time.
    assert do_scan(session, first.event_id, first.number, nonce="same-1").outcome is Outcome.OK
    # A refused scan's nonce cannot be reused for a real check-in either.
    do_scan(session, first.event_id, "nonsense", nonce="same-2")
    assert do_scan(session, second.event_id, second.number, nonce="same-2").outcome is (
        Outcome.REUSED_NONCE
    )
