"""`funrun chat`: the terminal drives the real engine through the inbox, as a webhook would."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from app.terminal_chat import run_chat
from core.db import get_sessionmaker
from core.models import InboundUpdate, Registration
from tests.answers import answers_for

LINES = ["DAFTAR", *answers_for("whatsapp", email="siti.term@example.com"), "YA", "/keluar"]


@pytest.mark.parametrize("channel", ["whatsapp", "telegram"])
def test_terminal_chat_registers(
    demo_event: int,
    channel: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    lines = list(LINES)
    if channel == "telegram":
        lines[6] = "081377778888"  # Telegram asks for the number
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    run_chat(channel=channel, phone="081211112222")
    out = capsys.readouterr().out
    assert "Halo! 👋" in out and "Terminal" not in out.split("Halo", 1)[1][:20]  # no fake name
    if channel == "telegram":
        assert "[1. 5K · Rp" in out  # short buttons with the numbers the corrections mention
    with get_sessionmaker()() as session:
        reg = session.scalars(select(Registration)).one()
        assert reg.channel == channel and reg.number in out
        assert all(u.processed_at for u in session.scalars(select(InboundUpdate)))


def _queue_proactive(chat_id: str, text: str) -> None:
    from core.db import unit_of_work
    from core.messages import Reply
    from core.messaging import outbox

    with unit_of_work() as uow:
        outbox.write(
            uow.session,
            channel="whatsapp",
            recipient=chat_id,
            reply=Reply(text, kind="payment"),
            idempotency_key=f"test-proactive-{text}",
        )


def test_terminal_chat_shows_proactive_messages_of_its_chat(
    demo_event: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import threading
    import time

    from app import terminal_chat
    from core.enums import Channel, OutboundStatus
    from core.models import OutboundMessage

    _queue_proactive("6281211112222", "Pembayaran JFR-10K-00001 sudah kami terima ✅")
    _queue_proactive("6289999999999", "for another chat")
    monkeypatch.setattr("sys.stdin", io.StringIO("/keluar\n"))
    run_chat(channel="whatsapp", phone="081211112222")
    out = capsys.readouterr().out
    assert "bot ▸ Pembayaran JFR-10K-00001 sudah kami terima" in out
    assert "another chat" not in out

    # While the chat runs: the poller prints what arrives, once.
    monkeypatch.setattr(terminal_chat, "POLL_SECONDS", 0.05)
    stop = threading.Event()
    poller = threading.Thread(
        target=terminal_chat._poll, args=(Channel.WHATSAPP, "6281211112222", stop)
    )
    poller.start()
    _queue_proactive("6281211112222", "🎉 E-tiket Anda")
    time.sleep(0.5)
    stop.set()
    poller.join()
    assert capsys.readouterr().out.count("E-tiket Anda") == 1
    with get_sessionmaker()() as session:
        rows = session.scalars(select(OutboundMessage)).all()
        sent = {r.text: r.status for r in rows}
    assert sent["🎉 E-tiket Anda"] == OutboundStatus.SENT.value
    assert sent["for another chat"] == OutboundStatus.PENDING.value


def test_terminal_words_follow_the_chat_language_and_replies_are_outbox_rows(
    demo_event: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from core.enums import OutboundStatus
    from core.models import OutboundMessage

    monkeypatch.setattr("sys.stdin", io.StringIO("DAFTAR\nLANGUAGE\n/photo /nonexistent.png\n"))
    run_chat(channel="whatsapp", phone="081211114444")
    out = capsys.readouterr().out
    before, _, after = out.partition("Sure, I'll continue in English")
    assert "Ketik DAFTAR untuk mulai" in before and "anda ▸" in before
    assert "you ▸" in after and "(file not found)" in after and "anda ▸" not in after
    with get_sessionmaker()() as session:
        rows = session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)).all()
    # The bot's replies are stored as on every channel (the admin's conversation view shows them),
    # already delivered: no worker sends them to Fonnte.
    assert rows and all(r.status == OutboundStatus.SENT.value for r in rows)
    assert all(r.recipient == "6281211114444" and r.conversation_id for r in rows)
    assert any("English" in r.text for r in rows)
