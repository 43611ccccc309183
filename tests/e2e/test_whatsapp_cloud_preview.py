"""`funrun chat --channel cloud` and `/simulator?as=cloud`: list and button messages as tappable rows."""

from __future__ import annotations

import io
from typing import Any

import pytest
from sqlalchemy import select

from app.terminal_chat import run_chat
from core.db import get_sessionmaker
from core.models import Conversation, Registration
from tests.channels.helpers import wait_until
from tests.e2e.test_registration_flow_simulator import _processed, sim_client  # noqa: F401

LINES = ["DAFTAR", "/tap 1", "Siti Aminah", "/tap 2", "17-08-1990", "siti.cloud@example.com",
         "YA", "M", "Budi Santoso", "081298765432", "O", "-", "/tap 1", "/keluar"]  # fmt: skip


def test_terminal_chat_as_a_cloud_api_runner_taps_rows(
    demo_event: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(LINES) + "\n"))
    run_chat(channel="cloud", phone="081211113333")
    out = capsys.readouterr().out
    assert "( 1. 5K" in out  # the three categories are reply buttons
    assert "☰ 1. S" in out or "☰ 1. XS" in out  # the jersey sizes are a list
    assert "/tap N" in out
    with get_sessionmaker()() as session:
        reg = session.scalars(select(Registration)).one()
        assert reg.channel == "whatsapp_cloud" and reg.participant.gender == "F"
        assert reg.number in out


def test_simulator_shows_and_takes_cloud_api_taps(sim_client: Any) -> None:  # noqa: F811
    page = sim_client.get("/simulator", params={"as": "cloud"}).text
    assert "const cloud = true" in page
    assert sim_client.post(
        "/simulator/send", data={"phone": "081255557777", "text": "DAFTAR"}
    ).json()["ok"]
    wait_until(_processed)

    def last_interactive() -> dict[str, Any] | None:
        items = sim_client.get("/simulator/messages", params={"phone": "081255557777"}).json()
        found = [m["interactive"] for m in items["messages"] if m.get("interactive")]
        return found[-1] if found else None

    wait_until(lambda: last_interactive() is not None)
    block = last_interactive()
    assert block["type"] == "button" and block["rows"][0]["title"].startswith("1. 5K")
    tapped = block["rows"][1]["id"]
    assert sim_client.post(
        "/simulator/send", data={"phone": "081255557777", "choice": tapped}
    ).json()["ok"]
    wait_until(_processed)
    with get_sessionmaker()() as session:
        conversation = session.scalars(select(Conversation)).one()
        assert conversation.answers.get("category") == tapped
