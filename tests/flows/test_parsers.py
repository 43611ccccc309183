"""Table-driven parser tests: what each parser accepts and what it refuses."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from core.events.catalog import CatalogCategory, CatalogEvent, EventCatalog
from flows import parsers
from flows.spec import Answer, Ctx, Invalid

CATEGORY = CatalogCategory(1, "21K", "Half", 21.1, 400_000, 5, 17, 70)
EVENT = CatalogEvent(
    1, "e", "E", date(2026, 12, 6), None, None, True, "Asia/Jakarta", (CATEGORY,), ()
)


def ctx(**answers: object) -> Ctx:
    return Ctx(
        language="id",
        catalog=EventCatalog(open=(EVENT,)),
        answers=dict(answers),
        today=date(2026, 1, 1),
        now=datetime(2026, 1, 1, tzinfo=UTC),
        known_phone="6281234567890",
        taken=lambda field, value: value in ("taken@example.com", "3171234567890009"),
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("17-08-1990", "1990-08-17"),
        ("17/08/1990", "1990-08-17"),
        ("17 Agustus 1990", "1990-08-17"),
        ("17 august 1990", "1990-08-17"),
        ("1990-08-17", "1990-08-17"),
        ("5 Mei 1985", "1985-05-05"),
        ("17.08.1990", "1990-08-17"),
    ],
)
def test_date_of_birth_accepts(text: str, expected: str) -> None:
    assert parsers.date_of_birth(text, ctx(category="21K")) == expected


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("kemarin", "flow.invalid.date"),
        ("31-02-1990", "flow.invalid.no_such_day"),  # says which day does not exist
        ("17 Foo 1990", "flow.invalid.date"),
        ("01-01-2030", "flow.invalid.date_range"),
        ("01-01-1890", "flow.invalid.date_range"),
        ("01-01-2015", "flow.invalid.age"),  # 11 on race day: below 17
        ("01-01-1940", "flow.invalid.age"),  # 86: above 70
    ],
)
def test_date_of_birth_rejects(text: str, key: str) -> None:
    with pytest.raises(Invalid) as err:
        parsers.date_of_birth(text, ctx(category="21K"))
    assert err.value.key == key


def test_age_error_explains_the_limit() -> None:
    with pytest.raises(Invalid) as err:
        parsers.date_of_birth("01-01-2015", ctx(category="21K"))
    assert err.value.params == {"age": 11, "min_age": 17, "max_age": 70, "category": "21K"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0812-3456-7890", "+6281234567890"), ("+62 812 3456 7890", "+6281234567890"),
     ("6281234567890", "+6281234567890"), ("81234567890", "+6281234567890"),
     # foreign runners: E.164 checked by phonenumbers
     ("+65 9123 4567", "+6591234567"), ("+61 412 345 678", "+61412345678")],
)  # fmt: skip
def test_phone_normalised_to_e164(text: str, expected: str) -> None:
    assert parsers.phone(text, ctx()) == expected


@pytest.mark.parametrize(
    "text", ["12345", "0212345678", "abc", "+1 555 0100", "08" + "1" * 20, "+65 12", "+62 21 123"]
)
def test_phone_rejects(text: str) -> None:
    with pytest.raises(Invalid):
        parsers.phone(text, ctx())


def test_known_phone_confirmed_with_yes_and_shared_contact_wins() -> None:
    assert parsers.phone("YA", ctx()) == "+6281234567890"
    shared = ctx()
    shared.shared_phone = "+62 811 1111 2222"
    assert parsers.phone("", shared) == "+6281111112222"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("L", "M"), ("p", "F"), ("Laki-laki", "M"), ("Perempuan", "F"), ("male", "M"),
     ("Female", "F"), ("1", "M"), ("2", "F"), ("M", "M"), ("f", "F")],
)  # fmt: skip
def test_gender(text: str, expected: str) -> None:
    assert parsers.gender(text, ctx()) == expected


@pytest.mark.parametrize(
    ("parser", "text", "key"),
    [
        (parsers.gender, "x", "flow.invalid.gender"),
        (parsers.person_name, "Al", "flow.invalid.name_length"),
        (parsers.person_name, "A" * 101, "flow.invalid.name_length"),
        (parsers.person_name, "R2D2 Unit", "flow.invalid.name_chars"),
        (parsers.person_name, "Siti @ Home", "flow.invalid.name_chars"),
        (parsers.email, "siti@", "flow.invalid.email"),
        (parsers.email, "siti@example", "flow.invalid.email"),
        (parsers.email, "Taken@Example.com", "flow.invalid.email_taken"),
        (parsers.nik, "12345", "flow.invalid.nik"),
        (parsers.nik, "1111111111111111", "flow.invalid.nik"),
        (parsers.nik, "3171234567890009", "flow.invalid.nik_taken"),
        (parsers.blood_type, "Z", "flow.invalid.blood_type"),
        (parsers.medical_notes, "x" * 501, "flow.invalid.too_long"),
        (parsers.emergency_phone, "0812 3456 7890", "flow.invalid.emergency_same"),
        (parsers.emergency_phone, "123", "flow.invalid.phone"),
    ],
)
def test_each_parser_rejects(parser, text: str, key: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Invalid) as err:
        parser(text, ctx(phone="+6281234567890"))
    assert err.value.key == key


def test_names_emails_nik_blood_notes_accept() -> None:
    assert parsers.person_name("  Siti   Nur'aini  ", ctx()) == "Siti Nur'aini"
    assert parsers.person_name("R. A. Kartini-Djojo", ctx()) == "R. A. Kartini-Djojo"
    assert parsers.email(" Siti.Aminah@Example.COM ", ctx()) == "siti.aminah@example.com"
    assert parsers.nik("3171 2345 6789 0001", ctx()) == "3171234567890001"
    assert [parsers.blood_type(v, ctx()) for v in ("a", "AB+", "o-", "tidak tahu", "5")] == [
        "A", "AB", "O", "unknown", "unknown"
    ]  # fmt: skip
    assert parsers.medical_notes("-", ctx()) == ""
    assert parsers.medical_notes("Asma ringan", ctx()) == "Asma ringan"


def test_emergency_contact_reuse() -> None:
    reuse = ctx(phone="+6281234567890")
    reuse.previous_emergency = ("Budi Santoso", "+6281298765432")
    result = parsers.emergency_name("ya", reuse)
    assert isinstance(result, Answer)
    assert result.value == "Budi Santoso"
    assert result.extra == {"emergency_phone": "+6281298765432"}
    # The previous contact is this participant's own number: no offer, and YA is not a contact.
    same = ctx(phone="+6281298765432")
    same.previous_emergency = ("Budi Santoso", "+6281298765432")
    assert parsers.reusable_emergency(same) is None
    with pytest.raises(Invalid) as err:
        parsers.emergency_name("ya", same)
    assert err.value.key != "flow.invalid.emergency_same"


def test_a_same_number_correction_carries_no_unrelated_example() -> None:
    from flows import render

    err = Invalid("flow.invalid.emergency_same")
    text = render.correction(err, "en", key="emergency_name", example="Budi Santoso")
    assert "Budi Santoso" not in text and "differ" in text


def test_category_option_shows_age_limits_and_does_not_repeat_the_code() -> None:
    from core.i18n import t
    from flows.registration import _plain_name

    assert _plain_name("Fun Run 5K", "5K") == "Fun Run"
    params = {"km": "21", "price": "Rp350.000", "left": "1.998", "max_age": 70}
    text = t("flow.option.category", "id", name="Half Marathon", min_age=17, **params)
    assert text == "Half Marathon, 21 km — Rp350.000 — usia 17–70 th (sisa 1.998 slot)"
