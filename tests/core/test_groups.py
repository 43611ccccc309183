"""Group registration: one leader, several runners, one combined amount with one code, one photo."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.enums import RegistrationStatus
from core.errors import SoldOut
from core.models import OutboundMessage
from core.payments import amounts, group_payment
from core.registration import groups, intake
from tests.factories import (
    NOW,
    UNPAID,
    category,
    demo_event,
    encode,
    inbound,
    make_registration,
    make_staff,
    random_chat_id,
    random_phone,
    screenshot,
    suffix,
)


def _answers(name: str, **extra: object) -> dict:
    return {"full_name": name, "gender": "F", "email": f"g-{suffix()}@example.test",
            "phone": random_phone(), "jersey_size": "M", "emergency_name": "Ibu Sari",
            "emergency_phone": "+6281200001111"} | extra  # fmt: skip


def _group(session: Session, event, size: int = 3, code: str = "5K"):  # type: ignore[no-untyped-def]
    chat = random_chat_id()
    group = groups.start(session, event_id=event.id, channel="telegram", chat_id=chat,
                         leader_name="Leader")  # fmt: skip
    for n in range(size):
        sub = intake.Submission(event_id=event.id, category_code=code,
                                answers=_answers(f"Runner {n} {suffix()}"),
                                channel="telegram", chat_id=chat)  # fmt: skip
        groups.add_member(session, group, sub, now=NOW)
    return group


def _photo(session: Session, group, amount: int):  # type: ignore[no-untyped-def]
    raw = inbound(encode(screenshot(amount), "PNG"))
    return group_payment.receive_group_photo(
        session, group=group, stored_path=raw, provider_file_id=None, now=NOW + timedelta(hours=1)
    )


def test_one_combined_amount_with_one_code(session: Session) -> None:
    event = demo_event(session)
    group = _group(session, event)
    total = group_payment.assign_group_amount(session, group=group, now=NOW)
    members = groups.members(session, group)
    prices = sum(r.price for r in members)
    assert 1 <= group.unique_code <= 999 and total == prices + group.unique_code
    assert [r.unique_code for r in members] == [group.unique_code, 0, 0]
    assert sum(r.amount_due for r in members) == total == group.amount_key
    assert all(r.amount_key is None and r.payment_deadline for r in members)
    assert group_payment.assign_group_amount(session, group=group, now=NOW) == total  # idempotent


def test_single_amounts_never_take_a_group_total(session: Session) -> None:
    """The group's total is held like a single amount: a single registration never gets it."""
    event = demo_event(session)
    cat = category(session, event, "5K")
    group = _group(session, event, size=1)
    group_payment.assign_group_amount(session, group=group, now=NOW)
    code = group.unique_code
    used = amounts._used_amounts(session, event.id, (0, 0), [group.amount_key])
    assert used == {group.amount_key}
    assert cat.price + code == group.amount_key
    for _ in range(20):
        reg = make_registration(session, event, **UNPAID)
        assert reg.amount_key != group.amount_key


def test_one_photo_approved_pays_every_member_with_own_bib_and_ticket(session: Session) -> None:
    event = demo_event(session)
    event.group_tickets_to_members = True
    group = _group(session, event)
    total = group_payment.assign_group_amount(session, group=group, now=NOW)
    result = _photo(session, group, total)
    assert result.ok and len(result.payments) == 3
    assert result.payments[0].flags["group_total"] == total
    outcome = group_payment.approve_group(session, group=group, actor=make_staff(session),
                                          now=NOW + timedelta(hours=2))  # fmt: skip
    members = groups.members(session, group)
    assert len(outcome.paid) == 3
    assert all(r.status == RegistrationStatus.PAID.value for r in members)
    assert len({r.bib for r in members}) == 3 and all(r.ticket_token for r in members)
    copies = [row for r in members for row in groups.member_ticket_copy(session, r)]
    assert len(copies) == 3 and {c.channel for c in copies} == {"whatsapp"}
    again = [row for r in members for row in groups.member_ticket_copy(session, r)]
    assert {c.id for c in again} == {c.id for c in copies}  # written once per ticket version
    assert session.scalar(select(OutboundMessage.id).where(OutboundMessage.id == copies[0].id))


