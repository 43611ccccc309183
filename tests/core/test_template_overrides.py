"""Organiser overrides of catalogue texts: used in replies, checked on save, safe at render time."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.terminal_chat import build_message, exchange
from core import i18n
from core.db import get_sessionmaker, utcnow
from core.enums import Channel
from core.messaging import texts
from core.models import Event, NotificationTemplate
from tests.admin.conftest import app, client_for, seeded  # noqa: F401  (admin HTTP fixtures)
from tests.flows.chat import Chat
from tests.flows.conftest import event  # noqa: F401  (the demo event in a rolled-back session)

WELCOME = "Selamat datang di {{ event_name }}, {{ name or 'kawan' }}! Ketik BATAL untuk berhenti."


@pytest.fixture(autouse=True)
def _fresh_overrides() -> Iterator[None]:
    """The override cache is process-wide: start and end every test without one."""
    i18n.set_overrides({}, loaded_at=None)
    yield
    i18n.set_overrides({}, loaded_at=None)


def _save(session: Session, key: str, body: str, language: str = "id") -> None:
    """Save as the admin does: the service, then invalidation once the transaction commits."""
    texts.set_template(session, key=key, language=language, body=body, actor="admin@test")
    i18n.invalidate_overrides()


def test_override_is_used_in_chat_replies_through_the_runtime(
    session: Session,
    event: Event,  # noqa: F811  (the imported fixture)
) -> None:
    _save(session, "flow.welcome", WELCOME)
    _save(session, "flow.menu", "Halo dari panitia! Ketik *DAFTAR* untuk mendaftar.")
    chat = Chat(session)
    assert chat.send("halo")[0].text == "Halo dari panitia! Ketik *DAFTAR* untuk mendaftar."
    chat.send("DAFTAR")
    welcome = f"Selamat datang di {event.name}, Siti! Ketik BATAL untuk berhenti."
    # The privacy line, the form offer and the first question follow it in the same message.
    assert chat.last[0].text.startswith(welcome + "\n")
    assert "*PRIVASI*" in chat.last[0].text
    english = Chat(session, Channel.TELEGRAM)
    english.send("/language", command="language", command_arg="en")
    english.send("hello")
    assert english.last[0].text == i18n.t("flow.menu", "en")  # only the Indonesian text changed


def test_removing_an_override_restores_the_catalogue_text(
    session: Session,
    event: Event,  # noqa: F811
) -> None:
    chat = Chat(session)
    _save(session, "flow.menu", "Teks sementara.")
    assert chat.send("halo")[0].text == "Teks sementara."
    _save(session, "flow.menu", "   ")
    assert session.scalar(select(NotificationTemplate)) is None
    assert chat.send("halo")[0].text == i18n.t("flow.menu", "id")
    assert "DAFTAR" in chat.last[0].text


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("Halo {{ name ", "template error on line 1"),
        ("{% if name %}Halo", "template error"),
        ("Total {{ event_name | rupee }}", "template error"),  # unknown filter
        ("Halo {{ nama }}", "unknown placeholder nama"),  # a typo of {{ name }}
    ],
)
def test_invalid_override_is_rejected_on_save(session: Session, body: str, error: str) -> None:
    with pytest.raises(texts.InvalidTemplate, match=error):
        texts.set_template(
            session, key="flow.welcome", language="id", body=body, actor="admin@test"
        )
    assert session.scalar(select(NotificationTemplate)) is None


def test_override_with_filters_and_placeholders_is_accepted() -> None:
    texts.validate("payment.confirmed", "Lunas: {{ number }}, {{ amount | rupiah }}. Terima kasih!")
    texts.validate("flow.welcome", "{% if name %}Hai {{ name | upper }}{% endif %} {{ lang }}")
    rendered = i18n.t("payment.confirmed", "id", number="JFR-5K-00001", amount=250000)
    assert "JFR-5K-00001" in rendered  # the catalogue still renders with the same parameters


@pytest.mark.parametrize(
    "body",
    ["{% if name %}Halo", "Halo {{ nama }}", "{{ lang | rupiah }}"],
    ids=["syntax", "undefined", "filter-fails"],
)
def test_broken_override_in_the_table_falls_back_to_the_catalogue(
    session: Session,
    event: Event,  # noqa: F811
    body: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Written around the check (an older release, a hand edit): replies must still go out.
    session.add(NotificationTemplate(key="flow.menu", language="id", body=body))
    session.flush()
    i18n.invalidate_overrides()
    with caplog.at_level(logging.WARNING):
        reply = Chat(session).send("halo")
    assert reply[0].text == i18n.t("flow.menu", "id")
    assert "DAFTAR" in reply[0].text
    assert any("flow.menu" in r.getMessage() for r in caplog.records)
    assert all(body not in r.getMessage() for r in caplog.records)


def test_overrides_are_read_once_per_max_age_not_per_text(session: Session) -> None:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "notification_templates" in statement:
            statements.append(statement)

    engine = session.get_bind().engine
    sa_event.listen(engine, "before_cursor_execute", count)
    try:
        now = utcnow()
        assert texts.refresh_overrides(session, now=now)
        for seconds in (1, 10, 29):
            assert not texts.refresh_overrides(session, now=now + timedelta(seconds=seconds))
            i18n.t("flow.menu", "id")
        assert len(statements) == 1
        assert texts.refresh_overrides(session, now=now + timedelta(seconds=30))
        i18n.invalidate_overrides()  # what the saving process does after its commit
        assert texts.refresh_overrides(session, now=now + timedelta(seconds=31))
        assert len(statements) == 3
    finally:
        sa_event.remove(engine, "before_cursor_execute", count)


def _post_template(client: TestClient, csrf: str, body: str) -> str:
    response = client.post(
        "/admin/settings/templates",
        data={"key": "flow.menu", "language": "id", "body": body, "csrf_token": csrf},
    )
    assert response.status_code == 200
    return response.text


def _menu_reply() -> str:
    [reply] = exchange(build_message(Channel.WHATSAPP, "6281200001111", "6281200001111", "halo"))
    return reply.text


def test_admin_form_shows_the_error_and_applies_a_valid_text_at_once(
    client_for: Callable[[str], tuple[TestClient, str]],  # noqa: F811
) -> None:
    assert "DAFTAR" in _menu_reply()  # loads (an empty set of) overrides into this process
    client, csrf = client_for("admin", lang="en")
    page = _post_template(client, csrf, "Halo {{ nama")
    assert re.search(r"Message not saved: template error on line 1", page)
    with get_sessionmaker()() as check:
        assert check.scalar(select(NotificationTemplate)) is None
    assert "Message saved" in _post_template(client, csrf, "Menu baru dari panitia.")
    assert _menu_reply() == "Menu baru dari panitia."  # no 30 s wait in the saving process
    assert "Default message restored" in _post_template(client, csrf, "")
    assert "DAFTAR" in _menu_reply()
