"""A broadcast to three runners, one of whom replied STOP: the other two receive it.

Real app over HTTP on loopback (admin form with CSRF), PostgreSQL, Redis + dramatiq worker (the
batch job on `low`, delivery on `notifications`), and the fake Telegram / Fonnte servers.
"""

from __future__ import annotations

import itertools
from typing import Any

import httpx
from sqlalchemy import select

from core.db import get_sessionmaker, unit_of_work
from core.enums import RegistrationStatus
from core.models import AuditLog, Broadcast, Event
from tests import factories as f
from tests.channels.helpers import fixture, fonnte_path, tg_headers, tg_text, wait_until
from tests.e2e.conftest import DEMO_ADMIN_PASSWORD, staff_login

TG_STOPPER, TG_READER, WA_READER = 555000301, 555000302, "6281233330303"
TEXT = "Race pack pickup opens *Friday* at Senayan."


def _three_paid_runners(event_id: int) -> None:
    with unit_of_work() as uow:
        event = uow.session.get(Event, event_id)
        for channel, chat_id in (("telegram", TG_STOPPER), ("telegram", TG_READER),
                                 ("whatsapp", WA_READER)):  # fmt: skip
            f.make_registration(uow.session, event, status=RegistrationStatus.PAID,
                                channel=channel, chat_id=str(chat_id))  # fmt: skip


def _say(http: httpx.Client, text: str, *, telegram: int | None = None, wa: str = "") -> None:
    ids = itertools.count(990000)
    if telegram is not None:
        r = http.post("/webhooks/telegram", json=tg_text(next(ids), text, chat_id=telegram),
                      headers=tg_headers())  # fmt: skip
    else:
        r = http.post(fonnte_path(), json=fixture("fonnte", "text", sender=wa, message=text,
                                                  inboxid=next(ids)))  # fmt: skip
    assert r.status_code == 200, r.text


def test_broadcast_skips_the_runner_who_said_stop(
    live_server: str, demo_event: int, fake_telegram: Any, fake_fonnte: Any
) -> None:
    _three_paid_runners(demo_event)
    with httpx.Client(base_url=live_server, timeout=15) as http:
        _say(http, "STOP", telegram=TG_STOPPER)
    wait_until(lambda: any("announcements" in t or "pengumuman" in t
                           for t in fake_telegram.sent_texts(TG_STOPPER)), what="STOP answered")  # fmt: skip

    admin, csrf = staff_login(live_server, "admin@funrun.local", DEMO_ADMIN_PASSWORD)
    form = {"csrf_token": csrf, "event_id": str(demo_event), "segment": "paid", "text": TEXT}
    counted = admin.post("/admin/broadcasts/preview", data=form,
                         headers={"accept": "application/json"})  # fmt: skip
    assert counted.json()["chats"] == 2 and counted.json()["stopped"] == 1
    sent = admin.post("/admin/broadcasts", data=form, follow_redirects=False)
    assert sent.status_code == 303, sent.text
    progress_url = sent.headers["location"] + "/progress.json"

    def received(texts: list[str]) -> bool:
        return any("Race pack pickup opens" in t and "STOP" in t for t in texts)

    wait_until(lambda: received(fake_telegram.sent_texts(TG_READER)), what="telegram broadcast")
    wait_until(lambda: received(fake_fonnte.sent_texts(WA_READER)), what="whatsapp broadcast")
    wait_until(lambda: admin.get(progress_url).json()["done"], what="progress done")
    state = admin.get(progress_url).json()
    assert (state["sent"], state["failed"], state["stopped"]) == (2, 0, 1)
    assert not received(fake_telegram.sent_texts(TG_STOPPER))
    page = admin.get(sent.headers["location"]).text
    assert page.count('class="badge">') >= 1  # the STOP recipient's row
    with get_sessionmaker()() as session:
        row = session.scalars(select(Broadcast)).one()
        audit = session.scalars(select(AuditLog).where(AuditLog.action == "broadcast.sent")).one()
        assert row.written == 2 and audit.data["chats"] == 2 and audit.data["stopped"] == 1
    admin.close()
