"""Runtime details against PostgreSQL: menu numbers, summary cancel, closed event, NIK, STATUS, names."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.enums import Channel
from core.formatting import format_datetime, rupiah
from core.models import Event, Registration
from core.registration import intake
from flows import engine, runtime
from flows.registration import REGISTRATION
from tests.flows.chat import Chat


def _registrations(session: Session) -> list[Registration]:
    return list(session.scalars(select(Registration).order_by(Registration.id)))


def test_idle_menu_numbers_run_their_commands(session: Session, event: Event) -> None:
    chat = Chat(session)
    chat.send("halo")
    assert "1. *DAFTAR*" in chat.text()
    chat.send("2")
    assert "Belum ada pendaftaran" in chat.text()  # 2 = STATUS
    chat.send("4")
    assert "Panduan" in chat.text()  # 4 = BANTUAN
    chat.send("5")
    assert chat.conversation.language == "en"  # 5 = BAHASA
    chat.send("5")
    chat.send("1")
    assert chat.state == "category" and "Jakarta Fun Run" in chat.text()  # 1 = DAFTAR
    chat.send("2")
    assert (
        chat.conversation.answers["category"] == "10K"
    )  # in a flow, a number answers the question


def test_cancel_from_the_summary_asks_like_batal(session: Session, event: Event) -> None:
    chat = Chat(session)
    chat.send("DAFTAR")
    chat.answer_until("confirm")
    ctx = runtime.ctx_for(session, chat.conversation, now=chat.now)
    last = str(len(engine.summary_options(REGISTRATION, ctx)))
    chat.send(last)
    assert "Yakin" in chat.text() and chat.state == "confirm"
    chat.send("2")
    assert chat.state == "confirm" and chat.conversation.answers["full_name"] == "Siti Aminah"
    assert "Ringkasan" in chat.last[-1].text  # the summary again
    chat.send(last)
    chat.send("1")
    assert chat.state == "idle" and "dibatalkan" in chat.text()
    assert _registrations(session) == []


def test_event_closing_mid_draft_keeps_every_answer(session: Session, event: Event) -> None:
    chat = Chat(session)
    chat.send("DAFTAR")
    chat.answer_until("email")
    event.registration_closes_at = chat.now - timedelta(minutes=1)
    session.flush()
    chat.send(chat.email)
    assert "tersimpan" in chat.text() and chat.state == "email"
    assert chat.conversation.answers["full_name"] == "Siti Aminah"  # the message tells the truth
    event.registration_closes_at = None  # reopened
    session.flush()
    chat.send("DAFTAR")
    chat.send("1")  # continue
    chat.send(chat.email)
    assert chat.state == "phone" and chat.conversation.answers["email"] == chat.email


def test_duplicate_nik_refused_at_confirm(session: Session, event: Event) -> None:
    event.requires_nik = True
    session.flush()
    nik = "3171234567890099"
    slow, fast = Chat(session), Chat(session)
    slow.send("DAFTAR")
    slow.answer_until("confirm", {"nik": nik})
    fast.register({"nik": nik})
    assert intake.find_duplicate(session, event_id=event.id, field="nik", value=nik)
    slow.send("YA")
    assert "NIK ini sudah terdaftar" in slow.last[0].text
    assert slow.state == "nik" and slow.conversation.answers["full_name"] == "Siti Aminah"
    assert len(_registrations(session)) == 1
    slow.send("3171234567890100")
    assert slow.state == "confirm"
    slow.send("YA")
    assert len(_registrations(session)) == 2


def test_status_of_a_pending_registration_shows_amount_and_deadline(
    session: Session, event: Event
) -> None:
    chat = Chat(session)
    chat.register()
    [reg] = _registrations(session)
    chat.send("STATUS")
    text = chat.last[0].text
    assert reg.number in text and "Menunggu pembayaran" in text
    assert f"Tagihan: *{rupiah(reg.amount_due)}*" in text
    assert reg.payment_deadline is not None
    assert f"Batas bayar: {format_datetime(reg.payment_deadline, 'id', event.timezone)}" in text


def test_not_open_and_closed_messages_show_the_dates(session: Session, event: Event) -> None:
    chat = Chat(session)
    opens = chat.now + timedelta(days=3)
    event.registration_opens_at = opens
    session.flush()
    chat.send("DAFTAR")
    assert "belum dibuka" in chat.text()
    assert format_datetime(opens, "id", event.timezone) in chat.text()
    closes = chat.now - timedelta(days=1)
    event.registration_opens_at = chat.now - timedelta(days=30)
    event.registration_closes_at = closes
    session.flush()
    chat.send("LANGUAGE en")
    chat.send("REGISTER")
    assert "closed" in chat.text() and format_datetime(closes, "en", event.timezone) in chat.text()


def test_simulator_welcome_has_no_fake_name(session: Session, event: Event) -> None:
    chat = Chat(session, Channel.SIMULATOR)
    chat.send("DAFTAR")
    assert chat.last[0].text.startswith("Halo! 👋")
    named = Chat(session)  # a real WhatsApp profile name is still used
    named.send("DAFTAR")
    assert named.last[0].text.startswith("Halo Siti! 👋")


def test_telegram_buttons_are_numbered_and_tapping_them_works(
    session: Session, event: Event
) -> None:
    chat = Chat(session, Channel.TELEGRAM)
    chat.send("DAFTAR")
    labels = [c.label for c in chat.last[-1].choices]
    assert labels[0].startswith("1. 5K · ") and labels[2].startswith("3. 21K · ")
    chat.send(labels[1])  # a reply-keyboard tap sends the label
    assert chat.conversation.answers["category"] == "10K"
    chat.send("BATAL")
    assert [c.label for c in chat.last[0].choices] == ["1. Ya", "2. Tidak"]
    chat.send("2. Tidak")
    assert chat.state == "full_name"
    chat.send("Siti Aminah")
    chat.send(chat.last[-1].choices[1].label)  # "2. Perempuan"
    assert chat.conversation.answers["gender"] == "F"
    chat.answer_until("blood_type")
    chat.send(chat.last[-1].choices[-1].label)  # "5. Tidak tahu"
    assert chat.conversation.answers["blood_type"] == "unknown"
    chat.answer_until("confirm")
    summary = chat.last[-1]
    assert summary.choices[0].label.startswith("1. ") and summary.choices[-1].label.endswith(
        "Batal"
    )
    chat.send("zzz")
    # Yes / edit / cancel buttons; an unclear reply gets a short hint, not the summary again.
    assert [c.label for c in summary.choices] == ["1. Ya, daftarkan", "2. Ubah data", "3. Batal"]
    assert len(chat.last) == 1 and "*UBAH <bagian>*" in chat.text()
