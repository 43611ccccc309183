"""Registration detail and actions, queue side effects, events and staff over HTTP, dead letters."""

from __future__ import annotations

import re
from typing import Any

import dramatiq
from dramatiq import Message, Worker
from dramatiq.brokers.stub import StubBroker
from fastapi.testclient import TestClient
from sqlalchemy import select

from core import audit
from core.db import get_sessionmaker, unit_of_work, utcnow
from core.models import (
    AuditLog,
    Category,
    Event,
    InboundUpdate,
    OutboundMessage,
    Participant,
    Payment,
    Registration,
)
from tests import factories as f
from tests.admin.conftest import login
from tests.factories import category, suffix
from workers import broker_ops

XHR = {"accept": "application/json", "x-requested-with": "XMLHttpRequest"}


def waiting(event_id: int, **kwargs: Any) -> tuple[int, int]:
    with unit_of_work() as uow:
        event = uow.session.get(Event, event_id)
        reg = f.make_registration(uow.session, event, **kwargs)
        return reg.id, f.make_payment(uow.session, reg).id


def trail(action: str, subject_id: int | None = None) -> list[AuditLog]:
    stmt = select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)
    if subject_id is not None:
        stmt = stmt.where(AuditLog.subject_id == str(subject_id))
    with get_sessionmaker()() as session:
        return list(session.scalars(stmt))


def queued(broker: Any) -> list[Message]:
    """Every message waiting in any declared queue of the Redis broker."""
    return [
        Message.decode(value)
        for queue in broker_ops.QUEUES
        for value in broker.client.hvals(f"{broker.namespace}:{queue}.msgs")
    ]


def test_detail_page_shows_answers_photos_messages_and_trail(client_for, seeded) -> None:
    reg_id, payment_id = waiting(seeded.event_id, full_name="Siti Rahayu", jersey_size="XL")
    with unit_of_work() as uow:
        reg = uow.session.get(Registration, reg_id)
        image_id = uow.session.get(Payment, payment_id).images[0].id
        uow.session.add(
            InboundUpdate(
                channel=reg.channel, external_id=suffix(6), chat_id=reg.chat_id,
                message={"text": "Halo panitia, sudah transfer"}, processed_at=utcnow(),
            )
        )  # fmt: skip
        uow.session.add(
            OutboundMessage(
                channel=reg.channel, recipient=reg.chat_id, registration_id=reg.id,
                text="Bukti transfer diterima", status="failed", error="Forbidden: bot blocked",
                idempotency_key=f"test:{suffix(6)}",
            )
        )  # fmt: skip
        audit.record(
            uow.session, actor="verifier@example.test", action="registration.note",
            subject_type="registration", subject_id=reg.id, before={"x": 1}, after={"x": 2},
        )  # fmt: skip
    client, _ = client_for("verifier", lang="en")
    html = client.get(f"/admin/registrations/{reg_id}").text
    answers = html.split("<h2>Answers</h2>", 1)[1].split("</section>", 1)[0]
    assert "Siti Rahayu" in answers and "XL" in answers
    assert f'<img src="/admin/media/payment-images/{image_id}"' in html
    assert client.get(f"/admin/media/payment-images/{image_id}").status_code == 200
    chat = html.split("<h2>Messages", 1)[1].split("</section>", 1)[0]
    assert 'class="msg msg-in"' in chat and "Halo panitia, sudah transfer" in chat
    assert 'class="msg msg-out"' in chat and "Bukti transfer diterima" in chat
    assert "Forbidden: bot blocked" in chat
    assert chat.index("Halo panitia") < chat.index("Bukti transfer")  # oldest first
    trail_html = html.split("<h2>History</h2>", 1)[1]  # the audit trail, in words
    assert "Registration: note" in trail_html and "verifier@example.test" in trail_html
    assert "X: <del>1</del> → 2" in trail_html


