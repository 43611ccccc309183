"""A group's one payment: matched from a bank statement before any photo, one combined message to
the leader (every member's BIB) instead of one "payment verified" each, and the members' own
Telegram links (core.registration.member_links)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.config import get_settings
from core.enums import RegistrationStatus
from core.models import OutboundMessage, PaymentAccount
from core.payments import group_payment
from core.payments.statements import approval, bank_csv, credits
from core.registration import groups, intake, member_links
from tests.factories import (
    NOW,
    UNPAID,
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


def _group(session: Session, event, size: int = 3, channel: str = "telegram"):  # type: ignore[no-untyped-def]
    chat = random_chat_id()
    group = groups.start(session, event_id=event.id, channel=channel, chat_id=chat,
                         leader_name="Leader")  # fmt: skip
    for n in range(size):
        answers = {"full_name": f"Runner {n} {suffix()}", "gender": "F", "phone": random_phone(),
                   "email": f"g-{suffix()}@example.test", "jersey_size": "M"}  # fmt: skip
        sub = intake.Submission(event_id=event.id, category_code="5K", answers=answers,
                                channel=channel, chat_id=chat)  # fmt: skip
        groups.add_member(session, group, sub, now=NOW)
    group_payment.assign_group_amount(session, group=group, now=NOW)
    return group


def _import(session: Session, event_id: int, reference: str, amount: int) -> None:
    account = session.scalars(
        select(PaymentAccount).where(PaymentAccount.bank_name == "BCA")
    ).first()
    assert account is not None
    line = bank_csv.ParsedLine(1, reference, amount, "28/11", "LEADER")
    credits.import_lines(session, account_id=account.id, event_id=event_id, lines=[line], actor="a")


def _sent_to(session: Session, chat: str) -> list[OutboundMessage]:
    return list(session.scalars(
        select(OutboundMessage).where(OutboundMessage.recipient == chat).order_by(OutboundMessage.id)
    ))  # fmt: skip


def test_a_credit_equal_to_the_group_amount_pays_every_member_before_any_photo(
    session: Session,
) -> None:
    event = demo_event(session)
    group = _group(session, event)
    single = make_registration(session, event, **UNPAID)
    members = groups.members(session, group)
    _import(session, event.id, f"G{suffix()}", group.amount_due)
    _import(session, event.id, f"P{suffix()}", members[1].price)  # a member's bare price: no one
    report = credits.match(session, event_id=event.id)
    [item] = [m for m in report.exact if m.group]
    assert item.candidates == members and item.team is group
    assert all(single not in m.candidates for m in report.exact + report.ambiguous)
    result = approval.approve_line(session, line_id=item.line.id, actor=make_staff(session),
                                   now=NOW + timedelta(hours=2))  # fmt: skip
    assert all(a.paid for a in [result, *result.others])
    assert {r.status for r in members} == {RegistrationStatus.PAID.value}
    [notice] = _sent_to(session, group.chat_id)  # one message, not one per member
    assert all(r.participant.full_name in notice.text and r.bib in notice.text for r in members)
    assert [row.id for row in result.outbound] == [notice.id]
    assert not any(m.group for m in credits.match(session, event_id=event.id).exact)


def test_a_credit_for_a_photo_approved_group_shows_already_paid(session: Session) -> None:
    event = demo_event(session)
    group = _group(session, event)
    raw = inbound(encode(screenshot(group.amount_due), "PNG"))
    group_payment.receive_group_photo(session, group=group, stored_path=raw,
                                      provider_file_id=None, now=NOW + timedelta(hours=1))  # fmt: skip
    outcome = group_payment.approve_group(session, group=group, actor=make_staff(session),
                                          now=NOW + timedelta(hours=2))  # fmt: skip
    assert len(outcome.paid) == 3 and len(outcome.notice) == 1
    assert len(_sent_to(session, group.chat_id)) == 1  # the combined message only
    _import(session, event.id, f"G{suffix()}", group.amount_due)
    report = credits.match(session, event_id=event.id)
    [paid] = report.already_paid
    assert {r.id for r in paid.candidates} == {r.id for r in groups.members(session, group)}
    assert not report.exact and not report.unmatched


def test_part_payment_message_lists_bibs_and_what_is_still_owed(session: Session) -> None:
    event = demo_event(session)
    group = _group(session, event)
    first, second, third = groups.members(session, group)
    short = first.amount_due + 10_000
    raw = inbound(encode(screenshot(short), "PNG"))
    group_payment.receive_group_photo(session, group=group, stored_path=raw,
                                      provider_file_id=None, now=NOW + timedelta(hours=1))  # fmt: skip
    outcome = group_payment.approve_group(session, group=group, actor=make_staff(session),
                                          now=NOW, amount_received=short)  # fmt: skip
    [notice] = outcome.notice
    assert first.bib in notice.text and "BIB" in notice.text
    owed = second.amount_due - 10_000 + third.amount_due
    assert f"{owed:,}".replace(",", ".") in notice.text  # Rp with Indonesian separators


def test_member_links_deliver_each_ticket_to_the_member_who_opens_it(session: Session) -> None:
    settings = get_settings()
    saved = settings.telegram_bot_username
    settings.telegram_bot_username = "JakartaFunRunBot"
    try:
        event = demo_event(session)
        event.group_tickets_to_members = True
        group = _group(session, event, size=2)
        _import(session, event.id, f"G{suffix()}", group.amount_due)
        [item] = [m for m in credits.match(session, event_id=event.id).exact if m.group]
        approval.approve_line(session, line_id=item.line.id, actor=make_staff(session), now=NOW)
    finally:
        settings.telegram_bot_username = saved
    first, second = groups.members(session, group)
    [notice] = _sent_to(session, group.chat_id)
    assert f"https://t.me/JakartaFunRunBot?start={member_links.token(first)}" in notice.text
    assert member_links.is_claim(member_links.token(second))
    claimed = member_links.claim(session, payload=member_links.token(first), chat_id="777001")
    assert claimed.registration is first
    again = member_links.claim(session, payload=member_links.token(first), chat_id="777001")
    assert again.registration is first  # the same member again: another copy is fine
    taken = member_links.claim(session, payload=member_links.token(first), chat_id="777002")
    assert taken.registration is None and taken.problem == "group.member_link_taken"
    forged = member_links.token(second)[:-1] + (
        "0" if member_links.token(second)[-1] != "0" else "1"
    )
    assert member_links.claim(session, payload=forged, chat_id="777003").problem
    old = member_links.token(second)
    second.ticket_version += 1  # a reissued ticket (transfer): the old link is dead
    assert member_links.claim(session, payload=old, chat_id="777004").registration is None


def test_rejecting_a_group_photo_tells_the_leader_once_for_all_members(session: Session) -> None:
    event = demo_event(session)
    group = _group(session, event)
    raw = inbound(encode(screenshot(group.amount_due), "PNG"))
    group_payment.receive_group_photo(session, group=group, stored_path=raw,
                                      provider_file_id=None, now=NOW + timedelta(hours=1))  # fmt: skip
    before = len(_sent_to(session, group.chat_id))
    outcome = group_payment.reject_group(session, group=group, actor=make_staff(session),
                                         reason="unreadable", now=NOW + timedelta(hours=2),
                                         note="Blurry")  # fmt: skip
    members = groups.members(session, group)
    assert len(outcome.rejections) == 3 and all(r.changed for r in outcome.rejections)
    assert {r.status for r in members} == {RegistrationStatus.REJECTED.value}
    [notice] = _sent_to(session, group.chat_id)[before:]  # one message, not one per member
    assert [row.id for row in outcome.notice] == [notice.id]
    assert all(r.participant.full_name in notice.text and r.number in notice.text for r in members)
    assert "Blurry" in notice.text and f"{group.amount_due:,}".replace(",", ".") in notice.text
    again = group_payment.reject_group(session, group=group, actor=make_staff(session),
                                       reason="unreadable", now=NOW + timedelta(hours=3))  # fmt: skip
    assert not again.notice and len(_sent_to(session, group.chat_id)) == before + 1
