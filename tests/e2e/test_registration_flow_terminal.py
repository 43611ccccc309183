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
        assert "[1. 5K — " in out  # the buttons show the numbers the corrections mention
    with get_sessionmaker()() as session:
        reg = session.scalars(select(Registration)).one()
        assert reg.channel == channel and reg.number in out
        assert all(u.processed_at for u in session.scalars(select(InboundUpdate)))
