"""Changes after registration in the chat: UBAH JERSEY, GANTI KATEGORI, ALIHKAN, BATALKAN, in both
languages, the pick among several registrations, the cut-off and the freeze."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.enums import Channel, RegistrationStatus
from core.fulfilment import paid
from core.models import Category, Event, OutboundMessage, Registration
from tests.flows.chat import Chat

NEW_RUNNER = (
    "Budi Santoso\nL\n17-08-1990\nbudi.transfer@example.com\n081299887766\nAni\n081311112222"
)


def _registered(
    session: Session, event: Event, chat: Chat, *, pay: bool = False, email: str | None = None
) -> Registration:
    event.changes_until = chat.now + timedelta(days=3)
    chat.register({"email": email} if email else None)
    reg = session.scalars(
        select(Registration).where(Registration.chat_id == chat.chat_id).order_by(Registration.id)
    ).all()[-1]
    if pay:
        paid.mark_paid(session, registration=reg, actor="t", now=chat.now)
    return reg


def test_ubah_jersey_with_the_size_in_the_command(session: Session, event: Event) -> None:
    chat = Chat(session)
    reg = _registered(session, event, chat)
    chat.send("UBAH JERSEY XL")
    assert "menjadi *XL*" in chat.text()
    assert reg.participant.jersey_size == "XL"


def test_change_jersey_in_english_asks_for_the_size(session: Session, event: Event) -> None:
    chat = Chat(session, Channel.TELEGRAM)
    reg = _registered(session, event, chat, pay=True)
    chat.send("BAHASA EN")
    chat.send("CHANGE JERSEY")
    assert "New jersey size" in chat.text() and "XL" in chat.text()
    chat.send("l")
    assert "changed from M to *L*" in chat.text()
    assert reg.participant.jersey_size == "L"
    assert any(r.kind == "ticket" for r in chat.last)  # the ticket again, with the new size


def test_several_registrations_are_picked_by_number(session: Session, event: Event) -> None:
    chat = Chat(session)
    first = _registered(session, event, chat)
    second = _registered(session, event, chat, email="second.runner@example.com")
    chat.send("GANTI JERSEY")
    assert f"1. {first.number}" in chat.text() and f"2. {second.number}" in chat.text()
    chat.send("2")
    chat.send("S")
    assert (first.participant.jersey_size, second.participant.jersey_size) == ("M", "S")


def test_ganti_kategori_owes_the_difference_with_a_new_code(session: Session, event: Event) -> None:
    chat = Chat(session)
    reg = _registered(session, event, chat, pay=True)
    chat.send("GANTI KATEGORI")
    assert "21K" in chat.text() and "10K —" not in chat.text()
    chat.send("21K")
    assert "dipindah ke kategori *Half Marathon 21K*" in chat.text()
    assert "Selisih yang harus dibayar: *Rp150." in chat.text()
    assert "Silakan transfer *tepat Rp150." in chat.text() and "1234567890" in chat.text()
    assert reg.status == RegistrationStatus.PARTIALLY_PAID.value


def test_alihkan_asks_the_new_runner_and_confirms(session: Session, event: Event) -> None:
    chat = Chat(session)
    reg = _registered(session, event, chat, pay=True)
    old_token = reg.ticket_token
    chat.send("ALIHKAN")
    assert "Nama lengkap" in chat.text()
    chat.send("Budi\nL")
    assert "Kirim tepat 7 baris" in chat.text()
    chat.send(NEW_RUNNER.replace("17-08-1990", "31-02-1990"))
    assert "tidak valid" in chat.text()
    chat.send(NEW_RUNNER)
    assert "ke *Budi Santoso*?" in chat.text()
    chat.send("TIDAK")
    assert "tidak ada yang diubah" in chat.text() and reg.ticket_token == old_token
    chat.send("ALIHKAN")
    chat.send(NEW_RUNNER)
    chat.send("YA")
    assert "sudah dialihkan ke *Budi Santoso*" in chat.text()
    assert reg.participant.full_name == "Budi Santoso" and reg.ticket_token != old_token
    assert reg.chat_id == "6281299887766"  # WhatsApp: the registration moved to the new number
    told = session.scalars(
        select(OutboundMessage).where(OutboundMessage.recipient == "6281299887766")
    ).all()
    assert any("atas nama Anda" in m.text for m in told)


def test_a_one_line_answer_to_transfer_leaves_the_change(session: Session, event: Event) -> None:
    chat = Chat(session)
    reg = _registered(session, event, chat)
    chat.send("TRANSFER")  # a runner may mean "I paid by transfer"
    assert "Nama lengkap" in chat.text()
    chat.send("sudah saya transfer")
    assert "Nama lengkap" not in chat.text() and "_change" not in chat.conversation.answers
    assert reg.participant.full_name != "sudah saya transfer"


def test_batalkan_shows_the_refund_rule_and_needs_ya(session: Session, event: Event) -> None:
    chat = Chat(session)
    event.refund_rule = "Tidak ada pengembalian dana setelah 1 Mei."
    reg = _registered(session, event, chat)
    ten = session.scalars(select(Category).where(Category.id == reg.category_id)).one()
    taken = ten.slots_taken
    chat.send("BATALKAN")
    assert "Tidak ada pengembalian dana" in chat.text()
    chat.send("TIDAK")
    assert reg.status == RegistrationStatus.PENDING_PAYMENT.value
    chat.send("BATALKAN PENDAFTARAN")
    chat.send("YA")
    assert "sudah dibatalkan" in chat.text()
    assert reg.status == RegistrationStatus.CANCELLED.value and ten.slots_taken == taken - 1


def test_after_the_cut_off_and_under_the_freeze_changes_are_refused(
    session: Session, event: Event
) -> None:
    chat = Chat(session)
    reg = _registered(session, event, chat)
    event.data_frozen = True
    chat.send("UBAH JERSEY XL")
    assert "sudah dikunci" in chat.text() and reg.participant.jersey_size == "M"
    event.changes_until = chat.now
    chat.send("UBAH JERSEY XL")
    assert "sudah ditutup" in chat.text()
