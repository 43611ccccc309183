"""Vouchers: discounts, the refusals, a place beyond the quota, 100 % off, the organiser's codes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.enums import RegistrationStatus
from core.errors import SoldOut
from core.models import AuditLog, Voucher
from core.registration import intake, stock, voucher_codes, vouchers
from core.registration.voucher_codes import Terms, VoucherInvalid
from core.registration.vouchers import VoucherRefused
from flows import completion
from tests.core.test_pricing import submission
from tests.factories import NOW, category, demo_event


def _voucher(session: Session, event_id: int, **fields: Any) -> Voucher:
    voucher = Voucher(**({"event_id": event_id, "code": "CLUB", "value": 50_000} | fields))
    session.add(voucher)
    session.flush()
    return voucher


def test_discounts_are_fixed_or_a_percentage_and_never_more_than_the_price() -> None:
    assert vouchers.discount_of(Voucher(kind="amount", value=50_000), 150_000) == 50_000
    assert vouchers.discount_of(Voucher(kind="amount", value=500_000), 150_000) == 150_000
    assert vouchers.discount_of(Voucher(kind="percent", value=15), 250_000) == 37_500
    assert vouchers.discount_of(Voucher(kind="percent", value=100), 250_000) == 250_000
    assert vouchers.normalise(" club 2027 ") == "CLUB2027"


@pytest.mark.parametrize(
    ("fields", "category_code", "reason"),
    [
        ({"active": False}, "10K", "unknown"),
        ({"valid_from": NOW + timedelta(hours=1)}, "10K", "not_yet"),
        ({"valid_until": NOW}, "10K", "expired"),
        ({"categories": ["21K"]}, "10K", "category"),
        ({"max_uses": 1}, "10K", "used_up"),
    ],
)
def test_a_code_is_refused_with_its_reason(
    session: Session, fields: dict[str, Any], category_code: str, reason: str
) -> None:
    event = demo_event(session)
    _voucher(session, event.id, **fields)
    if reason == "used_up":
        intake.submit(session, submission=submission(event.id, voucher_code="club"), now=NOW)
    with pytest.raises(VoucherRefused) as err:
        vouchers.preview(
            session, event_id=event.id, code="club", category=category_code, price=1, now=NOW
        )
    assert err.value.key == f"pricing.refused.{reason}"
    with pytest.raises(VoucherRefused):
        vouchers.preview(session, event_id=event.id, code="NOPE", category="10K", price=1, now=NOW)


def test_a_place_beyond_the_quota_takes_no_public_slot_and_gives_none_back(
    session: Session,
) -> None:
    event = demo_event(session)
    cat = category(session, event, "21K")
    cat.slots_taken = cat.quota
    _voucher(session, event.id, code="SPONSOR", value=0, beyond_quota=True, max_uses=5)
    with pytest.raises(SoldOut), session.begin_nested():
        intake.submit(session, submission=submission(event.id, "21K"), now=NOW)
    registration = intake.submit(
        session, submission=submission(event.id, "21K", voucher_code="sponsor"), now=NOW
    )
    assert registration.outside_quota and registration.price == cat.price
    assert cat.slots_taken == cat.quota
    registration.status = RegistrationStatus.CANCELLED.value
    stock.release(session, registration)
    assert cat.slots_taken == cat.quota  # the public quota is untouched either way


def test_a_free_code_goes_straight_to_bib_and_ticket(session: Session) -> None:
    event = demo_event(session)
    _voucher(session, event.id, code="COMP", kind="percent", value=100)
    registration = completion.submit_registration(
        session, submission(event.id, "10K", voucher_code="comp"), now=NOW
    )
    assert registration.status == RegistrationStatus.PAID.value
    assert registration.price == 0 and registration.amount_due == 0
    assert registration.bib and registration.ticket_token
    assert registration.amount_key is None and registration.discount == 250_000


def test_the_organiser_creates_generates_disables_and_cannot_delete_a_redeemed_code(
    session: Session,
) -> None:
    event = demo_event(session)
    terms = Terms(kind="percent", value=20, max_uses=1, categories=("10K",))
    batch = voucher_codes.generate(
        session, event_id=event.id, prefix="club", count=50, terms=terms, actor="admin@x"
    )
    assert len({v.code for v in batch}) == 50 and all(v.code.startswith("CLUB") for v in batch)
    one = voucher_codes.create(
        session, event_id=event.id, code="laripagi", terms=Terms(value=25_000), actor="admin@x"
    )
    with pytest.raises(VoucherInvalid):
        voucher_codes.create(
            session, event_id=event.id, code="LARIPAGI", terms=Terms(value=1), actor="admin@x"
        )
    with pytest.raises(VoucherInvalid):
        voucher_codes.create(
            session, event_id=event.id, code="X", terms=Terms(kind="percent", value=120), actor="a"
        )
    intake.submit(session, submission=submission(event.id, voucher_code=batch[0].code), now=NOW)
    with pytest.raises(VoucherInvalid, match="redeemed"):
        voucher_codes.delete(session, event_id=event.id, voucher_id=batch[0].id, actor="admin@x")
    voucher_codes.set_active(
        session, event_id=event.id, voucher_id=batch[0].id, active=False, actor="admin@x"
    )
    voucher_codes.delete(session, event_id=event.id, voucher_id=one.id, actor="admin@x")
    rows = {r.voucher.code: r for r in voucher_codes.listing(session, event_id=event.id)}
    assert rows[batch[0].code].used == 1 and rows[batch[0].code].left == 0
    assert "LARIPAGI" not in rows
    exported = list(voucher_codes.export_rows(session, event_id=event.id))
    assert exported[0][0] == "code" and len(exported) == 51
    actions = set(session.scalars(select(AuditLog.action)))
    assert {
        "voucher.generated",
        "voucher.created",
        "voucher.disabled",
        "voucher.deleted",
    } <= actions
