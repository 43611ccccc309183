"""The runtime against PostgreSQL (rolled-back session): commands, photos, confirm, several runners."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.enums import Channel, RegistrationStatus
from core.models import AuditLog, Category, Event, JerseyStock, Participant, Registration
from flows import pending
from tests.flows.chat import Chat


def registrations(session: Session) -> list[Registration]:
    return list(session.scalars(select(Registration).order_by(Registration.id)))


def test_complete_registration_on_whatsapp_in_indonesian(session: Session, event: Event) -> None:
    chat = Chat(session)
    chat.send("DAFTAR")
    # Greeting and first question in one message (fewer messages per registration).
    [first] = chat.last
    assert "Jakarta Fun Run" in first.text and "kategori" in first.text and chat.state == "category"
    assert "Rp250.000" in " ".join(c.label for c in first.choices)
    chat.answer_until("phone")
    # Prefilled, only confirmed: "Balas YA" in the text, no redundant "1. Ya" list on WhatsApp.
    assert "+62" in chat.text() and "*YA*" in chat.text() and chat.last[0].choices == ()
    chat.answer_until("confirm")
    chat.send("YA")
    [reg] = registrations(session)
    assert re.fullmatch(r"JFR-10K-\d{5}", reg.number) and reg.number in chat.text()
    assert reg.status == RegistrationStatus.PENDING_PAYMENT.value
    assert reg.amount_due != reg.price and reg.payment_deadline is not None
    assert reg.participant.phone == "+" + chat.phone and reg.participant.gender == "F"
    assert reg.participant.email == chat.email
    assert "transfer" in chat.text().lower()
    # Confirmation, payment instructions and "register another" travel as one message.
    [done] = chat.last
    assert reg.number in done.text and "transfer" in done.text.lower() and "DAFTAR" in done.text
    assert chat.state == "idle" and chat.conversation.answers == {}
    category = session.get(Category, reg.category_id)
    assert category is not None and category.slots_taken == 1
    assert session.scalar(select(JerseyStock.taken).where(JerseyStock.size == "M")) == 1
    assert (
        session.scalar(select(func.count()).where(AuditLog.action == "registration.submitted")) == 1
    )


def test_complete_registration_on_telegram_in_english_with_deep_link(
    session: Session, event: Event
) -> None:
    chat = Chat(session, Channel.TELEGRAM)
    chat.send("/language", command="language", command_arg="en")
    assert "English" in chat.text()
    chat.send("/start 21K", command="start", command_arg="21K")
    assert "21K" in chat.text() and chat.state == "full_name"  # category preselected
    chat.answer_until("phone")
    assert chat.last[-1].choices[0].request_contact  # Telegram: share-contact button
    chat.send(None, phone="+6281377778888")  # a shared contact
    assert chat.conversation.answers["phone"] == "+6281377778888"
    chat.answer_until("confirm")
    assert "Registration summary" in chat.text()
    chat.send("yes")
    [reg] = registrations(session)
    assert reg.number.startswith("JFR-21K-") and reg.language == "en"
    assert "Registration received" in chat.text()


def test_unknown_text_gets_menu_and_commands_work_anywhere(session: Session, event: Event) -> None:
    chat = Chat(session)
    chat.send("halo kak")
    assert "DAFTAR" in chat.text() and "STATUS" in chat.text()
    chat.send("daftar")
    chat.send("/BANTUAN")
    assert "Panduan" in chat.last[0].text and chat.state == "category"
    assert "kategori" in chat.last[-1].text  # the question again
    chat.send("status")
    # One coherent message: no "type DAFTAR" while a draft is already in progress.
    [status, question] = chat.last
    assert "Belum ada pendaftaran yang selesai" in status.text and "berjalan" in status.text
    assert "DAFTAR" not in status.text and "kategori" in question.text
    chat.send("Bahasa")
    assert chat.conversation.language == "en" and "category" in chat.last[-1].text
    chat.send("menu")
    assert "REGISTER" in chat.last[0].text


def test_cancel_asks_first_and_keeps_answers_when_declined(session: Session, event: Event) -> None:
    chat = Chat(session)
    chat.send("DAFTAR")
    chat.answer_until("gender")
    chat.send("BATAL")
    assert "Yakin" in chat.text() and chat.state == "gender"
    chat.send("2")
    assert chat.state == "gender" and chat.conversation.answers["full_name"] == "Siti Aminah"
    chat.send("batal")
    chat.send("ya")
    assert chat.state == "idle" and "dibatalkan" in chat.text()
    chat.send("BATAL")
    assert "Tidak ada pendaftaran" in chat.text()


def test_confirmed_registration_is_not_cancelled_by_chat(session: Session, event: Event) -> None:
    chat = Chat(session)
    chat.register()
    chat.send("batal")
    assert "panitia" in chat.text()
    assert registrations(session)[0].status == RegistrationStatus.PENDING_PAYMENT.value


def test_three_failures_offer_help_and_nothing_is_lost(session: Session, event: Event) -> None:
    chat = Chat(session)
    chat.send("DAFTAR")
    chat.answer_until("date_of_birth")
    for _ in range(2):
        chat.send("kemarin sore")
        assert "Contoh" in chat.text() and "BANTUAN" not in chat.text()
    chat.send("kemarin sore")
    assert "BANTUAN" in chat.text()
    assert chat.conversation.answers["full_name"] == "Siti Aminah"
    chat.send("17-08-1990")
    assert chat.state == "email" and chat.conversation.failed_tries == 0


def test_photo_when_text_expected_and_text_when_photo_expected(
    session: Session, event: Event
) -> None:
    chat = Chat(session)
    chat.photo()
    assert "tidak ada pendaftaran yang menunggu pembayaran" in chat.text()
    chat.send("DAFTAR")
    chat.photo()
    assert "*teks*" in chat.last[0].text and chat.state == "category"
    assert "kategori" in chat.last[-1].text
    chat.answer_until("confirm")
    chat.send("YA")
    chat.send("sudah transfer kak")
    assert "foto" in chat.text().lower() and "bukti transfer" in chat.text()


def test_photo_goes_to_the_only_pending_registration(session: Session, event: Event) -> None:
    chat = Chat(session)
    chat.register()
    chat.photo()
    [reg] = registrations(session)
    assert reg.status == RegistrationStatus.AWAITING_VERIFICATION.value


def test_several_participants_reuse_emergency_contact_and_photo_asks_which(
    session: Session, event: Event
) -> None:
    chat = Chat(session)
    chat.register()
    chat.send("DAFTAR")
    chat.answer_until("emergency_name", {"email": "anak@example.com", "full_name": "Rina Aminah"})
    assert "Budi Santoso" in chat.text() and "*YA*" in chat.text()
    chat.send("1")
    assert chat.state == "blood_type"  # the phone came with the reused contact
    chat.answer_until("confirm")
    chat.send("YA")
    regs = registrations(session)
    assert len(regs) == 2 and regs[1].participant.emergency_phone == "+6281298765432"
    chat.photo()
    assert chat.state == "idle" and pending.of(chat.conversation).kind == "photo"
    chat.send("2")
    session.expire_all()
    assert [r.status for r in registrations(session)] == [
        RegistrationStatus.PENDING_PAYMENT.value,
        RegistrationStatus.AWAITING_VERIFICATION.value,
    ]


def test_sold_out_between_choosing_and_confirming_keeps_answers(
    session: Session, event: Event
) -> None:
    chat = Chat(session)
    chat.send("DAFTAR")
    chat.answer_until("confirm")
    category = session.scalars(select(Category).where(Category.code == "10K")).one()
    category.slots_taken = category.quota
    session.flush()
    chat.send("YA")
    assert "baru saja habis" in chat.text() and chat.state == "category"
    assert any("HABIS" in c.label for c in chat.last[-1].choices)
    assert chat.conversation.answers["email"] == chat.email
    chat.send("5K")
    assert chat.state == "confirm"
    chat.send("YA")
    [reg] = registrations(session)
    assert reg.number.startswith("JFR-5K-")


def test_jersey_sold_out_at_confirm(session: Session, event: Event) -> None:
    chat = Chat(session)
    chat.send("DAFTAR")
    chat.answer_until("confirm")
    stock = session.scalars(select(JerseyStock).where(JerseyStock.size == "M")).one()
    stock.taken = stock.stock
    session.flush()
    chat.send("YA")
    assert chat.state == "jersey_size" and "ukuran *M*" in chat.text()
    chat.send("L")
    chat.send("YA")
    assert registrations(session)[0].participant.jersey_size == "L"


def test_duplicate_email_refused_early_and_at_confirm(session: Session, event: Event) -> None:
    first, second = Chat(session), Chat(session)
    first.register()
    second.send("DAFTAR")
    second.answer_until("email")
    second.send(first.email)
    assert "sudah terdaftar" in second.text() and second.state == "email"
    third = Chat(session)
    third.send("DAFTAR")
    third.answer_until("confirm", {"email": "same@example.com"})
    fourth = Chat(session)
    fourth.register({"email": "same@example.com"})
    third.send("YA")
    assert "sudah terdaftar" in third.text() and third.state == "email"
    assert len(registrations(session)) == 2


def test_nik_asked_when_the_event_requires_it(session: Session, event: Event) -> None:
    event.requires_nik = True
    session.flush()
    chat = Chat(session)
    chat.register()
    assert registrations(session)[0].participant.nik == "3171234567890001"


def test_daftar_during_a_draft_asks_to_continue_or_restart(session: Session, event: Event) -> None:
    chat = Chat(session)
    chat.send("DAFTAR")
    chat.answer_until("email")
    chat.send("DAFTAR")
    assert chat.state == "email" and chat.last[0].choices
    chat.send("1")
    assert chat.state == "email" and "email" in chat.last[-1].text
    chat.send("daftar")
    chat.send("2")
    assert chat.state == "category" and "full_name" not in chat.conversation.answers


def test_idle_draft_dropped_after_seven_days(session: Session, event: Event) -> None:
    chat = Chat(session)
    chat.send("DAFTAR")
    chat.answer_until("email")
    chat.now += timedelta(days=7, minutes=1)
    chat.send("siti@example.com")
    assert "7 hari" in chat.last[0].text and chat.state == "idle"


def test_registration_not_open_shows_dates(session: Session, event: Event) -> None:
    chat = Chat(session)
    event.registration_opens_at = chat.now + timedelta(days=3)
    session.flush()
    chat.send("DAFTAR")
    assert "belum dibuka" in chat.text()
    event.registration_opens_at = chat.now - timedelta(days=30)
    event.registration_closes_at = chat.now - timedelta(days=1)
    session.flush()
    chat.send("DAFTAR")
    assert "ditutup" in chat.text()


def test_drafts_hold_no_slot(session: Session, event: Event) -> None:
    for _ in range(3):
        chat = Chat(session)
        chat.send("DAFTAR")
        chat.answer_until("confirm")
    assert session.scalar(select(func.sum(Category.slots_taken))) == 0
    assert session.scalar(select(func.count()).select_from(Participant)) == 0


def test_status_lists_a_paid_registration_and_only_ticket_resends_its_image(
    session: Session, event: Event
) -> None:
    from core.fulfilment import paid

    chat = Chat(session)
    chat.send("TIKET")
    assert "Belum ada e-tiket" in chat.text()
    chat.register()
    [reg] = registrations(session)
    paid.mark_paid(session, registration=reg, actor="test", now=chat.now)
    chat.send("STATUS")
    assert len(chat.last) == 1 and chat.last[0].image_path is None  # never the image
    assert "Lunas" in chat.last[0].text and f"BIB: *{reg.bib}*" in chat.last[0].text
    assert "Ketik *TIKET* untuk menerima e-tiket Anda lagi" in chat.last[0].text
    chat.send("tiket")
    assert len(chat.last) == 1 and chat.last[0].image_path
    assert "kiriman ulang" in chat.last[0].text and "terverifikasi" not in chat.last[0].text


def test_status_of_a_part_paid_registration_shows_only_what_is_missing(
    session: Session, event: Event
) -> None:
    chat = Chat(session)
    chat.register()
    [reg] = registrations(session)
    reg.amount_received = reg.amount_due - 389
    reg.status = "partially_paid"
    session.flush()
    chat.send("LANGUAGE")
    chat.send("STATUS")
    assert "Still to pay: *Rp389*" in chat.text()
