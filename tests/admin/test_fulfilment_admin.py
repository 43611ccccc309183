"""Fulfilment over HTTP: a used-up BIB range refused at approval, a category move reissuing the
ticket end to end (new BIB, new QR sent, old QR refused at check-in), and the admin resend."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from core.db import get_sessionmaker, unit_of_work
from core.fulfilment import paid
from core.models import AuditLog, Category, Event, Payment, Registration
from tests import factories as f
from tests.admin.test_checkin import scan
from tests.channels.helpers import queued_jobs
from tests.core.test_tickets import NOW
from tests.qr import decode_qr
from workers.broker import QUEUES

XHR = {"accept": "application/json", "x-requested-with": "XMLHttpRequest"}


def _queued(broker: Any) -> int:
    """Messages waiting in every queue of the Redis broker (no worker runs in these tests)."""
    return sum(queued_jobs(broker, q) for q in QUEUES)


def _category(session: Any, event_id: int, code: str) -> Category:
    return session.scalars(
        select(Category).where(Category.event_id == event_id, Category.code == code)
    ).one()


def _use_up_5k_range(event_id: int) -> None:
    """Shrink the 5K BIB range to one number and hand it out."""
    with unit_of_work() as uow:
        event = uow.session.get(Event, event_id)
        cat = _category(uow.session, event_id, "5K")
        cat.bib_end = cat.bib_start
        filler = f.make_registration(uow.session, event, code="5K")
        paid.mark_paid(uow.session, registration=filler, actor="t", now=NOW)


def test_approve_is_refused_with_409_when_the_bib_range_is_used_up(
    client_for, seeded, broker
) -> None:  # type: ignore[no-untyped-def]
    _use_up_5k_range(seeded.event_id)
    with unit_of_work() as uow:
        event = uow.session.get(Event, seeded.event_id)
        reg = f.make_registration(uow.session, event, code="5K")
        reg_id, status_before = reg.id, reg.status
        payment_id = f.make_payment(uow.session, reg).id
    client, token = client_for("verifier", lang="en")

    r = client.post(f"/admin/payments/{payment_id}/approve", headers={**XHR, "x-csrf-token": token})
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["ok"] is False
    assert "BIB range of category 5K" in body["message"] and "extend the range" in body["message"]
    with get_sessionmaker()() as session:
        assert session.get(Payment, payment_id).status == "submitted"
        reg = session.get(Registration, reg_id)
        assert (reg.status, reg.bib, reg.ticket_token) == (status_before, None, None)
        assert not session.scalar(select(func.count()).where(AuditLog.action == "payment.approved"))
    assert _queued(broker) == 0  # no e-ticket job, no runner message

    # A plain form post shows the same text on the queue page.
    page = client.post(
        f"/admin/payments/{payment_id}/approve", data={"csrf_token": token}, follow_redirects=True
    )
    assert "extend the range in the category settings" in page.text

    with unit_of_work() as uow:  # the organiser extends the range: approval goes through
        _category(uow.session, seeded.event_id, "5K").bib_end += 1
    r = client.post(f"/admin/payments/{payment_id}/approve", headers={**XHR, "x-csrf-token": token})
    assert r.status_code == 200 and r.json()["changed"] is True, r.text
    with get_sessionmaker()() as session:
        cat = _category(session, seeded.event_id, "5K")
        assert session.get(Registration, reg_id).bib == f"{cat.bib_prefix or ''}{cat.bib_end}"
    assert _queued(broker) >= 1  # now the e-ticket job and the runner's notice are enqueued


def _drain(broker: Any, worker: Any) -> None:
    broker.join("default", timeout=30_000)
    broker.join("notifications", timeout=30_000)
    worker.join()


def _paid_telegram(event_id: int, chat_id: str) -> dict[str, Any]:
    with unit_of_work() as uow:
        event = uow.session.get(Event, event_id)
        reg = f.make_registration(uow.session, event, code="10K", chat_id=chat_id)
        paid.mark_paid(uow.session, registration=reg, actor="t", now=NOW)
        return {"id": reg.id, "bib": reg.bib, "token": reg.ticket_token, "number": reg.number}


def test_category_move_reissues_the_ticket_end_to_end(
    client_for, seeded, fake_telegram, broker, worker
) -> None:  # type: ignore[no-untyped-def]
    old = _paid_telegram(seeded.event_id, "515151")
    with get_sessionmaker()() as session:
        five_k = _category(session, seeded.event_id, "5K")
        five_k_id, five_k_range = five_k.id, (five_k.bib_start, five_k.bib_end)
    admin, token = client_for("verifier", lang="en")

    r = admin.post(
        f"/admin/registrations/{old['id']}/move",
        data={"category_id": str(five_k_id), "csrf_token": token},
        follow_redirects=True,
    )
    assert "Moved to the new category." in r.text
    _drain(broker, worker)

    with get_sessionmaker()() as session:
        reg = session.get(Registration, old["id"])
        assert reg.category_id == five_k_id and reg.ticket_version == 2
        assert reg.bib != old["bib"] and five_k_range[0] <= reg.bib_number <= five_k_range[1]
        assert reg.ticket_token and reg.ticket_token != old["token"]
        new = {"bib": reg.bib, "token": reg.ticket_token}
    fake_telegram.wait_for(lambda fake: len(fake.sent_photos("515151")) >= 1, timeout=30)
    _drain(broker, worker)
    photos = fake_telegram.sent_photos("515151")
    assert len(photos) == 1  # the new ticket, sent after the move
    assert decode_qr(photos[0].files["photo"]) == new["token"]
    assert new["bib"] in str(photos[0].params.get("caption"))

    desk, csrf = client_for("checkin", lang="en")
    event = str(seeded.event_id)
    refused = scan(desk, csrf, old["token"], "move-nonce-1", event_id=event).json()
    assert refused["outcome"] == "invalid"
    accepted = scan(desk, csrf, new["token"], "move-nonce-2", event_id=event).json()
    assert accepted["outcome"] == "ok" and accepted["bib"] == new["bib"]


def test_admin_resend_sends_the_ticket_again_and_is_audited(
    client_for, seeded, fake_telegram, broker, worker
) -> None:  # type: ignore[no-untyped-def]
    from workers.tickets import send_ticket

    reg = _paid_telegram(seeded.event_id, "626262")
    send_ticket.send(reg["id"])
    fake_telegram.wait_for(lambda fake: len(fake.sent_photos("626262")) >= 1, timeout=30)
    _drain(broker, worker)
    assert len(fake_telegram.sent_photos("626262")) == 1
    admin, token = client_for("verifier", lang="en")

    r = admin.post(
        f"/admin/registrations/{reg['id']}/resend-ticket",
        data={"csrf_token": token},
        follow_redirects=True,
    )
    assert "will be sent again" in r.text
    fake_telegram.wait_for(lambda fake: len(fake.sent_photos("626262")) >= 2, timeout=30)
    _drain(broker, worker)

    photos = fake_telegram.sent_photos("626262")
    assert len(photos) == 2
    assert decode_qr(photos[1].files["photo"]) == reg["token"]  # the same, still valid ticket
    with get_sessionmaker()() as session:
        audit = session.scalars(
            select(AuditLog).where(AuditLog.action == "ticket.resend_requested")
        ).one()
        assert audit.subject_id == str(reg["id"]) and audit.actor


def test_resend_refused_for_an_unpaid_registration(client_for, seeded, broker) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work() as uow:
        event = uow.session.get(Event, seeded.event_id)
        reg_id = f.make_registration(uow.session, event).id
    admin, token = client_for("verifier", lang="en")
    r = admin.post(
        f"/admin/registrations/{reg_id}/resend-ticket",
        data={"csrf_token": token},
        follow_redirects=True,
    )
    assert "Only paid registrations have an e-ticket." in r.text
    assert _queued(broker) == 0
    with get_sessionmaker()() as session:
        assert not session.scalar(
            select(func.count()).where(AuditLog.action == "ticket.resend_requested")
        )
