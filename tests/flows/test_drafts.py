"""Idle drafts: reminded once after 24 h, dropped after 7 days, the runner told on the next message."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from core.models import Event
from flows import drafts
from tests.flows.chat import Chat


def test_idle_draft_reminded_once_then_dropped(session: Session, event: Event) -> None:
    chat = Chat(session)
    chat.send("DAFTAR")
    chat.answer_until("email")
    start = chat.now
    assert drafts.sweep_idle(session, now=start + timedelta(hours=23)) == []
    [row] = drafts.sweep_idle(session, now=start + timedelta(hours=25))
    assert "belum selesai" in row.text and row.recipient == chat.chat_id
    assert drafts.sweep_idle(session, now=start + timedelta(hours=30)) == []  # only once
    assert chat.state == "email"  # a reminder keeps every answer
    drafts.sweep_idle(session, now=start + timedelta(days=7, hours=1))
    assert chat.state == "idle"
    chat.now = start + timedelta(days=8)
    chat.send("halo")
    assert "7 hari" in chat.last[0].text and "DAFTAR" in chat.last[-1].text
    chat.send("halo")
    assert "7 hari" not in chat.text()  # told once


def test_answering_resets_the_reminder(session: Session, event: Event) -> None:
    chat = Chat(session)
    chat.send("DAFTAR")
    start = chat.now
    assert len(drafts.sweep_idle(session, now=start + timedelta(hours=25))) == 1
    chat.now = start + timedelta(hours=26)
    chat.send("5K")
    assert len(drafts.sweep_idle(session, now=start + timedelta(hours=51))) == 1


def test_reminded_drafts_never_crowd_out_new_ones(session: Session, event: Event) -> None:
    limit = 3
    old = [Chat(session) for _ in range(limit + 1)]  # more reminded drafts than one sweep takes
    for chat in old:
        chat.send("DAFTAR")
    start = max(chat.now for chat in old)
    first = drafts.sweep_idle(session, now=start + timedelta(hours=25), limit=limit)
    second = drafts.sweep_idle(session, now=start + timedelta(hours=25), limit=limit)
    assert len(first) == limit and len(second) == 1  # the rest follow in the next sweep
    newcomer = Chat(session)
    newcomer.now = start + timedelta(hours=26)
    newcomer.send("DAFTAR")
    [row] = drafts.sweep_idle(session, now=newcomer.now + timedelta(hours=25), limit=limit)
    assert row.recipient == newcomer.chat_id  # not starved by the reminded drafts before it
    # Dropping is a pass of its own: every old draft goes after 7 days, reminded or not.
    drafts.sweep_idle(session, now=start + timedelta(days=7, hours=1), limit=limit)
    drafts.sweep_idle(session, now=start + timedelta(days=7, hours=1), limit=limit)
    assert all(chat.state == "idle" for chat in old) and newcomer.state == "category"
