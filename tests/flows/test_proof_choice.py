"""A photo waiting for "which registration?": re-asked on other answers, never an orphan file."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.config import get_settings
from core.enums import RegistrationStatus
from core.i18n import t
from core.models import Event, Registration
from flows import pending
from flows.proofs import MAX_ASKS
from tests.flows.chat import Chat, make_photo


def _two_registrations(session: Session) -> tuple[Chat, list[Registration]]:
    chat = Chat(session)
    chat.register()
    chat.send("DAFTAR")
    chat.answer_until("emergency_name", {"email": "adik@example.com", "full_name": "Rina Aminah"})
    chat.send("1")  # reuse the emergency contact
    chat.answer_until("confirm")
    chat.send("YA")
    regs = list(session.scalars(select(Registration).order_by(Registration.id)))
    assert len(regs) == 2
    return chat, regs


def _file(relative: str) -> Path:
    return Path(get_settings().media_dir) / relative


def test_other_text_keeps_the_photo_and_asks_again(session: Session, event: Event) -> None:
    chat, regs = _two_registrations(session)
    photo = make_photo()
    chat.photo(photo)
    chat.send("yang kedua deh")
    again = t("payment.choose_again", "id", last=3)
    assert chat.last[0].text == again and "*1*" in again, "re-asked with an example"
    assert regs[0].number in chat.last[1].text, "the numbered list again"
    assert pending.of(chat.conversation).photo["path"] == photo and _file(photo).exists()
    chat.send("2")
    session.expire_all()
    assert [r.status for r in regs] == [
        RegistrationStatus.PENDING_PAYMENT.value,
        RegistrationStatus.AWAITING_VERIFICATION.value,
    ]
    assert not _file(photo).exists(), "the inbound file became the stored copy"
    assert pending.of(chat.conversation).photo is None


def test_photo_is_set_aside_clearly_after_repeated_other_answers(
    session: Session, event: Event
) -> None:
    chat, regs = _two_registrations(session)
    photo = make_photo()
    chat.photo(photo)
    for _ in range(MAX_ASKS - 1):
        chat.send("hmm")
    assert _file(photo).exists()
    chat.send("hmm")
    assert chat.text() == t("payment.choose_dropped", "id")
    assert not _file(photo).exists(), "no orphan file"
    assert pending.of(chat.conversation).photo is None
    assert {r.status for r in regs} == {RegistrationStatus.PENDING_PAYMENT.value}


def test_a_newer_photo_replaces_the_waiting_one(session: Session, event: Event) -> None:
    chat, _regs = _two_registrations(session)
    first, second = make_photo(), make_photo((50, 40))
    chat.photo(first)
    chat.photo(second)
    assert not _file(first).exists() and _file(second).exists()
    assert pending.of(chat.conversation).photo["path"] == second


def test_a_command_instead_of_the_pick_removes_the_waiting_photo(
    session: Session, event: Event
) -> None:
    chat, regs = _two_registrations(session)
    photo = make_photo()
    chat.photo(photo)
    chat.send("STATUS")
    assert pending.of(chat.conversation).photo is None
    assert not _file(photo).exists(), "no orphan file"
    assert {r.status for r in regs} == {RegistrationStatus.PENDING_PAYMENT.value}
