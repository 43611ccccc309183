"""STOP and START in the chat: leave and rejoin broadcasts, in both languages, on both channels."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.enums import Channel
from core.messaging import broadcasts
from core.models import Event
from tests.flows.chat import Chat


def _stopped(chat: Chat) -> bool:
    return broadcasts.is_opted_out(chat.session, channel=chat.channel.value, chat_id=chat.chat_id)


def test_stop_then_start_on_whatsapp_in_indonesian(session: Session, event: Event) -> None:
    chat = Chat(session)
    chat.send("STOP")
    assert "tidak akan menerima pengumuman" in chat.text() and _stopped(chat)
    chat.send("stop")
    assert "sudah berhenti" in chat.text()
    chat.send("START")
    assert "menerima pengumuman lagi" in chat.text() and not _stopped(chat)
    chat.send("START")  # no longer opted out: START is the English "register" again
    assert chat.state == "category"


def test_stop_mid_draft_keeps_the_draft_and_asks_again(session: Session, event: Event) -> None:
    chat = Chat(session, Channel.TELEGRAM)
    chat.send("/start")
    chat.send("Bahasa")
    chat.send("/stop")
    assert "you will not receive announcements" in chat.last[0].text
    assert chat.state == "category" and "category" in chat.last[-1].text  # the question again
    chat.send("subscribe")
    assert "receive announcements again" in chat.last[0].text and not _stopped(chat)


def test_start_with_an_event_code_still_registers(session: Session, event: Event) -> None:
    chat = Chat(session, Channel.TELEGRAM)
    chat.send("/stop")
    chat.send("BERHENTI")
    assert "sudah berhenti" in chat.text()
    chat.send("DAFTAR")  # registering is not rejoining: only START (or LANGGANAN) is
    assert chat.state == "category" and _stopped(chat)
