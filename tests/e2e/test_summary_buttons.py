"""The summary on the WhatsApp Cloud API number, through the signed webhook and the fake Graph API.

Three reply buttons (yes / edit / cancel); "edit" sends an interactive list of the answers; a
tapped row opens that answer and the summary comes back; typed words work the same.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select

from core.config import get_settings
from core.db import get_sessionmaker
from core.models import Participant
from tests.channels.helpers import wait_until
from tests.e2e.test_full_journey import say, settled
from tests.e2e.test_whatsapp_cloud_journey import CloudRunner
from tests.fakes.graph_api import FakeGraph


@pytest.fixture
def runner(
    live_server: str, fake_graph: FakeGraph, monkeypatch: pytest.MonkeyPatch
) -> Iterator[CloudRunner]:
    """A Cloud API runner with the pacing limits lifted (as in the journey test)."""
    monkeypatch.setenv("WHATSAPP_MAX_PER_SECOND", "1000")
    monkeypatch.setenv("WHATSAPP_PAIR_PER_SECOND", "1000")
    get_settings.cache_clear()
    fake_graph.pair_burst = 1000
    with httpx.Client(base_url=live_server, timeout=15) as http:
        yield CloudRunner(http, fake_graph)


def last_interactive(fake: FakeGraph, chat_id: str) -> dict:
    [last] = [s for s in fake.to(chat_id) if s.type == "interactive"][-1:]
    return last.body["interactive"]


def test_summary_buttons_then_the_list_of_answers(
    runner: CloudRunner, fake_graph: FakeGraph
) -> None:
    for text in runner.answers:
        say(runner, text)
    summary = last_interactive(fake_graph, runner.chat_id)
    assert summary["type"] == "button"
    titles = [b["reply"]["title"] for b in summary["action"]["buttons"]]
    assert titles == ["1. Ya, daftarkan", "2. Ubah data", "3. Batal"]
    assert "Biaya pendaftaran: *Rp150.000*" in summary["body"]["text"]

    runner.tap("2.")  # "Ubah data"
    wait_until(settled, what="the list of answers")
    fields = last_interactive(fake_graph, runner.chat_id)
    assert fields["type"] == "list"
    rows = fields["action"]["sections"][0]["rows"]
    assert rows[1] == {
        "id": "edit:full_name",
        "title": "2. Nama lengkap",
        "description": "Siti Aminah",
    }

    runner.tap("2.")  # the name row
    wait_until(settled, what="the name question")
    say(runner, "Siti Rahma")
    assert "Nama lengkap: *Siti Rahma*" in runner.texts()[-1]

    say(runner, "ganti ukuran jersey")  # typed words still work
    say(runner, "L")
    say(runner, "hmm")
    assert runner.texts()[-1].startswith("Balas *YA* untuk konfirmasi")  # short, no summary
    runner.confirm()
    wait_until(settled, what="confirmation")
    with get_sessionmaker()() as session:
        person = session.scalars(select(Participant)).one()
    assert (person.full_name, person.jersey_size) == ("Siti Rahma", "L")
