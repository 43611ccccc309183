"""One phone normaliser: digits for chat ids and Conversation.phone, E.164 for Participant.phone."""

from __future__ import annotations

import pytest

from core import phones


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+62 812-3456", "628123456"),
        ("0812 3456 7890", "6281234567890"),
        ("6281234567890", "6281234567890"),
    ],
)
def test_digits_keep_the_country_code_first(raw: str, expected: str) -> None:
    assert phones.digits(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0812-3456-7890", "+6281234567890"),
        ("+62 812 3456 7890", "+6281234567890"),
        ("81234567890", "+6281234567890"),
        ("(0812) 3456.7890", "+6281234567890"),
        ("0212345678", None),  # a landline
        ("0812x3456", None),
        ("0812", None),
    ],
)
def test_e164_only_for_indonesian_mobiles(raw: str, expected: str | None) -> None:
    assert phones.to_e164(raw) == expected


def test_both_forms_name_the_same_number() -> None:
    assert phones.to_e164("0812 3456 7890") == "+" + phones.digits("0812 3456 7890")
