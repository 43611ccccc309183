"""flows.inbound.apply: the conversation's own rules before the engine, on the path every door takes."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy
from sqlalchemy.orm import Session

from core.config import get_settings
from core.db import get_engine
from core.i18n import t
from core.messages import CALLBACK_ANSWER, Attachment
from core.models import AuditLog, Event
from flows import inbound
from tests.flows.chat import Chat


def test_a_flooding_chat_is_warned_once_then_ignored_until_quiet(
    session: Session, event: Event
) -> None:
    chat = Chat(session)
    limit = get_settings().flood_max_messages
    burst = chat.now
    for _ in range(limit):
        chat.now = burst  # all within one flood window
        chat.send("halo")
        assert chat.error is None
    chat.now = burst
    assert [r.text for r in chat.send("halo")] == [t("channels.slow_down", "id")]
    assert chat.error == "flood"
    chat.now = burst
    assert chat.send("halo") == [] and chat.error == "flood"  # muted, not answered
    chat.now = burst + 2 * timedelta(seconds=get_settings().flood_window_seconds)
    assert chat.send("DAFTAR") and chat.error is None and chat.state != "idle"
    assert session.query(AuditLog).filter_by(action="conversation.flood_muted").count() == 1


def test_refused_downloads_and_unreadable_kinds_are_answered_without_the_engine(
    session: Session, event: Event
) -> None:
    chat = Chat(session)
    chat.send("DAFTAR")
    state = chat.state
    big = Attachment(kind="photo", ref="x", error="too_large")
    assert "MB" in chat.send(None, attachments=(big,))[0].text and chat.error == "too_large"
    broken = Attachment(kind="photo", ref="x", error="download_failed")
    chat.send(None, attachments=(broken,))
    assert chat.error == "download_failed"
    assert chat.text() == t("channels.image_download_failed", "id")
    chat.send(None, unsupported="sticker")
    assert chat.error == "unsupported:sticker" and chat.text() == t("channels.unsupported", "id")
    chat.send(None, unsupported="document")
    assert chat.text() == t("channels.not_an_image", "id")
    assert chat.state == state  # the draft did not move


def test_a_tapped_button_is_acknowledged_before_the_replies(session: Session, event: Event) -> None:
    chat = Chat(session)
    chat.send("DAFTAR")
    message = chat.message(None, choice="1", callback_id="cbq-1")
    applied = inbound.apply(session, chat.conversation, message, received_at=chat.now, now=chat.now)
    assert applied.callback_id == "cbq-1" and applied.replies
    rows = inbound.queue(session, chat.conversation, applied, update_id=424242)
    assert rows[0].kind == CALLBACK_ANSWER and rows[0].extra["callback_id"] == "cbq-1"
    assert rows[0].idempotency_key == "cb:424242"
    assert [r.text for r in rows[1:]] == [r.text for r in applied.replies]


def test_each_message_writes_the_conversation_row_once(session: Session, event: Event) -> None:
    chat = Chat(session)
    chat.send("DAFTAR")  # the first message also fills in the chat's name and number
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.startswith("UPDATE conversations"):
            statements.append(statement)

    engine = get_engine()
    sqlalchemy.event.listen(engine, "before_cursor_execute", seen)
    try:
        burst = chat.now
        for answer in ("Siti Aminah", "halo"):
            before = chat.conversation.flood_count
            chat.now = burst  # within one flood window
            chat.send(answer)
            assert len(statements) == 1, statements
            assert "flood_count" in statements[0]
            session.expire_all()
            assert chat.conversation.flood_count == before + 1  # the counter still counts
            assert chat.conversation.last_activity_at == burst
            statements.clear()
    finally:
        sqlalchemy.event.remove(engine, "before_cursor_execute", seen)
    assert chat.state != "idle"
