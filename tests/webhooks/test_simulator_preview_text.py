"""/simulator?as=telegram|cloud: the summary ends with the buttons' question, a tap shows its label."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from core.config import get_settings
from core.db import unit_of_work
from core.enums import Channel
from core.i18n import t
from core.messages import Choice, Reply
from core.messaging import outbox
from flows.render import SUMMARY_KIND
from webhooks import simulator

CHAT = "6281200001111"


@pytest.fixture
def client(committed_db: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("SIMULATOR", "1")
    get_settings.cache_clear()
    app = FastAPI()
    app.include_router(simulator.router)
    with TestClient(app) as test_client:
        yield test_client
    get_settings.cache_clear()


def _summary(language: str) -> None:
    text = "📋 *Summary*\n\nName: *Siti*\n\n" + t("flow.summary.question", language)
    choices = tuple(Choice(f"line {n}", str(n)) for n in range(1, 6))
    with unit_of_work() as uow:
        outbox.write(
            uow.session,
            channel=Channel.SIMULATOR.value,
            recipient=CHAT,
            reply=Reply(text, choices=choices, inline=True, kind=SUMMARY_KIND),
            idempotency_key=f"summary-{language}",
        )


def _messages(client: TestClient, mode: str) -> list[dict]:
    return client.get("/simulator/messages", params={"phone": CHAT, "as": mode}).json()["messages"]


@pytest.mark.parametrize("language", ["id", "en"])
def test_button_previews_end_the_summary_with_the_compact_question(
    client: TestClient, language: str
) -> None:
    _summary(language)
    for mode in ("telegram", "cloud"):
        (item,) = _messages(client, mode)
        assert item["text"].endswith(t("flow.summary.question_compact", language))
        assert t("flow.summary.question", language) not in item["text"]
        assert item["choices"][0] == t("flow.summary.confirm_short", language)
        if mode == "cloud":
            body = item["interactive"]["body"]
            assert t("flow.summary.question_compact", language) in body
            assert t("flow.summary.question", language) not in body
    (item,) = _messages(client, "whatsapp")  # a numbered list: "pick the answer" reads true
    assert item["text"].endswith(t("flow.summary.question", language))
    assert len(item["choices"]) == 5


def test_a_tapped_button_shows_its_label_in_the_runners_bubble(
    client: TestClient, broker: object
) -> None:
    sent = {"phone": CHAT, "choice": "5k", "label": "1. 5K · Rp150.000"}
    assert client.post("/simulator/send", data=sent).json()["ok"]
    assert client.post("/simulator/send", data={"phone": CHAT, "choice": "2"}).json()["ok"]
    bubbles = [m["text"] for m in _messages(client, "telegram") if m["dir"] == "in"]
    assert bubbles == ["1. 5K · Rp150.000", "2"]  # no label sent: the value, as before


def test_the_telegram_preview_shows_short_buttons_and_lists_long_lines(client: TestClient) -> None:
    long = "5K — Fun Run, 5 km — Rp150.000 — usia 10–70 th (sisa 1.998 slot)"
    choices = (Choice(long, "5K", short="5K · Rp150.000"), Choice("10K — 10 km", "10K"))
    with unit_of_work() as uow:
        outbox.write(uow.session, channel=Channel.SIMULATOR.value, recipient=CHAT,
                     reply=Reply("Pilih kategori:", choices=choices), idempotency_key="cats")  # fmt: skip
    (telegram,) = _messages(client, "telegram")
    assert telegram["choices"] == ["5K · Rp150.000", "10K"]
    assert telegram["text"] == f"Pilih kategori:\n\n1. {long}\n2. 10K — 10 km"
    (whatsapp,) = _messages(client, "whatsapp")  # numbered by the page, in full
    assert whatsapp["choices"] == [long, "10K — 10 km"] and whatsapp["text"] == "Pilih kategori:"
