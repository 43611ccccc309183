"""The organiser's start links: wa.me text "DAFTAR <event-slug> <code>" and t.me /start payload
"<event-slug>_<code>" both preselect the event and category; a name is never taken for one."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.enums import Channel
from core.messages import InboundMessage
from core.models import Event
from flows import commands
from tests.flows.chat import Chat


def test_whatsapp_start_link_text_preselects_the_category(session: Session, event: Event) -> None:
    chat = Chat(session)
    chat.send(f"DAFTAR {event.slug} 21K")
    assert "21K" in chat.text() and chat.state == "full_name"


def test_telegram_start_payload_preselects_the_category(session: Session, event: Event) -> None:
    chat = Chat(session, Channel.TELEGRAM)
    chat.send(f"/start {event.slug}_10K", command="start", command_arg=f"{event.slug}_10K")
    assert "10K" in chat.text() and chat.state == "full_name"


def test_an_unknown_category_in_the_link_still_starts_the_event(
    session: Session, event: Event
) -> None:
    chat = Chat(session, Channel.TELEGRAM)
    chat.send("/start x", command="start", command_arg=f"{event.slug}_99K")
    assert chat.state == "category"  # asked, not guessed


def test_two_words_of_a_name_are_not_a_start_link() -> None:
    def detect(text: str) -> commands.Command | None:
        return commands.detect(
            InboundMessage(channel=Channel.WHATSAPP, external_id="x", chat_id="1", text=text)
        )

    assert detect("Daftar Dewi Ayu") is None
    assert detect("DAFTAR jakarta-fun-run 10K") == commands.Command("start", "jakarta-fun-run 10K")
    assert detect("daftar 5K") == commands.Command("start", "5K")
