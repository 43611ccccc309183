"""The one-message form (flows/form.py): asked for, filled, parsed line by line, gaps asked after."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.enums import Channel
from core.events import questions
from core.models import Event, Registration
from flows import form, parsers
from flows.registration import REGISTRATION
from flows.spec import Ask
from tests.flows.chat import Chat
from tests.flows.test_engine import make_ctx


def _fill(template: str, values: dict[str, str]) -> str:
    """Fill the form as a runner would: copy it, type after each "Label (...):"."""
    out = []
    for line in template.splitlines():
        label, sep, current = line.partition(":")
        key = form._key_for(label, form._label_table(REGISTRATION)) if sep else None
        if key is not None and key in values:
            out.append(f"{label}: {values[key]}")
        elif key is not None:
            out.append(line if current.strip() else f"{label}:")
        else:
            out.append(line)
    return "\n".join(out)


ID_VALUES = {
    "category": "10K",
    "full_name": "Siti Aminah",
    "gender": "P",
    "date_of_birth": "17-08-1990",
    "jersey_size": "M",
    "emergency_name": "Budi Santoso",
    "emergency_phone": "081298765432",
    "blood_type": "O",
    "medical_notes": "-",
}


def test_whatsapp_form_in_four_messages_each_way(session: Session, event: Event) -> None:
    chat = Chat(session)
    bot = []
    bot += chat.send("DAFTAR")
    assert "FORMAT" in chat.text()  # the greeting offers it on WhatsApp
    bot += chat.send("FORMAT")
    [sheet] = chat.last
    labels = ["Kategori", "Nama lengkap", "Tanggal lahir", "Email", "No. WhatsApp", "Ukuran jersey"]
    assert all(f"{label}" in sheet.text for label in labels)
    assert "+" + chat.phone in sheet.text  # the sender's own number is prefilled
    bot += chat.send(_fill(sheet.text, {**ID_VALUES, "email": chat.email}))
    assert chat.state == "confirm" and "Siti Aminah" in chat.text()
    bot += chat.send("YA")
    [reg] = session.scalars(select(Registration)).all()
    assert reg.participant.full_name == "Siti Aminah" and reg.participant.phone == "+" + chat.phone
    assert reg.participant.email == chat.email and reg.category.code == "10K"
    assert len(bot) <= 4  # four runner messages, at most four bot messages


def test_telegram_english_form_asks_only_what_is_missing_or_wrong(
    session: Session, event: Event
) -> None:
    chat = Chat(session, Channel.TELEGRAM)
    chat.send("/language", command="language", command_arg="en")
    chat.send("/start", command="start")
    chat.send("form")
    [sheet] = chat.last
    assert "Full name" in sheet.text and "Date of birth" in sheet.text
    values = {**ID_VALUES, "email": "not-an-email", "gender": "F", "date_of_birth": ""}
    chat.send(_fill(sheet.text, values))
    # One message: what was refused, then the first missing question.
    [reply] = chat.last
    assert "Email" in reply.text and chat.state == "date_of_birth"
    chat.send("17 August 1990")
    assert chat.state == "email"  # answered lines are skipped
    chat.send(chat.email)
    assert chat.state == "phone"  # never given on Telegram
    chat.send("081377778888")
    assert chat.state == "confirm" and "Registration summary" in chat.text()
    chat.send("yes")
    [reg] = session.scalars(select(Registration)).all()
    assert reg.participant.gender == "F" and reg.language == "en"


def test_tolerant_labels_in_either_language_numbers_and_equals(
    session: Session, event: Event
) -> None:
    chat = Chat(session)
    text = (
        "Format pendaftaran\n"
        "1. kategori = 5K\n"
        "2. Nama: Budi Hartono\n"
        "- Gender: L\n"
        "Date of birth : 02/03/1985\n"
        f"EMAIL: {chat.email}\n"
        "No. WA: ya\n"
        "Jersey size: L\n"
        "Kontak darurat: Ani Hartono\n"
        "No kontak darurat: 081298765431\n"
        "Golongan darah (pilih: A / B / AB / O): B\n"
        "Catatan medis: tidak ada\n"
    )
    chat.send(text)  # pasted while idle: it starts the draft itself
    assert chat.state == "confirm", chat.text()
    answers = chat.conversation.answers
    assert answers["full_name"] == "Budi Hartono" and answers["gender"] == "M"
    assert answers["date_of_birth"] == "1985-03-02" and answers["category"] == "5K"
    assert answers["phone"] == "+" + chat.phone and answers["blood_type"] == "B"


def test_an_ordinary_answer_with_a_colon_is_not_a_form(session: Session, event: Event) -> None:
    chat = Chat(session)
    chat.send("DAFTAR")
    chat.answer_until("medical_notes")
    chat.send("Catatan: alergi kacang")
    assert chat.state == "confirm"
    assert chat.conversation.answers["medical_notes"] == "Catatan: alergi kacang"


@dataclass(frozen=True)
class _Throwaway(Ask):
    @property
    def label_key(self) -> str:
        return "flow.share_contact"  # an existing text: the throwaway question needs a label


def test_a_new_question_appears_in_the_form_by_itself() -> None:
    extra = _Throwaway("jersey_name", parsers.medical_notes, example="SITI")
    steps = list(REGISTRATION.steps)
    steps.insert(REGISTRATION.keys.index("jersey_size") + 1, extra)
    flow = replace(REGISTRATION, name="registration-form-plus", steps=tuple(steps))
    ctx = make_ctx()
    sheet = form.form_message(flow, ctx).text
    assert "Kirim nomor saya:" in sheet
    lines = form.read_lines(flow, sheet.replace("Kirim nomor saya:", "Kirim nomor saya: SITI"))
    assert lines["jersey_name"] == "SITI"


def _custom(line: str, values: dict[str, str]) -> str:
    label = line.partition(" (")[0].partition(":")[0]
    return f"{line.rstrip()} {values[label]}" if label in values else line


def test_the_form_carries_the_events_own_questions_parsed_by_their_parsers(
    session: Session, event: Event
) -> None:
    def add(kind: str, label: str, **fields: object):  # type: ignore[no-untyped-def]
        data = questions.QuestionInput(kind=kind, label=label, **fields)  # type: ignore[arg-type]
        return questions.add(session, event_id=event.id, data=data, actor="test")

    first = add("yes_no", "Maraton pertama?")
    pickup = add("choice", "Titik jemput?", options_text="Monas\nGBK", category_codes=("10K",))
    arrival = add("date", "Tanggal tiba?", category_codes=("21K",))
    runs = add("number", "Berapa kali lari 10K?")
    chat = Chat(session)
    chat.send("DAFTAR")
    chat.send("FORMAT")
    [sheet] = chat.last
    assert "Maraton pertama? (pilih Ya / Tidak):" in sheet.text
    assert "Titik jemput? (khusus 10K · pilih Monas / GBK):" in sheet.text
    assert "Tanggal tiba? (khusus 21K):" in sheet.text  # asked of 21K runners only
    custom = {"Maraton pertama?": "ya", "Titik jemput?": "gbk", "Tanggal tiba?": "17-08-2026",
              "Berapa kali lari 10K?": "sering"}  # fmt: skip
    filled = _fill(sheet.text, {**ID_VALUES, "email": chat.email})
    chat.send("\n".join(_custom(line, custom) for line in filled.splitlines()))
    # The number line was refused by the number parser: only that one is asked again.
    assert chat.state == runs.key and "Berapa kali lari 10K?" in chat.text()
    chat.send("7")
    assert chat.state == "confirm"
    chat.send("YA")
    answers = session.scalars(select(Registration)).one().participant.answers
    assert (answers[first.key], answers[pickup.key], answers[runs.key]) == ("yes", "GBK", "7")
    assert arrival.key not in answers  # a 10K runner: the 21K line is not theirs


def test_the_label_table_is_built_once_and_follows_an_organisers_label_override() -> None:
    from core import i18n

    table = form._label_table(REGISTRATION)
    assert form._label_table(REGISTRATION) is table  # every text message reads it: built once
    assert table["nama lengkap"] == "full_name"
    try:
        i18n.set_overrides({("flow.label.full_name", "id"): "Nama peserta lari"}, loaded_at=None)
        assert form._label_table(REGISTRATION)["nama peserta lari"] == "full_name"
    finally:
        i18n.set_overrides({}, loaded_at=None)
    assert "nama peserta lari" not in form._label_table(REGISTRATION)
