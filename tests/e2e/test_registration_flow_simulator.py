"""The /simulator page: same path as a webhook, real worker, replies read back from the outbox."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from app.main import create_app
from core.config import get_settings
from core.db import get_sessionmaker
from core.enums import Channel, RegistrationStatus
from core.models import InboundUpdate, Registration
from tests.answers import answers_for
from tests.channels.helpers import count, wait_until

PHONE = "081255556666"
# The first name is refused (markup is not a name), then given properly.
ANSWERS = ["DAFTAR", *answers_for(Channel.SIMULATOR, category="2",
                                  full_name=["Siti <b>Aminah</b>", "Siti Aminah"],
                                  email="siti.sim@example.com", phone="1", blood_type="AB"),
           "1"]  # fmt: skip


@pytest.fixture
def sim_client(
    worker: Any, demo_event: int, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    monkeypatch.setenv("SIMULATOR", "1")
    monkeypatch.setenv("FLOOD_MAX_MESSAGES", "1000")
    get_settings.cache_clear()
    with TestClient(create_app()) as client:
        yield client
    get_settings.cache_clear()


def _processed() -> bool:
    return count(InboundUpdate, InboundUpdate.processed_at.is_(None)) == 0


def _send(client: TestClient, text: str = "", image: bytes | None = None) -> None:
    files = {"image": ("bukti.png", image, "image/png")} if image else None
    response = client.post("/simulator/send", data={"phone": PHONE, "text": text}, files=files)
    assert response.status_code == 200
    wait_until(_processed, what="simulator message processed")


def test_simulator_registers_and_takes_a_payment_photo(sim_client: TestClient) -> None:
    page = sim_client.get("/simulator", params={"phone": PHONE})
    assert page.status_code == 200 and "6281255556666" in page.text
    assert "http://" not in page.text and "https://" not in page.text  # no external assets
    for text in ANSWERS:
        _send(sim_client, text)
    with get_sessionmaker()() as session:
        reg = session.scalars(select(Registration)).one()
        assert reg.channel == "simulator" and reg.participant.phone == "+6281255556666"
    shown = sim_client.get("/simulator/messages", params={"phone": PHONE}).json()["messages"]
    assert any(m["text"].startswith("Halo! 👋") for m in shown)  # no fake "Halo Simulator!"
    assert not any("Simulator" in m["text"] for m in shown if m["dir"] == "out")
    buffer = io.BytesIO()
    Image.new("RGB", (300, 500), (10, 120, 200)).save(buffer, "PNG")
    _send(sim_client, "", buffer.getvalue())
    with get_sessionmaker()() as session:
        assert (
            session.get(Registration, reg.id).status
            == RegistrationStatus.AWAITING_VERIFICATION.value
        )  # type: ignore[union-attr]
    data = sim_client.get("/simulator/messages", params={"phone": PHONE}).json()["messages"]
    texts = [m["text"] for m in data if m["dir"] == "out"]
    assert any(reg.number in text for text in texts)
    assert any("Nama hanya boleh" in text for text in texts)  # "<b>" refused as a name
    assert any(m["dir"] == "in" and m["image"] for m in data)
    category = next(m for m in data if m["dir"] == "out" and m.get("choices"))
    assert category["choices"][0].startswith("5K")


def test_simulator_is_404_when_disabled(
    committed_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIMULATOR", "0")
    get_settings.cache_clear()
    with TestClient(create_app()) as client:
        assert client.get("/simulator").status_code == 404
        assert client.post("/simulator/send", data={"text": "x"}).status_code == 404
        assert client.get("/simulator/messages").status_code == 404
    get_settings.cache_clear()
