"""PRIVASI, DATAKU and HAPUS DATA in the chat (both languages), on PostgreSQL (rolled back)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import utcnow
from core.enums import Channel
from core.messages import InboundMessage
from core.models import DeletionRequest, Event, Registration
from core.privacy import notice
from flows import commands
from tests.flows.chat import Chat

NIK = "3174015208900003"


def _registered(session: Session, event: Event, **overrides: str) -> Chat:
    event.requires_nik = True
    session.flush()
    chat = Chat(session)
    chat.register({"nik": NIK, "medical_notes": "asma ringan", **overrides})
    assert session.scalars(select(Registration)).one()
    return chat


def test_multiword_commands_are_recognised() -> None:
    def name(text: str) -> str | None:
        message = InboundMessage(channel=Channel.WHATSAPP, external_id="x", chat_id="62812",
                                 sender_name="", phone=None, text=text, sent_at=utcnow())  # fmt: skip
        command = commands.detect(message)
        return command.name if command else None

    assert name("HAPUS DATA") == "deletedata" and name("delete my data") == "deletedata"
    assert name("Dataku") == "mydata" and name("MY DATA") == "mydata"
    assert name("/privasi") == "privacy" and name("PRIVACY") == "privacy"
    assert name("hapus") is None and name("data saya Budi") is None


def test_daftar_mentions_privasi_and_privasi_shows_the_notice(
    session: Session, event: Event
) -> None:
    chat = Chat(session)
    chat.send("DAFTAR")
    assert "*PRIVASI*" in chat.last[0].text
    chat.send("PRIVASI")
    assert "Kebijakan privasi Jakarta Fun Run" in chat.last[0].text
    assert "90 hari setelah hari lomba" in chat.last[0].text
    assert chat.state == "category", "the draft's question is asked again after the notice"


def test_the_organisers_notice_is_shown_in_the_chats_language(
    session: Session, event: Event
) -> None:
    notice.set_notice(session, event_id=event.id, notice="Data diolah oleh PT Lari.",
                      notice_en="Data processed by PT Lari.", actor="test")  # fmt: skip
    chat = Chat(session)
    chat.send("PRIVASI")
    assert "Data diolah oleh PT Lari." in chat.text()
    chat.send("BAHASA EN")
    chat.send("PRIVACY")
    assert "Data processed by PT Lari." in chat.text() and "Privacy notice" in chat.text()


def test_dataku_sends_what_we_hold_in_the_chats_language(session: Session, event: Event) -> None:
    chat = _registered(session, event)
    chat.send("DATAKU")
    text = chat.text()
    reg = session.scalars(select(Registration)).one()
    assert reg.number in text and reg.participant.full_name in text and chat.email in text
    assert "3174••••••••0003" in text and NIK not in text, "NIK masked"
    assert "asma ringan" in text and "Catatan kesehatan" in text
    chat.send("LANGUAGE EN")
    chat.send("MYDATA")
    assert "The data we hold about you" in chat.text() and "Medical notes" in chat.text()


def test_mydata_without_a_registration(session: Session, event: Event) -> None:
    chat = Chat(session, Channel.TELEGRAM)
    chat.send("MYDATA")
    assert "We hold no registration" in chat.text() or "tidak menyimpan" in chat.text()


def test_hapus_data_is_confirmed_with_ya_and_stored_once(session: Session, event: Event) -> None:
    chat = _registered(session, event)
    chat.send("HAPUS DATA")
    assert "Balas *YA*" in chat.text()
    chat.send("TIDAK")
    assert "tidak dihapus" in chat.text()
    assert session.scalars(select(DeletionRequest)).all() == []
    chat.send("HAPUS DATA")
    chat.send("YA")
    assert "sudah kami terima" in chat.text()
    [request] = session.scalars(select(DeletionRequest)).all()
    assert request.status == "pending" and request.chat_id == chat.chat_id
    chat.send("hapus data")
    chat.send("ya")
    assert "menunggu panitia" in chat.text()
    assert len(session.scalars(select(DeletionRequest)).all()) == 1


def test_delete_my_data_in_english_mid_draft_keeps_the_draft(
    session: Session, event: Event
) -> None:
    chat = Chat(session)
    chat.send("LANGUAGE EN")
    chat.send("REGISTER")
    chat.answer_until("full_name")
    chat.send("DELETE MY DATA")
    assert "Reply *YES*" in chat.text()
    chat.send("YES")
    assert "We have received your request" in chat.last[0].text
    assert chat.state == "full_name" and len(chat.last) == 2, "then the question again"
