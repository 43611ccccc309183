"""Each use case called directly, the way the admin pages and the workers call it.

Set-up commits first (the use cases open their own transactions); what must follow the commit
(the runner's notice, the e-ticket job) is counted on the real broker.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import i18n
from core.db import get_sessionmaker, unit_of_work
from core.enums import Channel, RegistrationStatus
from core.fulfilment import paid
from core.fulfilment.checkin import Outcome, Scan
from core.messaging.texts import texts_unit_of_work
from core.models import AdminUser, AuditLog, Event, Payment, PaymentAccount, Registration
from core.payments.statements import bank_csv, credits
from core.registration import intake
from flows.completion import submit_registration
from tests.channels.helpers import queued_jobs
from tests.factories import (
    NOW,
    UNPAID,
    category,
    demo_event,
    make_registration,
    make_staff,
    send_photo,
)
from workers import registrations, statements, tickets, verification
from workers.checkin import check_in


def _queued(broker: Any, queue: str) -> int:
    """Jobs waiting on ``queue``, besides the screenshot reads every stored photo gets."""
    return queued_jobs(broker, queue)


def _photo_sent() -> tuple[int, AdminUser]:
    """A runner owing money who sent a screenshot, and a verifier (detached, as admin has it)."""
    with unit_of_work() as uow:
        reg = make_registration(uow.session, demo_event(uow.session), **UNPAID)
        photo = send_photo(uow.session, reg, hours=1)
        assert photo.payment is not None
        return photo.payment.id, make_staff(uow.session)


def _paid_registration() -> int:
    with unit_of_work() as uow:
        reg = make_registration(uow.session, demo_event(uow.session), **UNPAID)
        paid.mark_paid(uow.session, registration=reg, actor="t", now=NOW)
        return reg.id


def _get(model: Any, ident: int) -> Any:
    with get_sessionmaker()() as session:
        return session.get(model, ident)


def test_approve_payment_notifies_and_sends_the_ticket(broker: Any, committed_db: None) -> None:
    payment_id, admin = _photo_sent()
    result = verification.approve_payment(payment_id, actor=admin)
    assert result.changed and result.paid
    assert (_queued(broker, "default"), _queued(broker, "notifications")) == (1, 1)
    again = verification.approve_payment(payment_id, actor=admin)
    assert not again.changed and again.by, "a second verifier is told who was first"


def test_reject_payment_tells_the_runner(broker: Any, committed_db: None) -> None:
    payment_id, admin = _photo_sent()
    result = verification.reject_payment(payment_id, actor=admin, reason="blurry")
    assert result.changed and _get(Payment, payment_id).status == "rejected"
    assert (_queued(broker, "default"), _queued(broker, "notifications")) == (0, 1)


def _exact_line() -> tuple[int, int, int]:
    """A registration owing its amount and an imported credit of exactly that amount."""
    with unit_of_work() as uow:
        event = demo_event(uow.session)
        reg = make_registration(uow.session, event, **UNPAID)
        account = uow.session.scalars(
            select(PaymentAccount).where(PaymentAccount.bank_name == "BCA")
        ).first()
        assert account is not None
        line = bank_csv.ParsedLine(1, "REF-1", reg.amount_due, "28/11", "BUDI")
        credits.import_lines(
            uow.session, account_id=account.id, event_id=event.id, lines=[line], actor="a"
        )
        return event.id, make_staff(uow.session).id, reg.id


def test_approve_statement_line_marks_paid_and_sends_the_ticket(
    broker: Any, committed_db: None
) -> None:
    event_id, staff_id, reg_id = _exact_line()
    with get_sessionmaker()() as session:
        line_id = credits.match(session, event_id=event_id).exact[0].line.id
    assert verification.approve_statement_line(staff_id, line_id) == "paid"
    assert _get(Registration, reg_id).status == RegistrationStatus.PAID
    assert _queued(broker, "default") == 1


def test_approve_all_exact_queues_the_lines_it_saw(broker: Any, committed_db: None) -> None:
    event_id, staff_id, _ = _exact_line()
    assert statements.approve_all_exact(event_id, staff_id=staff_id) == 1
    assert _queued(broker, "high") == 1


def test_cancel_move_and_edit_a_registration(broker: Any, committed_db: None) -> None:
    reg_id = _paid_registration()
    with get_sessionmaker()() as session:
        ten = category(session, demo_event(session), "10K").id
    moved = registrations.move_registration(reg_id, category_id=ten, actor="t")
    assert moved.category_id == ten and _queued(broker, "default") == 1, "reissued e-ticket"
    diff = registrations.edit_participant(reg_id, changes={"jersey_size": "L"}, actor="t")
    assert diff == {"jersey_size": ("M", "L")}
    registrations.cancel_registration(reg_id, actor="t", reason="asked")
    assert _get(Registration, reg_id).status == RegistrationStatus.CANCELLED


def test_resend_ticket_only_for_paid_and_audited(broker: Any, committed_db: None) -> None:
    with unit_of_work() as uow:
        unpaid = make_registration(uow.session, demo_event(uow.session), **UNPAID).id
    with pytest.raises(tickets.NoTicket, match="Only paid registrations have an e-ticket."):
        tickets.resend_ticket(unpaid, actor="a@example.com")
    reg_id = _paid_registration()
    tickets.resend_ticket(reg_id, actor="a@example.com")
    with get_sessionmaker()() as session:
        actions = session.scalars(
            select(AuditLog.action).where(AuditLog.action == "ticket.resend_requested")
        ).all()
    assert actions == ["ticket.resend_requested"] and _queued(broker, "default") == 1


def test_check_in_records_one_pickup(committed_db: None) -> None:
    reg_id = _paid_registration()
    reg = _get(Registration, reg_id)
    scan = Scan(event_id=reg.event_id, code=reg.ticket_token, desk="Desk 1", nonce="nonce-001")
    result, zone = check_in(scan)
    assert result.outcome is Outcome.OK and zone == _get(Event, reg.event_id).timezone
    assert check_in(scan)[0].outcome is Outcome.OK, "a retried request is answered the same way"


def test_texts_unit_of_work_loads_the_overrides(committed_db: None) -> None:
    i18n.invalidate_overrides()
    with texts_unit_of_work():
        assert i18n.overrides_loaded_at() is not None


def test_submit_registration_gives_the_amount(session: Session) -> None:
    event = demo_event(session)
    answers = {"full_name": "Siti Aminah", "email": "siti@example.com", "jersey_size": "M",
               "date_of_birth": "1990-08-17", "gender": "F", "phone": "+6281234567890"}  # fmt: skip
    submission = intake.Submission(
        event_id=event.id, category_code="10K", answers=answers,
        channel=Channel.WHATSAPP.value, chat_id="6281234567890",
    )  # fmt: skip
    registration = submit_registration(session, submission, now=NOW)
    assert registration.number and registration.amount_due >= registration.category.price
