"""Dashboard numbers, funnel per event, operations page, /metrics series and export contents."""

from __future__ import annotations

import csv
import io
import re
import time
from datetime import date, datetime, timedelta

from dramatiq import Message
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import reports
from core.db import get_sessionmaker, unit_of_work, utcnow
from core.enums import RegistrationStatus
from core.events import setup
from core.models import (
    AuditLog,
    Conversation,
    Event,
    InboundUpdate,
    OutboundMessage,
    PaymentAccount,
)
from tests import factories as f
from tests.factories import random_chat_id, suffix

XHR = {"accept": "application/json", "x-requested-with": "XMLHttpRequest"}


def conversation(session: Session, channel: str = "telegram", **answers: str) -> Conversation:
    row = Conversation(
        channel=channel, chat_id=random_chat_id(), answers=dict(answers), started_at=utcnow()
    )
    session.add(row)
    session.flush()
    return row


def failed_outbound(session: Session, channel: str, error: str) -> OutboundMessage:
    row = OutboundMessage(
        channel=channel, recipient=random_chat_id(), text="Halo", status="failed", attempts=3,
        error=error, idempotency_key=f"test:{suffix(6)}",
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row


def test_funnel_started_follows_the_event_filter(session: Session) -> None:
    demo = f.demo_event(session, admin_password=f.PASSWORD)
    other = setup.save_event(
        session, event_id=None,
        data={"slug": "bdg-run", "name": "Bandung Run", "race_date": date(2030, 5, 1)}, actor="t",
    )  # fmt: skip
    conversation(session, event=demo.slug)
    conversation(session, "whatsapp", event=other.slug)
    linked = conversation(session)  # finished: answers cleared, the registration links it
    f.make_registration(session, demo).conversation_id = linked.id
    session.flush()
    conversation(session)  # still on the first question: no event yet

    def started(event_id: int | None) -> dict[str, int]:
        totals: dict[str, int] = {}
        for row in reports.funnel(session, event_id=event_id):
            totals[row.channel] = totals.get(row.channel, 0) + row.started
        return {k: v for k, v in totals.items() if v}

    assert started(demo.id) == {"telegram": 2}
    assert started(other.id) == {"whatsapp": 1}
    assert started(None) == {"telegram": 3, "whatsapp": 1}


def test_dashboard_shows_verification_time_failures_and_funnel(client_for, seeded) -> None:
    with unit_of_work() as uow:
        event = uow.session.get(Event, seeded.event_id)
        payment = f.make_payment(uow.session, f.make_registration(uow.session, event))
        payment.submitted_at = utcnow() - timedelta(minutes=90)
        payment.verified_at = payment.submitted_at + timedelta(minutes=12)
        payment.status = "rejected"
        failed_outbound(uow.session, "whatsapp", "device disconnected")
        failed_outbound(uow.session, "whatsapp", "number not on WhatsApp")
        failed_outbound(uow.session, "telegram", "Forbidden: bot was blocked by the user")
        conversation(uow.session, event=event.slug)
    admin, _ = client_for("admin", lang="en")
    html = admin.get(f"/admin/?event_id={seeded.event_id}").text
    average = html.split("Avg. verification time", 1)[1][:80]
    assert '<div class="stat">12 min</div>' in average
    failures = html.split("Messages not delivered", 1)[1][:200]
    assert '<div class="stat">3</div>' in failures
    assert "Telegram: 1" in failures and "WhatsApp (Fonnte): 2" in failures
    # Counted in chats: the conversation that chose the event, and the chat that registered.
    funnel = re.sub(r"\s+", " ", html.split('<table class="funnel">', 1)[1].split("</tbody>")[0])
    assert (
        '<td>Telegram</td> <td class="num">2</td> <td class="num">1 <small class="muted">(50%)</small></td>'
        in funnel
    )
    assert '<td class="num">0 <small class="muted">(0%)</small></td></tr>' in funnel


def test_operations_shows_queues_failures_and_waiting_inbound(client_for, broker) -> None:
    old = int((time.time() - 300) * 1000)
    message = Message(
        queue_name="low", actor_name="sweep", args=(), kwargs={}, options={},
        message_timestamp=old,
    )  # fmt: skip
    broker.enqueue(message)
    with unit_of_work() as uow:
        failed_outbound(uow.session, "whatsapp", "device disconnected (Fonnte)")
        uow.session.add(
            InboundUpdate(
                channel="telegram", external_id=suffix(6), chat_id=random_chat_id(),
                received_at=utcnow() - timedelta(minutes=5),
            )
        )  # fmt: skip
    admin, _ = client_for("admin", lang="en")
    html = admin.get("/admin/operations").text
    row = html.split("<td>low</td>", 1)[1].split("</tr>", 1)[0]
    cells = [c.split(">", 1)[1].split("<", 1)[0] for c in row.split("<td")[1:]]
    assert cells[0] == "1"  # waiting
    assert cells[2].endswith(" s") and int(cells[2][:-2]) >= 299  # oldest waiting
    assert "device disconnected (Fonnte)" in html
    waiting = html.split("Inbound waiting", 1)[1][:300]
    assert '<div class="stat">1</div>' in waiting and "1 older than 1 min" in waiting
    assert "WhatsApp (Fonnte): 1" in html.split("Outbound failed", 1)[1][:300]


def test_metrics_has_latency_histogram_and_verification_gauge(client_for, seeded) -> None:
    with unit_of_work() as uow:
        event = uow.session.get(Event, seeded.event_id)
        payment = f.make_payment(uow.session, f.make_registration(uow.session, event))
        payment.verified_at = payment.submitted_at + timedelta(seconds=30)
    client, _ = client_for("admin", lang="en")
    client.post("/webhooks/telegram", json={})
    body = client.get("/metrics").text
    assert "# TYPE funrun_webhook_latency_seconds histogram" in body
    assert 'funrun_webhook_latency_seconds_bucket{channel="telegram",le="0.005"}' in body
    assert 'funrun_webhook_latency_seconds_count{channel="telegram"}' in body
    assert "funrun_verification_seconds_avg 30.0" in body


def test_participants_xlsx_contents(client_for, seeded) -> None:
    with unit_of_work() as uow:
        event = uow.session.get(Event, seeded.event_id)
        reg = f.make_registration(uow.session, event, full_name="Siti Rahayu", jersey_size="L")
        number, event_name = reg.number, event.name
        f.make_registration(uow.session, event, status=RegistrationStatus.CANCELLED)
    admin, _ = client_for("admin")
    r = admin.get(f"/admin/exports/participants.xlsx?event_id={seeded.event_id}&q=Siti")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(r.content)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    header = rows[0]
    assert len(rows) == 2  # the list's filters apply
    data = dict(zip(header, rows[1], strict=True))
    assert len(set(header)) == len(header), "each field once"
    assert data["Nomor pendaftaran"] == number and data["Nama lengkap"] == "Siti Rahayu"
    assert data["Ukuran jersey"] == "L" and data["Acara"] == event_name
    assert data["Status"] not in ("awaiting_verification", "") and "_" not in data["Status"]
    assert isinstance(data["Terdaftar pada"], datetime)  # a date, in the event's time zone
    phone = sheet.cell(row=2, column=header.index("No. WhatsApp") + 1)
    assert phone.data_type == "s" and not str(phone.value).startswith("'")
    assert sheet.freeze_panes == "A2" and sheet.cell(row=1, column=1).font.bold


def test_financial_csv_after_an_approval(client_for, seeded, broker) -> None:
    with unit_of_work() as uow:
        event = uow.session.get(Event, seeded.event_id)
        reg = f.make_registration(uow.session, event, unique_code=417)
        number, due, price = reg.number, reg.amount_due, reg.price
        payment_id = f.make_payment(uow.session, reg).id
    verifier, token = client_for("verifier", lang="en")
    r = verifier.post(
        f"/admin/payments/{payment_id}/approve", headers={**XHR, "x-csrf-token": token}
    )
    assert r.json()["changed"] is True
    admin, _ = client_for("admin", lang="en")
    r = admin.get(f"/admin/exports/financial.csv?event_id={seeded.event_id}")
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert len(rows) == 1
    row = rows[0]
    assert row["Registration number"] == number and row["Unique code"] == "417"
    assert row["Price"] == str(price) and row["Amount due"] == str(due)
    assert row["Amount received"] == str(due) and row["Payment status"] == "Approved"
    assert row["Verified by"] == seeded.emails["verifier"] and row["Verified at"]
    assert row["Status"] == "Paid" and row["Paid via"] == "Photo"


def test_editing_an_account_can_move_it_to_another_event(client_for, seeded) -> None:
    with unit_of_work() as uow:
        other = setup.save_event(
            uow.session, event_id=None,
            data={"slug": "bdg-run", "name": "Bandung Run", "race_date": date(2030, 5, 1)},
            actor="t",
        )  # fmt: skip
        other_id = other.id
        account = uow.session.scalars(select(PaymentAccount)).first()
        account_id, bank = account.id, account.bank_name
    admin, token = client_for("admin", lang="en")
    form = {"bank_name": bank, "kind": "bank", "active": "on", "csrf_token": token}
    r = admin.post(f"/admin/settings/accounts/{account_id}", data={**form, "event_id": other_id})
    assert "Account saved." in r.text
    with get_sessionmaker()() as session:
        assert session.get(PaymentAccount, account_id).event_id == other_id
    r = admin.post(f"/admin/settings/accounts/{account_id}", data={**form, "event_id": ""})
    assert "Account saved." in r.text
    with get_sessionmaker()() as session:
        assert session.get(PaymentAccount, account_id).event_id is None
        changes = session.scalars(
            select(AuditLog)
            .where(AuditLog.action == "settings.account_updated")
            .order_by(AuditLog.id)
        ).all()
    assert [c.after.get("event_id") for c in changes] == [other_id, None]
    assert changes[1].before["event_id"] == other_id