def test_member_copies_only_when_the_event_allows(session: Session) -> None:
    event = demo_event(session)
    group = _group(session, event, size=2)
    group_payment.assign_group_amount(session, group=group, now=NOW)
    _photo(session, group, group.amount_due)
    group_payment.approve_group(session, group=group, actor=make_staff(session), now=NOW)
    assert all(groups.member_ticket_copy(session, r) == [] for r in groups.members(session, group))


def test_part_payment_pays_members_in_turn(session: Session) -> None:
    event = demo_event(session)
    group = _group(session, event)
    total = group_payment.assign_group_amount(session, group=group, now=NOW)
    first, second, third = groups.members(session, group)
    _photo(session, group, total)
    short = first.amount_due + 10_000
    group_payment.approve_group(session, group=group, actor=make_staff(session), now=NOW,
                                amount_received=short)  # fmt: skip
    assert first.status == RegistrationStatus.PAID.value
    assert second.status == RegistrationStatus.PARTIALLY_PAID.value
    assert second.amount_received == 10_000
    assert third.status == RegistrationStatus.AWAITING_VERIFICATION.value


def test_rejection_applies_to_the_group(session: Session) -> None:
    event = demo_event(session)
    group = _group(session, event)
    group_payment.assign_group_amount(session, group=group, now=NOW)
    _photo(session, group, 1)
    outcome = group_payment.reject_group(session, group=group, actor=make_staff(session),
                                         reason="amount_mismatch", now=NOW)  # fmt: skip
    assert len(outcome.rejections) == 3
    assert {r.status for r in groups.members(session, group)} == {RegistrationStatus.REJECTED.value}
    again = _photo(session, group, group.amount_due)  # a new photo for the whole group
    assert again.ok and len(again.payments) == 3


def test_sold_out_member_is_refused_before_the_amount(session: Session) -> None:
    event = demo_event(session)
    cat = category(session, event, "5K")
    cat.quota = cat.slots_taken + 2
    group = _group(session, event, size=2)
    sub = intake.Submission(event_id=event.id, category_code="5K", answers=_answers("Late"),
                            channel=group.channel, chat_id=group.chat_id)  # fmt: skip
    with pytest.raises(SoldOut):
        groups.add_member(session, group, sub, now=NOW)
    assert len(groups.members(session, group)) == 2  # the others are kept
    total = group_payment.assign_group_amount(session, group=group, now=NOW)
    assert total == sum(r.amount_due for r in groups.members(session, group))


def test_shared_answers_are_the_reusable_ones() -> None:
    shared = groups.shared_answers(_answers("A", club="Lari Pagi", nik="123"))
    assert shared == {"emergency_name": "Ibu Sari", "emergency_phone": "+6281200001111",
                      "club": "Lari Pagi"}  # fmt: skip


def test_registration_detail_shows_the_group(session: Session) -> None:
    """The admin detail's group context: leader, members and the combined amount."""
    from admin.registrations import _group

    event = demo_event(session)
    group = _group_of(session, event)
    members = groups.members(session, group)
    shown = _group(session, members[1])
    assert shown["group"].id == group.id and [m.id for m in shown["group_members"]] == [
        m.id for m in members
    ]
    assert _group(session, make_registration(session, event))["group"] is None


def _group_of(session: Session, event):  # type: ignore[no-untyped-def]
    group = _group(session, event, size=2)
    group_payment.assign_group_amount(session, group=group, now=NOW)
    return group


def test_kwitansi_for_one_member_covers_the_whole_group(session: Session) -> None:
    from admin.race_files_pages import _registrations, _whole_group
    from core.fulfilment import kwitansi

    event = demo_event(session)
    group = _group_of(session, event)
    group.leader_name = "PT Lari Bersama"
    _photo(session, group, group.amount_due)
    group_payment.approve_group(session, group=group, actor=make_staff(session), now=NOW)
    first = groups.members(session, group)[0]
    regs, leader = _whole_group(session, _registrations(session, [first.number]))
    receipt = kwitansi.receipt_for(regs, received_from=leader)
    assert len(regs) == 2 and receipt.amount == group.amount_due
    assert receipt.received_from == "PT Lari Bersama"
