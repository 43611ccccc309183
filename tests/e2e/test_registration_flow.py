"""Full registrations on PostgreSQL: over both webhooks, under concurrency, across restarts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from app.terminal_chat import build_message, exchange
from core.db import get_sessionmaker, reset_engine, unit_of_work
from core.enums import Channel, OutboundStatus, RegistrationStatus
from core.messaging import inbox
from core.models import Category, Conversation, InboundUpdate, OutboundMessage, Registration
from flows import engine
from tests.answers import answers_for
from tests.channels.helpers import count, fixture, fonnte_path, tg_headers, tg_text, wait_until
from workers.conversations import process_conversation

ROOT = Path(__file__).resolve().parents[2]

WA_ANSWERS = ["DAFTAR", *answers_for(Channel.WHATSAPP, category="1", date_of_birth="17-08-1990",
                                     email="siti@example.com"), "YA"]  # fmt: skip
# "/start 10K" presets the category: it is not asked.
TG_ANSWERS = ["/language en", "/start 10K",
              *answers_for(Channel.TELEGRAM, category=None, full_name="John Runner",
                           gender="Male", date_of_birth="1990-08-17", email="john@example.com",
                           phone="0812 7777 6666", jersey_size="L", emergency_name="Jane Runner",
                           emergency_phone="+62 812 5555 4444", blood_type="don't know",
                           medical_notes="asthma"), "yes"]  # fmt: skip


def _settled() -> bool:
    pending = count(InboundUpdate, InboundUpdate.processed_at.is_(None))
    unsent = count(OutboundMessage, OutboundMessage.status != OutboundStatus.SENT)
    return pending == 0 and unsent == 0


def _registrations() -> list[Registration]:
    with get_sessionmaker()() as session:
        rows = session.scalars(select(Registration).order_by(Registration.id))
        return [r for r in rows if r.participant is not None]


def test_whatsapp_registration_in_indonesian_over_the_fonnte_webhook(
    webhook_client: TestClient, fake_fonnte: Any
) -> None:
    sender = "6281233334444"
    for n, text in enumerate(WA_ANSWERS):
        body = fixture("fonnte", "text", sender=sender, message=text, inboxid=9000 + n)
        assert webhook_client.post(fonnte_path(), json=body).status_code == 200
    wait_until(lambda: _settled() and bool(_registrations()), what="whatsapp registration")
    [reg] = _registrations()
    assert reg.number.startswith("JFR-5K-") and reg.channel == "whatsapp"
    assert reg.participant.phone == "+6281233334444"  # prefilled from the sender, confirmed
    texts = fake_fonnte.sent_texts(sender)
    assert any(reg.number in text for text in texts)
    # numbered by the WhatsApp sender; the code is not repeated in the name ("Fun Run", not "Fun Run 5K")
    assert any("1. 5K — Fun Run, 5 km — Rp150.000" in text for text in texts), texts


def test_telegram_registration_in_english_over_the_telegram_webhook(
    webhook_client: TestClient, fake_telegram: Any
) -> None:
    chat_id = 555000111
    for n, text in enumerate(TG_ANSWERS):
        body = tg_text(700 + n, text, chat_id=chat_id)
        assert (
            webhook_client.post("/webhooks/telegram", json=body, headers=tg_headers()).status_code
            == 200
        )
    wait_until(lambda: _settled() and bool(_registrations()), what="telegram registration")
    [reg] = _registrations()
    assert reg.number.startswith("JFR-10K-") and reg.language == "en"
    assert reg.participant.blood_type == "unknown" and reg.participant.medical_notes == "asthma"
    texts = fake_telegram.sent_texts(chat_id)
    assert any("Registration received" in text and reg.number in text for text in texts)


def test_whatsapp_registration_in_english_over_the_fonnte_webhook(
    webhook_client: TestClient, fake_fonnte: Any
) -> None:
    sender = "6281233335555"
    answers = ["LANGUAGE en", "REGISTER",
               *answers_for(Channel.WHATSAPP, category="21K", full_name="Jane Runner", gender="F",
                            date_of_birth="1990-08-17", email="jane@example.com", phone="yes",
                            jersey_size="S", emergency_name="John Runner",
                            emergency_phone="0812 9999 0000", blood_type="AB"), "YES"]  # fmt: skip
    for n, text in enumerate(answers):
        body = fixture("fonnte", "text", sender=sender, message=text, inboxid=9500 + n)
        assert webhook_client.post(fonnte_path(), json=body).status_code == 200
    wait_until(lambda: _settled() and bool(_registrations()), what="whatsapp registration (en)")
    [reg] = _registrations()
    assert reg.number.startswith("JFR-21K-") and reg.language == "en"
    assert reg.participant.phone == "+6281233335555" and reg.participant.blood_type == "AB"
    texts = fake_fonnte.sent_texts(sender)
    assert any("Registration received" in text and reg.number in text for text in texts)
    assert any("21.1 km" in text for text in texts)  # English numbers
    phone_prompt = next(text for text in texts if "Reply *YES* if" in text)
    assert "1. Yes" not in phone_prompt  # "Reply YES" is not repeated as a one-item list


def test_telegram_registration_in_indonesian_over_the_telegram_webhook(
    webhook_client: TestClient, fake_telegram: Any
) -> None:
    chat_id = 555000222
    answers = ["/start",
               *answers_for(Channel.TELEGRAM, category="2", full_name="Budi Pelari", gender="L",
                            date_of_birth="17 Agustus 1988", email="budi@example.com",
                            phone="081277776666", jersey_size="XL", emergency_name="Sri Rahayu",
                            emergency_phone="081255554444", blood_type="tidak tahu"), "YA"]  # fmt: skip
    for n, text in enumerate(answers):
        body = tg_text(800 + n, text, chat_id=chat_id)
        assert (
            webhook_client.post("/webhooks/telegram", json=body, headers=tg_headers()).status_code
            == 200
        )
    wait_until(lambda: _settled() and bool(_registrations()), what="telegram registration (id)")
    [reg] = _registrations()
    assert reg.number.startswith("JFR-10K-") and reg.language == "id"
    assert reg.participant.phone == "+6281277776666" and reg.participant.jersey_size == "XL"
    texts = fake_telegram.sent_texts(chat_id)
    assert any("Pendaftaran diterima" in text and reg.number in text for text in texts)
    assert any("21,1 km" in json.dumps(c.params, ensure_ascii=False) for c in fake_telegram.calls)
    # Buttons carry the numbers that "Balas dengan angka 1–n" refers to.
    assert any("1. 5K — " in json.dumps(c.params, ensure_ascii=False) for c in fake_telegram.calls)


def _chat_to_summary(chat_id: str, email: str) -> None:
    answers = ["DAFTAR",
               *answers_for(Channel.WHATSAPP, category="21K", full_name="Runner Satu", gender="L",
                            date_of_birth="01-01-1990", email=email, jersey_size="M",
                            emergency_name="Kontak Darurat", emergency_phone="081111222233",
                            blood_type="A")]  # fmt: skip
    for text in answers:
        exchange(build_message(Channel.WHATSAPP, chat_id, chat_id, text))


def test_concurrent_confirmations_for_the_last_slots(demo_event: int) -> None:
    runners, slots = 8, 3
    with unit_of_work() as uow:
        uow.session.execute(
            update(Category).where(Category.code == "21K").values(quota=slots, slots_taken=0)
        )
    chats = [f"62813{n:08d}" for n in range(runners)]
    for n, chat_id in enumerate(chats):
        _chat_to_summary(chat_id, f"runner{n}@example.com")
    barrier = threading.Barrier(runners)
    results: dict[str, str] = {}
    errors: list[BaseException] = []

    def confirm(chat_id: str) -> None:
        try:
            barrier.wait()
            replies = exchange(build_message(Channel.WHATSAPP, chat_id, chat_id, "YA"))
            results[chat_id] = "\n".join(r.text for r in replies)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=confirm, args=(c,)) for c in chats]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    regs = _registrations()
    assert len(regs) == slots
    assert len({r.number for r in regs}) == slots
    assert sum("baru saja habis" in text for text in results.values()) == runners - slots
    with get_sessionmaker()() as session:
        category = session.scalars(select(Category).where(Category.code == "21K")).one()
        assert category.slots_taken == slots
        states = session.scalars(select(Conversation.state)).all()
        assert sorted(states).count("category") == runners - slots  # sent back to choose another


def _record(message: Any) -> int:
    with unit_of_work() as uow:
        row = inbox.record_inbound(uow.session, message)
        assert row is not None and row.conversation_id is not None
        return row.conversation_id


def test_two_messages_of_one_runner_at_once(demo_event: int, broker: Any) -> None:
    chat_id = "6281344445555"
    exchange(build_message(Channel.WHATSAPP, chat_id, chat_id, "DAFTAR"))
    exchange(build_message(Channel.WHATSAPP, chat_id, chat_id, "10K"))
    barrier = threading.Barrier(2)
    ids: list[int] = []

    def arrive(text: str) -> None:
        barrier.wait()
        ids.append(_record(build_message(Channel.WHATSAPP, chat_id, chat_id, text)))
        process_conversation.fn(ids[-1])  # two workers draining the same chat at once

    threads = [threading.Thread(target=arrive, args=(t,)) for t in ("Siti Aminah", "P")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with get_sessionmaker()() as session:
        conversation = session.get(Conversation, ids[0])
        assert conversation is not None
        rows = session.scalars(select(InboundUpdate).order_by(InboundUpdate.id)).all()
        assert all(r.processed_at is not None for r in rows)
        first = rows[-2].message["text"]
        if first == "Siti Aminah":  # arrival order: name then gender -> two steps forward
            assert conversation.state == "date_of_birth"
            assert conversation.answers["gender"] == "F"
        else:  # "P" arrived first: refused as a name, then "Siti Aminah" accepted as the name
            assert conversation.state == "gender"
        assert conversation.answers["full_name"] == "Siti Aminah"


def test_restart_in_the_middle_of_a_flow(demo_event: int) -> None:
    chat_id = "6281355556666"
    for text in ["DAFTAR", "5K", "Rina Wati", "P"]:
        exchange(build_message(Channel.WHATSAPP, chat_id, chat_id, text))
    # A "new process": no cached machine, no pooled connections.
    engine._MACHINES.clear()
    reset_engine()
    with get_sessionmaker()() as session:
        conversation = session.scalars(
            select(Conversation).where(Conversation.chat_id == chat_id)
        ).one()
        assert conversation.state == "date_of_birth"
    for text in ["02-02-1992", f"rina{uuid.uuid4().hex[:6]}@example.com", "YA", "S",
                 "Budi", "081298765432", "B", "-", "YA"]:  # fmt: skip
        exchange(build_message(Channel.WHATSAPP, chat_id, chat_id, text))
    [reg] = _registrations()
    assert reg.status == RegistrationStatus.PENDING_PAYMENT.value
    assert reg.participant.full_name == "Rina Wati"


def test_restart_in_the_middle_of_a_flow_in_a_second_process(demo_event: int) -> None:
    """The first half in this process, the rest typed into `funrun chat` in a fresh process."""
    chat_id = "6281366667777"
    for text in ["DAFTAR", "10K", "Dewi Lestari", "P", "03-03-1993"]:
        exchange(build_message(Channel.WHATSAPP, chat_id, chat_id, text))
    rest = ["dewi.second@example.com", "YA", "M", "Agus", "081298761111", "A", "-", "YA", "/keluar"]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "app.cli",
            "chat",
            "--channel",
            "whatsapp",
            "--phone",
            "081366667777",
        ],
        cwd=ROOT,
        env=dict(os.environ),
        input="\n".join(rest) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    [reg] = _registrations()
    assert reg.number in done.stdout and reg.participant.full_name == "Dewi Lestari"
    assert reg.participant.date_of_birth.isoformat() == "1993-03-03"  # answered before the restart
    assert "Halo" not in done.stdout  # resumed where it was, not started again