def test_cancel_move_and_edit_over_http_are_audited(client_for, seeded) -> None:
    reg_id, _ = waiting(seeded.event_id, code="5K", jersey_size="M")
    with get_sessionmaker()() as session:
        event = session.get(Event, seeded.event_id)
        ten_k = category(session, event, "10K")
        ten_k_id, ten_k_taken = ten_k.id, ten_k.slots_taken
    client, token = client_for("verifier", lang="en")
    actor = seeded.emails["verifier"]
    base = f"/admin/registrations/{reg_id}"

    r = client.post(f"{base}/move", data={"category_id": ten_k_id, "csrf_token": token})
    assert "Moved to the new category." in r.text
    r = client.post(
        f"{base}/edit",
        data={"phone": "081234567890", "club": "Lari Pagi", "csrf_token": token},
    )
    assert "Saved (2 field(s) changed)." in r.text, r.text[:3000]
    r = client.post(f"{base}/cancel", data={"reason": "asked by runner", "csrf_token": token})
    assert "Registration cancelled; slot and jersey released." in r.text

    with get_sessionmaker()() as session:
        reg = session.get(Registration, reg_id)
        person = session.get(Participant, reg.participant_id)
        assert reg.status == "cancelled" and reg.category_id == ten_k_id
        assert person.phone == "081234567890" and person.club == "Lari Pagi"
        assert session.get(Category, ten_k_id).slots_taken == ten_k_taken  # taken, then released
    moved, edited, cancelled = (
        trail(a, reg_id)
        for a in ("registration.moved", "registration.edited", "registration.cancelled")
    )
    assert len(moved) == len(edited) == len(cancelled) == 1
    assert {moved[0].actor, edited[0].actor, cancelled[0].actor} == {actor}
    assert moved[0].after["category_id"] == ten_k_id
    assert edited[0].after == {"phone": "081234567890", "club": "Lari Pagi"}
    assert set(edited[0].before) == {"phone", "club"}
    assert cancelled[0].before == {"status": "awaiting_verification"}
    assert cancelled[0].after == {"status": "cancelled"}
    assert cancelled[0].data == {"reason": "asked by runner", "released": True}


def test_cancel_without_csrf_or_by_checkin_is_refused(client_for, seeded) -> None:
    reg_id, _ = waiting(seeded.event_id)
    verifier, _ = client_for("verifier", lang="en")
    assert verifier.post(f"/admin/registrations/{reg_id}/cancel").status_code == 403
    checkin, token = client_for("checkin", lang="en")
    r = checkin.post(f"/admin/registrations/{reg_id}/cancel", data={"csrf_token": token})
    assert r.status_code == 403
    assert trail("registration.cancelled") == []


def test_approve_enqueues_the_ticket_and_reject_queues_the_runner_message(
    client_for, seeded, broker
) -> None:
    approved_reg, approved = waiting(seeded.event_id)
    rejected_reg, rejected = waiting(seeded.event_id)
    client, token = client_for("verifier", lang="en")
    headers = {**XHR, "x-csrf-token": token}
    assert client.post(f"/admin/payments/{approved}/approve", headers=headers).json()["changed"]
    tickets = [m for m in queued(broker) if m.actor_name == "send_ticket"]
    assert [m.args[0] for m in tickets] == [approved_reg]

    r = client.post(
        f"/admin/payments/{rejected}/reject",
        data={"reason": "other", "note": "Nominal kurang Rp5.000"},
        headers=headers,
    )
    assert r.json()["changed"] is True
    with get_sessionmaker()() as session:
        rows = session.scalars(
            select(OutboundMessage).where(OutboundMessage.registration_id == rejected_reg)
        ).all()
    assert rows and all(row.status == "pending" for row in rows)
    assert any("Nominal kurang Rp5.000" in row.text for row in rows)
    deliveries = [m for m in queued(broker) if m.actor_name.startswith("deliver")]
    assert {row.id for row in rows} & {m.args[0] for m in deliveries}


