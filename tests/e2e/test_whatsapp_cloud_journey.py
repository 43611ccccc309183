"""The whole journey through the official WhatsApp Cloud API number, end to end.

Registration (tapping list rows and reply buttons, or typing numbers) -> transfer screenshot (a
media id fetched with the bearer token) -> approval in the admin -> the e-ticket uploaded once and
sent by media id -> check-in. Real app on loopback, PostgreSQL, Redis + worker, fake Graph API.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from core.config import get_settings
from core.db import get_sessionmaker
from core.enums import OutboundStatus, RegistrationStatus
from core.models import Conversation, OutboundMessage
from tests.channels.helpers import count, wa_post, wait_until
from tests.e2e.test_full_journey import (
    approve_in_admin,
    check_in,
    only_registration,
    pay,
    receive_ticket,
    register,
    say,
    settled,
)
from tests.fakes.graph_api import FakeGraph, image_message, inbound, reply_message, text_message


class CloudRunner:
    """A runner writing to the Cloud API number: signed webhooks in, Graph API sends recorded."""

    answers = ["DAFTAR", "5K", "Siti Aminah", "P", "17-08-1990", "siti.wa@example.com",
               "YA", "M", "Budi Santoso", "081298765432", "O", "-"]  # fmt: skip

    def __init__(self, http: httpx.Client, fake: FakeGraph) -> None:
        self.http, self.fake, self.chat_id = http, fake, "6281244446666"
        self._ids = itertools.count(1)

    def _post(self, message: dict[str, Any]) -> None:
        r = wa_post(self.http, inbound(message, names={self.chat_id: "Siti"}))
        assert r.status_code == 200, r.text

    def _wamid(self) -> str:
        return f"wamid.HBgNNjI4MTI0NDQ0NjY2NhU{next(self._ids):06d}"

    def say(self, text: str) -> None:
        self._post(text_message(self._wamid(), self.chat_id, text))

    def options(self) -> list[tuple[str, str]]:
        """(id, title) of the rows or buttons of the last interactive message."""
        [last] = [s for s in self.fake.to(self.chat_id) if s.type == "interactive"][-1:]
        block = last.body["interactive"]
        if block["type"] == "list":
            options = [(r["id"], r["title"]) for r in block["action"]["sections"][0]["rows"]]
        else:
            options = [(b["reply"]["id"], b["reply"]["title"]) for b in block["action"]["buttons"]]
        return options

    def tap(self, title_prefix: str) -> None:
        """Tap the row or button of the last interactive message whose title starts so."""
        [(option_id, title)] = [o for o in self.options() if o[1].startswith(title_prefix)][:1]
        self._post(reply_message(self._wamid(), self.chat_id, option_id, title))

    def confirm(self) -> None:
        self.tap("1.")  # the summary's first reply button: "1. Ya, daftarkan"

    def send_photo(self, jpeg: bytes) -> None:
        media_id = self.fake.add_media(jpeg)  # GET /{media-id} + bearer download on the fake
        self._post(image_message(self._wamid(), self.chat_id, media_id))

    def texts(self) -> list[str]:
        return [s.text for s in self.fake.to(self.chat_id)]

    def photos(self) -> list[bytes]:
        return [
            self.fake.uploads[s.body["image"]["id"]]
            for s in self.fake.to(self.chat_id)
            if s.type == "image"
        ]


@pytest.fixture
def cloud_runner(
    live_server: str, fake_graph: FakeGraph, monkeypatch: pytest.MonkeyPatch
) -> Iterator[CloudRunner]:
    monkeypatch.setenv("WHATSAPP_MAX_PER_SECOND", "1000")
    monkeypatch.setenv("WHATSAPP_PAIR_PER_SECOND", "1000")
    get_settings.cache_clear()
    fake_graph.pair_burst = 1000
    with httpx.Client(base_url=live_server, timeout=15) as http:
        yield CloudRunner(http, fake_graph)


def test_register_by_taps_pay_approve_ticket_and_check_in(
    cloud_runner: CloudRunner, live_server: str, fake_graph: FakeGraph
) -> None:
    runner = cloud_runner
    reg = register(runner)
    sent = fake_graph.to(runner.chat_id)
    kinds = {s.body["interactive"]["type"] for s in sent if s.type == "interactive"}
    assert kinds == {"list", "button"}  # categories / sizes as lists, gender / summary as buttons
    with get_sessionmaker()() as session:
        conversation = session.query(Conversation).one()
        assert (conversation.channel, conversation.phone) == ("whatsapp_cloud", runner.chat_id)
    pay(runner, reg)

    approve_in_admin(live_server)
    token = receive_ticket(runner)
    paid = only_registration()
    assert paid.status == RegistrationStatus.PAID.value and paid.bib and token == paid.ticket_token
    assert len(fake_graph.uploads) >= 1 and runner.photos().count(runner.photos()[0]) == 1

    first, second = check_in(live_server, token)
    assert first["outcome"] == "ok" and second["outcome"] == "already"
    say(runner, "STATUS")
    assert any(reg.number in t and "Lunas" in t for t in runner.texts()[-3:])
    assert count(OutboundMessage, OutboundMessage.status == OutboundStatus.FAILED.value) == 0
    wait_until(lambda: all(s.id.startswith("wamid.") for s in fake_graph.to(runner.chat_id)))


def test_a_tapped_list_row_picks_its_option(cloud_runner: CloudRunner) -> None:
    runner = cloud_runner
    say(runner, "DAFTAR")
    second_id, _ = runner.options()[1]
    runner.tap("2.")  # the second category row; its id is the category's value
    wait_until(settled, what="the tapped row")
    with get_sessionmaker()() as session:
        answers = session.query(Conversation).one().answers
    assert answers.get("category") == second_id
