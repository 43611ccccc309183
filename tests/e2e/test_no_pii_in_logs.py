"""No personal data and no secrets in logs, with every logger at DEBUG.

A runner registers over the real webhook (uvicorn), the worker answers through the fake provider, the
runner sends a transfer screenshot, an organiser approves it in the admin and the e-ticket goes
out; on WhatsApp the runner then reads PRIVASI and DATAKU and asks HAPUS DATA, an admin honours it
and the retention job runs. Every log record of that journey is searched for the runner's data, their message texts, the
webhook path secret and the bot token.
"""

from __future__ import annotations

import io
import itertools
import logging
import traceback
import uuid
from collections.abc import Iterator
from contextlib import closing
from datetime import date
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from PIL import Image
from sqlalchemy import select, update

from app.cli import UVICORN_LOGGING
from core.config import get_settings
from core.db import get_sessionmaker, unit_of_work
from core.enums import OutboundStatus, RegistrationStatus, Role
from core.logging import DATA_LOGGERS, configure_logging, secret_values
from core.models import (
    DeletionRequest,
    Event,
    InboundUpdate,
    OutboundMessage,
    Payment,
    Registration,
)
from core.staff import accounts
from tests.answers import answers_for
from tests.channels.helpers import count, fixture, fonnte_path, tg_headers, tg_text, wait_until
from tests.e2e.conftest import staff_login
from tests.fakes.server import serve
from workers import privacy as privacy_jobs

PASSWORD = "no-pii-staff-password"
NAME, FIRST = "Larasati Wulandari", "Larasati"
EMAIL = "larasati.wulandari@example.com"
NIK = "3174015208900003"
EMERGENCY, EMERGENCY_PHONE = "Bambang Sutrisno", "081355554444"
NOTES = "alergi kacang tanah"
WA_PHONE = "6281277778888"
TG_PHONE = "0812 6666 5555"
TG_CHAT = 551234987