def test_reject_other_without_text_is_refused(client_for, seeded, broker) -> None:
    _, payment_id = waiting(seeded.event_id)
    client, token = client_for("verifier")
    headers = {**XHR, "x-csrf-token": token}
    for note in ("", "   "):
        r = client.post(
            f"/admin/payments/{payment_id}/reject",
            data={"reason": "other", "note": note},
            headers=headers,
        )
        assert r.status_code == 400 and r.json()["ok"] is False
        assert 'Ketik alasan untuk "Lainnya"' in r.json()["message"]
    with get_sessionmaker()() as session:
        payment = session.get(Payment, payment_id)
        assert payment.status == "submitted" and payment.reject_reason is None
        outbound = session.scalars(select(OutboundMessage)).all()
    assert outbound == [] and trail("payment.rejected") == []


def test_event_create_edit_and_staff_add_over_http(app, client_for, seeded) -> None:
    client, token = client_for("admin", lang="en")
    data = {
        "slug": "Bandung-Run", "name": "Bandung Run", "race_date": "2030-05-01",
        "race_start_time": "05:30", "venue": "Gedung Sate", "timezone": "Asia/Jakarta",
        "registration_opens_at": "2030-01-01T08:00", "requires_nik": "on", "csrf_token": token,
    }  # fmt: skip
    r = client.post("/admin/events/0", data=data)
    assert r.status_code == 200 and "Event saved." in r.text
    event_id = int(re.search(r"/admin/events/(\d+)$", str(r.url)).group(1))  # type: ignore[union-attr]
    with get_sessionmaker()() as session:
        event = session.get(Event, event_id)
        assert event.slug == "bandung-run" and event.requires_nik
        assert event.registration_opens_at.hour == 1  # 08:00 WIB stored as UTC
    r = client.post(f"/admin/events/{event_id}", data={**data, "name": "Bandung Night Run"})
    assert "Event saved." in r.text
    with get_sessionmaker()() as session:
        assert session.get(Event, event_id).name == "Bandung Night Run"
    updated = trail("event.updated", event_id)
    assert len(trail("event.created", event_id)) == 1 and len(updated) == 1
    assert updated[0].before == {"name": "Bandung Run"}
    assert updated[0].after == {"name": "Bandung Night Run"}

    email = f"desk-{suffix()}@example.test"
    staff_form = {"email": email, "name": "Desk", "role": "checkin", "csrf_token": token}
    r = client.post("/admin/settings/staff", data={**staff_form, "password": "short"})
    assert "at least 10 characters" in r.text
    r = client.post("/admin/settings/staff", data={**staff_form, "password": "a-long-password"})
    assert f"Added {email}" in r.text
    created = [row for row in trail("staff.created") if row.actor == seeded.emails["admin"]]
    assert len(created) == 1
    with TestClient(app) as newcomer:
        login(newcomer, email, "a-long-password")
        assert newcomer.get("/admin/settings").status_code == 403


def test_dead_letter_retry_on_the_in_process_broker() -> None:
    """The embedded default (no Redis) dead-letters into memory; Retry must re-run the job."""
    _calls: list[int] = []
    stub = StubBroker()
    stub.emit_after("process_boot")
    for queue in broker_ops.QUEUES:
        stub.declare_queue(queue)

    @dramatiq.actor(broker=stub, queue_name="low", max_retries=0, actor_name="flaky_for_test")
    def flaky(n: int) -> None:
        _calls.append(n)
        if len(_calls) == 1:
            raise RuntimeError("first run fails")

    worker = Worker(stub, worker_threads=1, worker_timeout=50)
    worker.start()
    try:
        flaky.send(7)
        stub.join("low", fail_fast=False)
        dead = broker_ops.dead_letters(on=stub)
        assert [(d.queue, d.actor, d.args) for d in dead] == [("low", "flaky_for_test", "(7,)")]
        assert [s.dead for s in broker_ops.queue_stats(on=stub) if s.name == "low"] == [1]
        assert broker_ops.retry_dead_letter("low", "no-such-id", on=stub) is False
        assert broker_ops.retry_dead_letter("low", dead[0].redis_id, on=stub) is True
        stub.join("low", fail_fast=True)
        assert _calls == [7, 7]
        assert broker_ops.dead_letters(on=stub) == []
        assert broker_ops.retry_dead_letter("low", dead[0].redis_id, on=stub) is False
    finally:
        worker.stop()
