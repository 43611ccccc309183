"""send_ticket over the chat channels: one photo per ticket version, across retries and failures."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.db import unit_of_work
from core.fulfilment import paid, tickets
from core.models import OutboundMessage
from tests.core.test_tickets import NOW
from tests.factories import demo_event, make_registration
from tests.qr import decode_qr


def _paid(channel: str, chat_id: str) -> dict[str, Any]:
    with unit_of_work() as uow:
        reg = make_registration(
            uow.session, demo_event(uow.session), channel=channel, chat_id=chat_id, code="10K"
        )
        paid.mark_paid(uow.session, registration=reg, actor="t", now=NOW)
        return {"id": reg.id, "token": reg.ticket_token, "bib": reg.bib}


def _drain(broker: Any, worker: Any) -> None:
    broker.join("default", timeout=30_000)
    broker.join("notifications", timeout=30_000)
    worker.join()


def test_telegram_ticket_sent_exactly_once_across_retries(
    fake_telegram: Any, broker: Any, worker: Any
) -> None:
    from workers.tickets import send_ticket

    reg = _paid("telegram", "424242")
    fake_telegram.fail_next("sendPhoto", status=500)  # the first attempt fails; backoff retries
    send_ticket.send(reg["id"])
    send_ticket.send(reg["id"])  # a redelivered job
    _drain(broker, worker)
    send_ticket.send(reg["id"])  # and one more after everything was sent
    _drain(broker, worker)

    photos = fake_telegram.sent_photos("424242")
    assert len(photos) == 2  # one refused by the server, one accepted: the runner got one ticket
    assert reg["bib"] in str(photos[-1].params.get("caption"))
    assert decode_qr(photos[-1].files["photo"]) == reg["token"]
    with unit_of_work() as uow:
        row = uow.session.scalars(
            select(OutboundMessage).where(OutboundMessage.registration_id == reg["id"])
        ).one()
        assert (row.status, row.attempts, row.idempotency_key) == (
            "sent",
            2,
            f"ticket:{reg['id']}:1",
        )


def test_whatsapp_ticket_and_resend_after_reissue(
    fake_fonnte: Any, broker: Any, worker: Any
) -> None:
    from workers.tickets import send_ticket

    reg = _paid("whatsapp", "6281234567890")
    send_ticket.send(reg["id"])
    _drain(broker, worker)
    with unit_of_work() as uow:
        from core.models import Registration

        row = uow.session.get(Registration, reg["id"])
        assert row is not None
        tickets.reissue(uow.session, registration=row, actor="staff:1")
        new_token = row.ticket_token
    send_ticket.send(reg["id"])
    send_ticket.send(reg["id"], resend="audit-77")  # an explicit admin resend
    _drain(broker, worker)

    sent = fake_fonnte.sent("6281234567890")
    assert len(sent) == 3 and all(s.file for s in sent)
    assert decode_qr(sent[0].file) == reg["token"]
    assert decode_qr(sent[1].file) == decode_qr(sent[2].file) == new_token
