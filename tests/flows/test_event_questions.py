"""Custom questions, the waiver and minors in the chat (PostgreSQL, rolled-back session)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.enums import Channel, LetterStatus
from core.events import questions
from core.models import ConsentLetter, Event, Registration
from tests.flows.chat import Chat


def _add(session: Session, event: Event, kind: str, label: str, **fields: object):
    data = questions.QuestionInput(kind=kind, label=label, **fields)  # type: ignore[arg-type]
    return questions.add(session, event_id=event.id, data=data, actor="test")


def _minor_birth(event: Event) -> str:
    return f"01-01-{event.race_date.year - 12}"  # 12 on race day: 5K (min 10), below 17


def test_custom_questions_in_declared_order_with_validation_and_skip(
    session: Session, event: Event
) -> None:
    club = _add(session, event, "text", "Komunitas lari?", label_en="Running club?", required=False)
    shirt = _add(session, event, "choice", "Bus antar-jemput?", options_text="Ya | Yes\nTidak | No")
    first = _add(session, event, "yes_no", "Maraton pertama?")
    age = _add(session, event, "number", "Berapa kali lari 10K?")
    day = _add(session, event, "date", "Tanggal tiba?", category_codes=("21K",))  # not for 10K
    questions.move(session, question=first, offset=-2, actor="test")  # now first
    chat = Chat(session)
    chat.send("DAFTAR")
    chat.answer_until(first.key)
    assert "Maraton pertama?" in chat.text() and len(chat.last[-1].choices) == 2
    chat.send("ya")
    assert chat.state == club.key and "-" in chat.text()
    chat.send("-")  # optional: skipped
    assert chat.state == shirt.key
    chat.send("3")
    assert chat.state == shirt.key and "1" in chat.text()  # invalid choice: asked again
    chat.send("Tidak")
    assert chat.state == age.key
    chat.send("sering")
    assert chat.state == age.key and "42" in chat.text()  # the example
    chat.send("7")
    assert chat.state == "confirm"  # the date question is only for 21K
    summary = chat.text()
    assert "Maraton pertama?: *Ya*" in summary and "Berapa kali lari 10K?: *7*" in summary
    assert day.key not in chat.conversation.answers
    chat.send("YA")
    registration = session.scalars(select(Registration)).one()
    answers = registration.participant.answers
    assert answers[first.key] == "yes" and answers[club.key] == "" and answers[age.key] == "7"
    assert answers[shirt.key] == "Tidak"


def test_edit_a_custom_answer_at_the_summary_in_english(session: Session, event: Event) -> None:
    shirt = _add(
        session,
        event,
        "choice",
        "Bus?",
        label_en="Shuttle bus?",
        options_text="Ya | Yes\nTidak | No",
    )
    chat = Chat(session, Channel.TELEGRAM)
    chat.send("/language", command="language", command_arg="en")
    chat.send("REGISTER")
    chat.answer_until(shirt.key)
    assert "Shuttle bus?" in chat.text()
    chat.send("Yes")
    assert chat.state == "confirm" and "Shuttle bus?: *Yes*" in chat.text()
    chat.send("edit shuttle bus?")
    assert chat.state == shirt.key and "Yes" in chat.text()
    chat.send("2")
    assert chat.state == "confirm" and "Shuttle bus?: *No*" in chat.text()


def test_waiver_must_be_accepted_and_its_time_is_stored(session: Session, event: Event) -> None:
    event.waiver_text = "Saya sehat dan ikut atas risiko sendiri."
    event.waiver_url = "https://example.com/syarat"
    session.flush()
    chat = Chat(session)
    chat.send("DAFTAR")
    chat.answer_until("waiver")
    assert "risiko sendiri" in chat.text() and "https://example.com/syarat" in chat.text()
    chat.send("ok")
    assert chat.state == "waiver" and "SETUJU" in chat.text()
    accepted_at = chat.now
    chat.send("SETUJU")
    assert chat.state == "confirm"
    chat.send("YA")
    registration = session.scalars(select(Registration)).one()
    assert registration.waiver_accepted_at == accepted_at


def test_a_minor_gives_a_guardian_and_a_letter_photo(session: Session, event: Event) -> None:
    event.minor_age = 17
    session.flush()
    chat = Chat(session)
    chat.send("DAFTAR")
    chat.answer_until("guardian_name", {"category": "5K", "date_of_birth": _minor_birth(event)})
    chat.send("Budi Santoso")
    chat.send("081298765432")
    chat.send("Ayah")
    assert chat.state == "consent_letter"
    chat.send("ini suratnya")
    assert chat.state == "consent_letter" and "foto" in chat.text().lower()
    chat.photo()
    assert chat.state == "confirm" and "Surat izin orang tua: *Foto diterima*" in chat.text()
    chat.send("YA")
    registration = session.scalars(select(Registration)).one()
    assert registration.participant.answers["guardian_relation"] == "Ayah"
    [letter] = session.scalars(select(ConsentLetter)).all()
    assert letter.status == LetterStatus.SUBMITTED.value
    assert letter.path.startswith("consent-letters/")


def test_an_adult_is_not_asked_for_a_guardian(session: Session, event: Event) -> None:
    event.minor_age = 17
    session.flush()
    chat = Chat(session)
    chat.register()
    registration = session.scalars(select(Registration)).one()
    assert "guardian_name" not in registration.participant.answers
    assert session.scalars(select(ConsentLetter)).all() == []
    assert date.fromisoformat("1990-08-17") == registration.participant.date_of_birth


def test_switching_category_at_the_summary_asks_the_new_categorys_question(
    session: Session, event: Event
) -> None:
    hotel = _add(session, event, "text", "Nama hotel?", category_codes=("21K",))
    chat = Chat(session)
    chat.send("DAFTAR")
    chat.answer_until("confirm")
    assert hotel.key not in chat.conversation.answers  # 10K: not asked
    chat.send("ubah kategori")
    chat.send("21K")
    assert chat.state == hotel.key and "Nama hotel?" in chat.text()
    chat.send("Hotel Mulia")
    assert chat.state == "confirm" and "Nama hotel?: *Hotel Mulia*" in chat.text()


def test_a_draft_at_an_event_question_resumes_there(session: Session, event: Event) -> None:
    club = _add(session, event, "text", "Komunitas lari?")
    chat = Chat(session)
    chat.send("DAFTAR")
    chat.answer_until(club.key)
    chat.send("DAFTAR")  # continue or start over?
    chat.send("lanjut")
    assert chat.state == club.key and "Komunitas lari?" in chat.text()
    chat.send("BATAL")
    chat.send("ya")
    assert chat.state == "idle"


def test_a_letter_photo_of_a_dropped_draft_is_deleted(session: Session, event: Event) -> None:
    from core import media

    event.minor_age = 17
    session.flush()
    chat = Chat(session)
    chat.send("DAFTAR")
    chat.answer_until("guardian_name", {"category": "5K", "date_of_birth": _minor_birth(event)})
    for text in ("Budi Santoso", "081298765432", "Ayah"):
        chat.send(text)
    chat.photo()
    stored = media.resolve(chat.conversation.answers["consent_letter"])
    assert stored.is_file()
    chat.send("ubah tanggal lahir")  # now an adult: the guardian and the letter are dropped
    chat.send("17-08-1990")
    assert chat.state == "confirm" and "consent_letter" not in chat.conversation.answers
    assert not stored.exists()
    chat.send("BATAL")
    chat.send("ya")
    assert chat.state == "idle"


def test_a_required_text_question_refuses_a_skip_with_the_organisers_example(
    session: Session, event: Event
) -> None:
    name = _add(session, event, "text", "Nama di jersey?", example="SITI")
    day = _add(session, event, "date", "Tanggal tiba?")
    chat = Chat(session)
    chat.send("DAFTAR")
    chat.answer_until(name.key)
    chat.send("-")
    assert chat.state == name.key and "Contoh: *SITI*" in chat.text()
    chat.send("SITI A")
    chat.send("besok")
    assert chat.state == day.key and "17-08-2026" in chat.text()
    chat.send("2 Mei 2026")
    assert chat.state == "confirm" and "Tanggal tiba?: *02-05-2026*" in chat.text()
