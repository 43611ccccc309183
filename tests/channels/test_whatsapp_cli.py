"""`funrun whatsapp check` against the fake Graph API."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from app.cli import cli
from core.config import get_settings
from tests.fakes.graph_api import APP_ID, FakeGraph


@pytest.fixture
def with_app_id(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WHATSAPP_APP_ID", APP_ID)
    get_settings.cache_clear()


def test_check_prints_name_quality_tier_and_fields(
    fake_graph: FakeGraph, with_app_id: None
) -> None:
    result = CliRunner().invoke(cli, ["whatsapp", "check"])
    assert result.exit_code == 0, result.output
    assert "+62 811-0000-0000 (FunRun Jakarta)" in result.output
    assert "quality rating: GREEN" in result.output
    assert "throughput: STANDARD (80 messages/s)" in result.output
    assert "webhook fields: subscribed (messages)" in result.output


def test_check_warns_when_messages_is_not_subscribed(
    fake_graph: FakeGraph, with_app_id: None
) -> None:
    fake_graph.subscribed_fields = ["account_update"]
    fake_graph.throughput_level = "HIGH"
    result = CliRunner().invoke(cli, ["whatsapp", "check"])
    assert result.exit_code == 0, result.output
    assert "NOT subscribed to messages" in result.output and "1,000 messages/s" in result.output


def test_check_without_app_id_skips_the_fields(fake_graph: FakeGraph) -> None:
    result = CliRunner().invoke(cli, ["whatsapp", "check"])
    assert result.exit_code == 0 and "not checked (set WHATSAPP_APP_ID" in result.output


def test_a_refused_token_is_one_clear_line(fake_graph: FakeGraph) -> None:
    fake_graph.token = "other"
    result = CliRunner().invoke(cli, ["whatsapp", "check"])
    assert result.exit_code == 1
    assert "WhatsApp Cloud API: whatsapp 401 #190" in result.output
    assert "Traceback" not in result.output
