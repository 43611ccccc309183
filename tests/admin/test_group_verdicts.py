"""A registration group's photo in the queue: rejected or batch-approved as one, the leader told once."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from core.db import get_sessionmaker, unit_of_work, utcnow
from core.models import Event, OutboundMessage, Payment, PaymentImage
from core.payments import group_payment
from core.payments.screenshot_reading import service
from core.payments.screenshot_reading.extract import Reading
from core.registration import groups, intake
from tests import factories as f
from tests.admin.test_queue_checks import ACCOUNT, XHR, waiting_with_reading


def _group_photo(event_id: int, size: int = 3) -> tuple[int, str, list[int]]:
    """A group of ``size`` whose one photo reads the combined amount: (group, chat, payment ids)."""
    waiting_with_reading(event_id)  # our account and an open registration window
    with unit_of_work() as uow:
        session = uow.session
        event = session.get(Event, event_id)
        group = groups.start(session, event_id=event.id, channel="telegram",
                             chat_id=f.random_chat_id(), leader_name="Coach")  # fmt: skip
        for n in range(size):
            answers = {"full_name": f"Club Runner {n} {f.suffix()}", "gender": "M",
                       "jersey_size": "M", "email": f"club{n}-{f.suffix()}@example.test",
                       "phone": f.random_phone()}  # fmt: skip
            sub = intake.Submission(event_id=event.id, category_code="5K", answers=answers,
                                    channel="telegram", chat_id=group.chat_id)  # fmt: skip
            groups.add_member(session, group, sub, now=utcnow() - timedelta(hours=1))
        group_payment.assign_group_amount(session, group=group, now=utcnow())
        for member in groups.members(session, group):
            member.created_at = utcnow() - timedelta(hours=1)
        raw = f.inbound(f.encode(f.screenshot(group.amount_due), "PNG"))
        result = group_payment.receive_group_photo(session, group=group, stored_path=raw,
                                                   provider_file_id=None, now=utcnow())  # fmt: skip
        local = utcnow().astimezone(ZoneInfo(event.timezone)).replace(tzinfo=None)
        for payment in result.payments:
            image = session.scalars(
                select(PaymentImage).where(PaymentImage.payment_id == payment.id)
            ).one()
            reading = Reading(amount=group.amount_due, when=local - timedelta(minutes=5),
                              account=ACCOUNT, holder="FUNRUN", status="Berhasil",
                              reference=f"GRP{group.id:09d}", bank="BCA")  # fmt: skip
            service.record(session, image_id=image.id, reading=reading, status=service.READ,
                           engine="tesseract", elapsed_ms=10)  # fmt: skip
        return group.id, group.chat_id, [p.id for p in result.payments]


def _texts_to(chat: str) -> list[str]:
    with get_sessionmaker()() as session:
        rows = session.scalars(
            select(OutboundMessage.text)
            .where(OutboundMessage.recipient == chat, OutboundMessage.kind == "payment")
            .order_by(OutboundMessage.id)
        )
        return list(rows)


def test_rejecting_a_group_photo_sends_the_leader_one_message(client_for, seeded, broker) -> None:
    _group_id, chat, payment_ids = _group_photo(seeded.event_id)
    before = _texts_to(chat)
    client, token = client_for("verifier", lang="en")
    r = client.post(f"/admin/payments/{payment_ids[0]}/reject",
                    data={"reason": "amount_mismatch", "note": ""},
                    headers={**XHR, "x-csrf-token": token})  # fmt: skip
    assert r.status_code == 200 and r.json()["ok"], r.text
    with get_sessionmaker()() as session:
        payments = [session.get(Payment, i) for i in payment_ids]
        assert {p.status for p in payments} == {"rejected"}
        assert {p.registration.status for p in payments} == {"rejected"}
        numbers = [p.registration.number for p in payments]
    [notice] = _texts_to(chat)[len(before) :]  # one message for the three runners
    assert all(n in notice for n in numbers)


def test_approve_all_green_approves_a_group_as_one(client_for, seeded, broker) -> None:
    group_id, chat, group_payments = _group_photo(seeded.event_id)
    single = waiting_with_reading(seeded.event_id)
    with get_sessionmaker()() as session:
        single_chat = session.get(Payment, single).registration.chat_id
    before = _texts_to(chat)
    client, token = client_for("verifier", lang="en")
    ids = ",".join(str(i) for i in [*group_payments, single])
    body = client.post("/admin/queue/approve-green", data={"ids": ids, "confirm": "yes"},
                       headers={**XHR, "x-csrf-token": token}).json()  # fmt: skip
    assert body["approved"] == [*group_payments, single] and body["skipped"] == []
    with get_sessionmaker()() as session:
        members = groups.members(session, group_id)
        assert {r.status for r in members} == {"paid"}
        bibs = [r.bib for r in members]
    [combined] = _texts_to(chat)[len(before) :]  # the group's one message with every BIB
    assert all(bib and bib in combined for bib in bibs)
    assert len(_texts_to(single_chat)) == 1  # the single runner's own "payment verified"