@pytest.fixture(autouse=True)
def _debug_level(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The app is built as with LOG_LEVEL=DEBUG (set before live_server creates it).

    The root logger is put back afterwards, so later tests do not render DEBUG records.
    """
    root = logging.getLogger()
    level, handlers = root.level, root.handlers[:]
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    get_settings.cache_clear()
    yield
    root.setLevel(level)
    root.handlers[:] = handlers


@pytest.fixture
def all_logs(
    live_server: str, caplog: pytest.LogCaptureFixture
) -> Iterator[pytest.LogCaptureFixture]:
    """Every logger at DEBUG into caplog, those that do not propagate included.

    Only the loggers that print database rows stay pinned (core.logging.DATA_LOGGERS): SQL echo
    is a developer tool. URL loggers (httpx, uvicorn.access) are forced on to prove redaction.
    """
    caplog.set_level(logging.DEBUG)
    root = logging.getLogger()
    if caplog.handler not in root.handlers:
        root.addHandler(caplog.handler)  # create_app() replaced the root handlers
    saved: list[tuple[logging.Logger, int]] = []
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if not isinstance(logger, logging.Logger) or name.startswith(DATA_LOGGERS):
            continue
        saved.append((logger, logger.level))
        logger.setLevel(logging.DEBUG)
        if not logger.propagate:
            logger.addHandler(caplog.handler)
    yield caplog  # read caplog.records at the end: pytest starts a new list per test phase
    for logger, level in saved:
        logger.setLevel(level)
        if caplog.handler in logger.handlers and logger is not root:
            logger.removeHandler(caplog.handler)


def _record_text(record: logging.LogRecord) -> str:
    parts = [record.getMessage(), repr(record.args), repr(record.__dict__)]
    if record.exc_info and record.exc_info[1] is not None:
        parts.append("".join(traceback.format_exception(record.exc_info[1])))
    return "\n".join(parts)


def _assert_clean(records: list[logging.LogRecord], needles: list[str]) -> None:
    assert len(records) > 20, "the capture saw (almost) nothing: the check would be vacuous"
    leaks = [
        f"{needle!r} in {record.name}: {record.getMessage()[:200]}"
        for record in records
        for needle in needles
        if needle and needle in _record_text(record)
    ]
    assert not leaks, "\n".join(leaks[:20])
    redacted = [r.getMessage() for r in records if r.name in ("uvicorn.access", "httpx")]
    assert any("***" in message for message in redacted)  # URL loggers were on, and redacted


def _settled() -> bool:
    busy = (OutboundStatus.PENDING.value, OutboundStatus.SENDING.value)
    return (
        count(InboundUpdate, InboundUpdate.processed_at.is_(None)) == 0
        and count(OutboundMessage, OutboundMessage.status.in_(busy)) == 0
    )


def _screenshot() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (480, 800), (40, 110, 200)).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def _answers(phone_answer: str) -> list[str]:
    """The flow order of flows/registration.py for the demo event with NIK required."""
    questions = answers_for("whatsapp", also=("nik",), full_name=NAME, date_of_birth="12-08-1990",
                            email=EMAIL, phone=phone_answer, nik=NIK, emergency_name=EMERGENCY,
                            emergency_phone=EMERGENCY_PHONE, medical_notes=NOTES)  # fmt: skip
    return ["DAFTAR", *questions, "YA"]


class WhatsApp:
    """The runner behind Fonnte: webhook posts (secret in the path) and /send requests."""

    def __init__(self, http: httpx.Client, fake: Any) -> None:
        self.http, self.fake, self.ids = http, fake, itertools.count(610000)

    def post(self, body: dict[str, Any]) -> None:
        body.update(sender=WA_PHONE, name=NAME, inboxid=next(self.ids))  # their WhatsApp name
        assert self.http.post(fonnte_path(), json=body).status_code == 200

    def say(self, text: str) -> None:
        self.post(fixture("fonnte", "text", message=text))

    def photo(self) -> None:
        url = self.fake.add_media(f"{uuid.uuid4().hex}.jpg", _screenshot())
        self.post(fixture("fonnte", "image", url=url))

    def got_ticket(self) -> bool:
        return any(s.file for s in self.fake.sent(WA_PHONE))


class Telegram:
    """The runner in Telegram: updates with their name in ``from``; replies in the fake Bot API."""

    def __init__(self, http: httpx.Client, fake: Any) -> None:
        self.http, self.fake, self.ids = http, fake, itertools.count(920000)

    def post(self, update: dict[str, Any]) -> None:
        message = update["message"]
        message["from"].update(first_name=FIRST, last_name="Wulandari", username="larasati_w")
        message["chat"].update(first_name=FIRST, last_name="Wulandari")
        r = self.http.post("/webhooks/telegram", json=update, headers=tg_headers())
        assert r.status_code == 200

    def say(self, text: str) -> None:
        self.post(tg_text(next(self.ids), text, chat_id=TG_CHAT))

    def photo(self) -> None:
        file_id = f"AgAC-{uuid.uuid4().hex[:12]}"
        self.fake.add_file(file_id, _screenshot())
        update = tg_text(next(self.ids), "", chat_id=TG_CHAT)
        del update["message"]["text"]
        size = {"file_id": file_id, "file_unique_id": f"u{file_id}", "width": 480, "height": 800}
        update["message"]["photo"] = [size]
        self.post(update)

    def got_ticket(self) -> bool:
        return bool(self.fake.sent_photos(TG_CHAT))


def _require_nik() -> None:
    with unit_of_work() as uow:
        uow.session.execute(update(Event).values(requires_nik=True))


def _approve(base_url: str) -> None:
    with unit_of_work() as uow:
        accounts.create(uow.session, email="verifier@example.com", password=PASSWORD,
                     role=Role.VERIFIER, name="Verifier")  # fmt: skip
    with get_sessionmaker()() as session:
        payment_id = session.scalars(select(Payment.id)).one()
    client, csrf = staff_login(base_url, "verifier@example.com", PASSWORD)
    with closing(client):
        r = client.post(
            f"/admin/payments/{payment_id}/approve",
            headers={"accept": "application/json", "x-csrf-token": csrf},
        )
        assert r.status_code == 200 and r.json()["changed"] is True, r.text


def _journey(runner: WhatsApp | Telegram, phone_answer: str, base_url: str) -> None:
    _require_nik()
    for text in _answers(phone_answer):
        runner.say(text)
        wait_until(_settled, what=f"reply to {text!r}")
    with get_sessionmaker()() as session:
        reg = session.scalars(select(Registration)).one()
        assert reg.status == RegistrationStatus.PENDING_PAYMENT.value and reg.participant.nik == NIK
    runner.photo()
    wait_until(lambda: _settled() and count(Payment) == 1, what="payment photo")
    _approve(base_url)
    wait_until(lambda: runner.got_ticket() and _settled(), what="e-ticket delivered")


def _privacy_steps(runner: WhatsApp | Telegram, base_url: str) -> None:
    """The runner reads the notice and their data, asks for deletion; an admin honours it; the
    retention job runs for the (now long past) race."""
    for text in ("PRIVASI", "DATAKU", "HAPUS DATA", "YA"):
        runner.say(text)
        wait_until(_settled, what=f"reply to {text!r}")
    with unit_of_work() as uow:
        accounts.create(uow.session, email="privacy-admin@example.com", password=PASSWORD,
                        role=Role.ADMIN, name="Admin")  # fmt: skip
    with get_sessionmaker()() as session:
        request_id = session.scalars(select(DeletionRequest.id)).one()
    client, csrf = staff_login(base_url, "privacy-admin@example.com", PASSWORD)
    with closing(client):
        r = client.post(f"/admin/privacy/requests/{request_id}/honour",
                        data={"csrf_token": csrf}, follow_redirects=False)  # fmt: skip
        assert r.status_code == 303, r.text
    wait_until(_settled, what="deletion notice delivered")
    with unit_of_work() as uow:
        uow.session.execute(update(Event).values(race_date=date(2020, 1, 1)))
    assert privacy_jobs.retention_once().events == 1
    if isinstance(runner, WhatsApp):  # the commands answered for real (the check is not vacuous)
        texts = "\n".join(runner.fake.sent_texts(WA_PHONE))
        assert "Data Anda yang kami simpan" in texts and NOTES in texts
        assert "Data pribadi Anda sudah dihapus" in texts


def _needles(*extra: str) -> list[str]:
    phone_forms = [EMERGENCY_PHONE, EMERGENCY_PHONE[1:], "62" + EMERGENCY_PHONE[1:]]
    secrets = secret_values(get_settings())
    return [NAME, FIRST, "Wulandari", EMAIL, NIK, EMERGENCY, NOTES, *phone_forms, *extra,
            *secrets, *(quote(s, safe="") for s in secrets)]  # fmt: skip


def test_whatsapp_journey_logs_no_personal_data_or_secrets(
    all_logs: pytest.LogCaptureFixture, live_server: str, fake_fonnte: Any
) -> None:
    with httpx.Client(base_url=live_server, timeout=15) as http:
        runner = WhatsApp(http, fake_fonnte)
        _journey(runner, "YA", live_server)
        _privacy_steps(runner, live_server)
    _assert_clean(all_logs.records, _needles(WA_PHONE, WA_PHONE[2:], "12-08-1990"))


def test_telegram_journey_logs_no_personal_data_or_secrets(
    all_logs: pytest.LogCaptureFixture, live_server: str, fake_telegram: Any
) -> None:
    with httpx.Client(base_url=live_server, timeout=15) as http:
        _journey(Telegram(http, fake_telegram), TG_PHONE, live_server)
    _assert_clean(all_logs.records, _needles(TG_PHONE, "81266665555", "larasati_w", "12-08-1990"))


def test_funrun_serve_never_logs_the_webhook_path_secret(
    committed_db: None, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """`funrun serve`'s uvicorn options: no access log, and our redacting handlers stay in place."""
    from app.main import create_app

    secret = get_settings().fonnte_webhook_secret
    assert secret is not None and len(secret.get_secret_value()) >= 6
    app = create_app()
    caplog.set_level(logging.DEBUG)
    logging.getLogger().addHandler(caplog.handler)
    with serve(app, **UVICORN_LOGGING) as url, httpx.Client(base_url=url) as http:
        assert http.post(fonnte_path(), json={"sender": "status@broadcast"}).status_code == 200
        assert http.post(fonnte_path("wrong-secret"), json={}).status_code == 404
    output = capfd.readouterr()
    for text in (output.out, output.err, *(_record_text(r) for r in caplog.records)):
        assert secret.get_secret_value() not in text
    assert "wrong-secret" not in output.err  # no request lines at all


def test_url_loggers_redact_secrets_and_keep_their_format(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """If someone runs uvicorn with its access log on, the path secret is still replaced."""
    import uvicorn.logging

    configure_logging("INFO", secrets=["path-secret-123456", "123:bot-token-abcdef"])
    access = logging.getLogger("uvicorn.access")
    handler = logging.StreamHandler()
    handler.setFormatter(uvicorn.logging.AccessFormatter('%(client_addr)s "%(request_line)s"'))
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    try:
        access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "POST",
                    "/webhooks/fonnte/path-secret-123456", "1.1", 200)  # fmt: skip
        logging.getLogger("httpx").warning(
            "HTTP Request: %s %s",
            "POST",
            httpx.URL("https://api.telegram.org/bot123:bot-token-abcdef/sendMessage"),
        )
    finally:
        access.removeHandler(handler)
        configure_logging(get_settings().log_level)
    err = capfd.readouterr().err
    assert "/webhooks/fonnte/***" in err and "/bot***/sendMessage" in err
    assert "path-secret-123456" not in err and "bot-token-abcdef" not in err
