"""Bank statement matching page and the dead-letter retry button."""

from __future__ import annotations

import time

from dramatiq import Message
from sqlalchemy import select

from core.db import get_sessionmaker, unit_of_work
from core.models import Event, PaymentAccount, Registration, StatementLine
from tests import factories as f
from tests.channels.helpers import wait_until


def test_statement_upload_then_approve_exact_and_discard(client_for, seeded, worker) -> None:
    with unit_of_work() as uow:
        event = uow.session.get(Event, seeded.event_id)
        reg = f.make_registration(uow.session, event, unique_code=321)
        reg_id, amount = reg.id, reg.amount_due
        account_id = uow.session.scalars(select(PaymentAccount.id)).first()
    csv_text = (
        "Tanggal,Keterangan,Referensi,Debit,Kredit,Saldo\n"
        f"01/11/2026,TRSF E-BANKING CR SITI,REF1,,{amount},1000000\n"
        "01/11/2026,TRSF E-BANKING CR X,REF2,,99999,1100000\n"
    )
    client, token = client_for("admin", lang="en")
    r = client.post(
        "/admin/statements/upload",
        data={
            "event_id": seeded.event_id,
            "account_id": account_id,
            "preset": "generic",
            "csrf_token": token,
        },
        files={"file": ("mutasi.csv", csv_text.encode(), "text/csv")},
    )
    assert "Imported 2 credits" in r.text, r.text[:2000]
    assert "Exact matches (1)" in r.text and "Unmatched (1)" in r.text
    r = client.post(
        "/admin/statements/approve-exact", data={"event_id": seeded.event_id, "csrf_token": token}
    )
    assert "Approving 1 exact matches in the background" in r.text
    wait_until(lambda: _status(reg_id) == "paid", what="the high-queue bulk approval")
    wait_until(
        lambda: "1 approved." in client.get(f"/admin/statements?event_id={seeded.event_id}").text
    )
    with get_sessionmaker()() as session:
        other = session.scalars(
            select(StatementLine).where(StatementLine.reference == "REF2")
        ).one()
    r = client.post(
        f"/admin/statements/lines/{other.id}/discard",
        data={"event_id": seeded.event_id, "csrf_token": token},
    )
    assert "Line discarded." in r.text and "Unmatched (0)" in r.text


def _status(reg_id: int) -> str:
    with get_sessionmaker()() as session:
        return session.get(Registration, reg_id).status


def test_dead_letter_listed_and_retried(client_for, broker) -> None:
    message = Message(
        queue_name="low", actor_name="sweep", args=(), kwargs={}, options={"retries": 9}
    )
    redis_id = "dead-1"
    xq = f"{broker.namespace}:low.XQ"
    broker.client.zadd(xq, {redis_id: int(time.time() * 1000)})
    broker.client.hset(f"{xq}.msgs", redis_id, message.encode())
    client, token = client_for("admin", lang="en")
    page = client.get("/admin/operations").text
    assert "sweep" in page and 'value="dead-1"' in page
    r = client.post(
        "/admin/operations/dead-letters/retry",
        data={"queue": "low", "message_id": redis_id, "csrf_token": token},
    )
    assert "Job re-enqueued." in r.text
    assert broker.client.zcard(xq) == 0
    assert broker.client.llen(f"{broker.namespace}:low") == 1


def test_a_channel_without_token_is_named_not_configured(client_for, monkeypatch) -> None:
    from core.config import get_settings

    client, _ = client_for("admin")
    monkeypatch.delenv("FONNTE_TOKEN", raising=False)
    monkeypatch.delenv("FONNTE_WEBHOOK_SECRET", raising=False)
    get_settings.cache_clear()
    try:
        page = client.get("/admin/operations").text
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert "WhatsApp (Fonnte) belum dikonfigurasi" in page
    assert "Telegram sudah dikonfigurasi" in page


def test_each_whatsapp_number_shows_its_queue(client_for, monkeypatch) -> None:
    from core.config import get_settings
    from core.enums import Channel
    from core.messages import Reply
    from core.messaging import outbox
    from core.models import Conversation

    monkeypatch.setenv("FONNTE_DEVICES", '{"628111000111": "a", "628222000222": "b"}')
    get_settings.cache_clear()
    with unit_of_work() as uow:
        uow.session.add(
            Conversation(channel="whatsapp", chat_id="6281300000001", device="628111000111")
        )
        for n in range(3):
            outbox.write(
                uow.session, channel=Channel.WHATSAPP.value, recipient="6281300000001",
                reply=Reply(text=f"m{n}"), idempotency_key=f"test:dev:{n}",
            )  # fmt: skip
    client, _ = client_for("admin")
    page = client.get("/admin/operations").text
    section = page[page.index('id="wa-devices"') :]
    assert "Nomor WhatsApp (Fonnte)" in section
    row_a = section[section.index("628111000111") :].split("</tr>")[0]
    assert (
        ">3<" in row_a and "628222000222" in section
    )  # a number with nothing queued is listed too
