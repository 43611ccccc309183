"""A minor registers by chat on both channels: guardian, consent letter, a rejected letter, ticket.

Real app over HTTP on loopback, PostgreSQL, Redis + dramatiq worker, fake Telegram / Fonnte.
"""

from __future__ import annotations

import re
from contextlib import closing
from datetime import date

from sqlalchemy import select

from core.db import get_sessionmaker, unit_of_work
from core.enums import LetterStatus, Role
from core.models import ConsentLetter, Event
from tests.answers import answers_for
from tests.channels.helpers import wait_until
from tests.e2e.conftest import staff_login
from tests.e2e.test_full_journey import (
    PASSWORD,
    XHR,
    Runner,
    approve_in_admin,
    make_staff,
    only_registration,
    pay,
    receive_ticket,
    say,
    settled,
    transfer_screenshot,
)
from tests.e2e.test_full_journey import runner as runner_fixture  # noqa: F401  (both channels)


def _make_minor_event(event_id: int) -> str:
    """Minors below 17 need a letter; return a birth date 12 years before race day."""
    with unit_of_work() as uow:
        event = uow.session.get(Event, event_id)
        assert event is not None
        event.minor_age = 17
        return date(event.race_date.year - 12, 3, 1).strftime("%d-%m-%Y")


def _letters() -> list[ConsentLetter]:
    with get_sessionmaker()() as session:
        return list(session.scalars(select(ConsentLetter).order_by(ConsentLetter.id)))


def _judge(base_url: str, letter_id: int, action: str, **form: str) -> None:
    make_staff(f"letters-{action}@example.com", Role.VERIFIER)
    client, csrf = staff_login(base_url, f"letters-{action}@example.com", PASSWORD)
    with closing(client):
        queue = client.get("/admin/queue").text
        assert f"/admin/media/consent-letters/{letter_id}" in queue or action == "accept"
        r = client.post(
            f"/admin/consent-letters/{letter_id}/{action}",
            data={"csrf_token": csrf, **form},
            headers={k: v for k, v in XHR.items() if k != "accept"},
        )
        assert r.status_code == 303, r.text  # back to the queue with a flash


def _register_minor(runner: Runner, born: str) -> None:
    channel = "telegram" if runner.__class__.__name__.startswith("Telegram") else "whatsapp"
    email = f"minor.{channel}@example.com"
    for text in ["DAFTAR", *answers_for(channel, email=email, date_of_birth=born, category="5K")]:
        say(runner, text)
    for text in ("Budi Santoso", "081298765432", "Ayah"):
        say(runner, text)
    assert "surat izin" in runner.texts()[-1].lower()
    runner.send_photo(transfer_screenshot())  # the signed letter, photographed
    wait_until(settled, what="letter photo")
    assert "Surat izin orang tua" in runner.texts()[-1]  # the summary lists it
    runner.confirm()
    wait_until(settled, what="confirmation")


def test_a_minor_with_consent_gets_a_ticket_and_a_rejected_letter_asks_again(
    runner_fixture: Runner,  # noqa: F811  (the fixture imported above)
    live_server: str,
    demo_event: int,
) -> None:
    runner = runner_fixture
    born = _make_minor_event(demo_event)
    _register_minor(runner, born)
    reg = only_registration()
    assert reg.participant.answers["guardian_name"] == "Budi Santoso"
    [letter] = _letters()
    pay(runner, reg)

    _judge(live_server, letter.id, "reject", note="Belum ditandatangani")
    wait_until(
        lambda: any("Belum ditandatangani" in t and reg.number in t for t in runner.texts()),
        what="rejection asks for a new letter",
    )
    runner.send_photo(transfer_screenshot())  # the new letter
    wait_until(settled, what="new letter")
    assert "surat izin" in runner.texts()[-1].lower() and reg.number in runner.texts()[-1]
    first, second = _letters()
    assert first.status == LetterStatus.REJECTED.value
    assert second.status == LetterStatus.SUBMITTED.value

    approve_in_admin(live_server)
    wait_until(settled, what="approval delivered")
    assert runner.photos() == [] and only_registration().ticket_token is None  # no ticket yet
    assert any("setelah surat izin" in t for t in runner.texts())  # and the runner is told why

    _judge(live_server, second.id, "accept")
    token = receive_ticket(runner)
    assert token == only_registration().ticket_token
    assert re.search(r"diterima", " ".join(runner.texts()))
