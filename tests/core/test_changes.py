"""Changes after registration on PostgreSQL: jersey, category and price difference, transfer,
cancellation, the self-service cut-off and the data freeze."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.enums import RegistrationStatus
from core.errors import Conflict, SoldOut
from core.fulfilment import checkin, paid
from core.fulfilment.checkin import Outcome, Scan
from core.models import AuditLog, PriceTier, RevokedTicket
from core.payments import category_change
from core.registration import changes
from core.registration.changes import Who
from tests.factories import category, demo_event, jersey, make_registration

NOW = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
RUNNER = Who("telegram:1", by_runner=True)
ADMIN = Who("admin@example.test")
PENDING = RegistrationStatus.PENDING_PAYMENT


def _event(session: Session, *, open_until: datetime | None = NOW + timedelta(days=1)):
    event = demo_event(session)
    event.changes_until = open_until
    return event


def _actions(session: Session, reg_id: int) -> list[str]:
    rows = session.scalars(
        select(AuditLog.action).where(AuditLog.subject_id == str(reg_id)).order_by(AuditLog.id)
    )
    return list(rows)


def test_jersey_change_moves_stock_and_refuses_a_sold_out_size(session: Session) -> None:
    event = _event(session)
    reg = make_registration(session, event, jersey_size="M")
    m, xl = jersey(session, event, "M"), jersey(session, event, "XL")
    taken_m, taken_xl = m.taken, xl.taken
    changes.change_jersey(session, registration_id=reg.id, size="XL", who=RUNNER, now=NOW)
    assert (m.taken, xl.taken) == (taken_m - 1, taken_xl + 1)
    assert reg.participant.jersey_size == "XL"
    xs = jersey(session, event, "XS")
    xs.taken = xs.stock
    with pytest.raises(SoldOut):
        changes.change_jersey(session, registration_id=reg.id, size="XS", who=RUNNER, now=NOW)
    assert "registration.edited" in _actions(session, reg.id)


def test_runner_changes_close_at_the_cut_off_but_the_organiser_still_may(session: Session) -> None:
    event = _event(session, open_until=NOW)
    reg = make_registration(session, event, jersey_size="M")
    with pytest.raises(Conflict) as refused:
        changes.change_jersey(session, registration_id=reg.id, size="L", who=RUNNER, now=NOW)
    assert refused.value.key == "changes.closed"
    changes.change_jersey(session, registration_id=reg.id, size="L", who=ADMIN, now=NOW)
    assert reg.participant.jersey_size == "L"


def test_frozen_data_refuses_changes_unless_the_organiser_overrides(session: Session) -> None:
    event = _event(session)
    event.data_frozen = True
    reg = make_registration(session, event, jersey_size="M")
    for who in (RUNNER, ADMIN, Who("x", by_runner=True, override=True)):
        with pytest.raises(Conflict) as refused:
            changes.change_jersey(session, registration_id=reg.id, size="L", who=who, now=NOW)
        assert refused.value.key == "changes.frozen"
    override = Who("admin@example.test", override=True)
    changes.change_jersey(session, registration_id=reg.id, size="L", who=override, now=NOW)
    assert "registration.freeze_overridden" in _actions(session, reg.id)
    # A cancellation is not a data change: the freeze does not stop it.
    changes.cancel(session, registration_id=reg.id, who=RUNNER, now=NOW)
    assert reg.status == RegistrationStatus.CANCELLED.value


def test_unpaid_category_change_gets_the_current_tier_price_and_a_new_code(
    session: Session,
) -> None:
    event = _event(session)
    reg = make_registration(session, event, code="5K", status=PENDING, amount="assign", now=NOW)
    ten = category(session, event, "10K")
    session.add(PriceTier(category_id=ten.id, name="Early", price=200_000, sort_order=0))
    session.flush()
    five_taken, ten_taken = category(session, event, "5K").slots_taken, ten.slots_taken
    result = category_change.change_category(
        session, registration_id=reg.id, category_id=ten.id, who=RUNNER, now=NOW
    )
    assert (result.old_price, result.new_price) == (150_000, 200_000)
    assert reg.price == 200_000 and reg.amount_key == reg.amount_due
    assert 200_000 < reg.amount_due < 201_000 and result.to_pay == reg.amount_due
    assert category(session, event, "5K").slots_taken == five_taken - 1
    assert ten.slots_taken == ten_taken + 1


def test_paid_runner_moving_up_owes_the_difference_and_moving_down_is_owed_a_refund(
    session: Session,
) -> None:
    event = _event(session)
    reg = make_registration(session, event, code="10K", status=PENDING)
    reg.amount_received = reg.amount_due
    paid.mark_paid(session, registration=reg, actor="t", now=NOW)
    up = category_change.change_category(
        session,
        registration_id=reg.id,
        category_id=category(session, event, "21K").id,
        who=ADMIN,
        now=NOW,
    )
    assert reg.status == RegistrationStatus.PARTIALLY_PAID.value
    assert 149_000 < up.to_pay < 151_000  # 400k - 250k, give or take the unique codes
    assert up.to_pay == reg.amount_due - (reg.amount_received or 0)
    assert reg.bib and reg.bib.startswith("21")
    reg.status, reg.amount_key = RegistrationStatus.PAID.value, None  # the difference paid
    down = category_change.change_category(
        session,
        registration_id=reg.id,
        category_id=category(session, event, "5K").id,
        who=ADMIN,
        now=NOW,
    )
    assert down.refund == 250_000 and reg.refund_owed == 250_000
    assert reg.status == RegistrationStatus.PAID.value


def test_moving_a_beyond_quota_registration_takes_and_frees_no_public_slot(
    session: Session,
) -> None:
    event = _event(session)
    reg = make_registration(session, event, code="5K", status=PENDING, hold=False)
    reg.outside_quota = True
    five, ten = category(session, event, "5K"), category(session, event, "10K")
    before = (five.slots_taken, ten.slots_taken)
    category_change.change_category(
        session, registration_id=reg.id, category_id=ten.id, who=ADMIN, now=NOW
    )
    assert (five.slots_taken, ten.slots_taken) == before


def test_transfer_gives_a_new_ticket_and_the_old_qr_says_transferred(session: Session) -> None:
    event = _event(session)
    reg = make_registration(session, event, code="10K", status=PENDING)
    paid.mark_paid(session, registration=reg, actor="t", now=NOW)
    old_token, old_name = reg.ticket_token or "", reg.participant.full_name
    person = {"full_name": "Budi Santoso", "gender": "M", "phone": "+6281234567890"}
    changes.transfer(session, registration_id=reg.id, person=person, who=RUNNER, now=NOW)
    assert reg.participant.full_name == "Budi Santoso" and reg.ticket_token != old_token
    assert reg.participant.jersey_size == "M"  # kept: no size given
    assert session.scalar(select(RevokedTicket.reason).where(RevokedTicket.token == old_token))
    old = checkin.scan(session, request=Scan(event_id=event.id, code=old_token, desk="D"), now=NOW)
    assert old.outcome is Outcome.TRANSFERRED and old.runner_name == ""
    new = checkin.scan(
        session, request=Scan(event_id=event.id, code=reg.ticket_token or "", desk="D"), now=NOW
    )
    assert new.outcome is Outcome.OK and new.runner_name == "Budi Santoso"
    assert old_name != new.runner_name
    assert "registration.transferred" in _actions(session, reg.id)
    with pytest.raises(Conflict) as refused:  # collected: no second transfer
        changes.transfer(session, registration_id=reg.id, person=person, who=ADMIN, now=NOW)
    assert refused.value.key == "changes.collected"


def test_runner_cancellation_releases_the_slot(session: Session) -> None:
    event = _event(session)
    reg = make_registration(session, event, code="5K", status=PENDING)
    five = category(session, event, "5K")
    taken = five.slots_taken
    changes.cancel(session, registration_id=reg.id, who=RUNNER, now=NOW)
    assert five.slots_taken == taken - 1 and reg.amount_key is None
    with pytest.raises(Conflict) as refused:
        changes.cancel(session, registration_id=reg.id, who=RUNNER, now=NOW)
    assert refused.value.key == "changes.not_active"
