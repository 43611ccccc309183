"""Telegram buttons stay short (a phone cuts long ones); the details stay in the message text."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.enums import Channel
from core.events import questions
from core.messages import Choice, Reply
from core.models import Event
from flows import render
from tests.flows.chat import Chat

LONGEST = render.BUTTON_LABEL_MAX + len("10. ")


def _buttons(chat: Chat) -> list[str]:
    return [c.label for c in chat.last[-1].choices if not c.request_contact]


def test_category_buttons_are_code_and_price_with_details_in_the_text(
    session: Session, event: Event
) -> None:
    chat = Chat(session, Channel.TELEGRAM)
    chat.send("DAFTAR")
    buttons = _buttons(chat)
    assert buttons[0].startswith("1. 5K · Rp") and all(len(b) <= LONGEST for b in buttons)
    assert "1. 5K — " in chat.text() and "km" in chat.text()  # distance, ages, slots: in the text
    chat.send(buttons[1])  # a client that sends the button's text instead of its value
    assert chat.conversation.answers["category"] == "10K"


def test_whatsapp_keeps_the_full_numbered_lines(session: Session, event: Event) -> None:
    chat = Chat(session, Channel.WHATSAPP)
    chat.send("DAFTAR")
    assert " km" in chat.last[-1].choices[0].label  # the sender lists them in full
    assert "1. 5K" not in chat.text()


def test_long_choice_options_are_cut_on_buttons_and_listed_in_full(
    session: Session, event: Event
) -> None:
    long = "Ya, saya ikut bus antar-jemput dari Stasiun Sudirman pukul 04.30"
    data = questions.QuestionInput(
        kind="choice", label="Bus?", options_text=f"{long} | Yes, the 04:30 shuttle\nTidak | No"
    )
    question = questions.add(session, event_id=event.id, data=data, actor="test")
    chat = Chat(session, Channel.TELEGRAM)
    chat.send("DAFTAR")
    chat.answer_until(question.key)
    buttons = _buttons(chat)
    assert all(len(b) <= LONGEST for b in buttons) and buttons[0].endswith("…")
    assert f"1. {long}" in chat.text() and buttons[1] == "2. Tidak"
    chat.send("1")
    assert chat.conversation.answers[question.key]


def test_short_labels_are_left_alone_and_heads_are_used_before_cutting() -> None:
    short = Reply("Pilih", choices=(Choice("S", "s"), Choice("M — sisa 3", "m")))
    [numbered] = render.for_channel([short], "telegram")
    assert numbered.text == "Pilih" and [c.label for c in numbered.choices] == [
        "1. S",
        "2. M — sisa 3",
    ]
    field = Choice("Nama lengkap — Siti Aminah Lestari Wijaya", "edit:full_name")
    assert render.button_label(field) == "Nama lengkap"
