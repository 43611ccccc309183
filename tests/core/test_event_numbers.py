"""Which numbers serve an event, and the links built from them (pure: no database)."""

from __future__ import annotations

from core.config import Settings
from core.events import numbers
from core.models import Event

A, B = "628111000111", "628222000222"


def _settings(**values: object) -> Settings:
    """Only the given numbers, whatever the environment says."""
    given = {"fonnte_devices": {}, "whatsapp_public_number": None, **values}
    return Settings(app_env="test", **given)  # type: ignore[arg-type]


def test_configured_numbers_come_from_fonnte_devices_else_the_public_number() -> None:
    several = _settings(fonnte_devices={"+62 811-1000-111": "a", B: "b"}, whatsapp_public_number=A)
    assert numbers.configured(several) == [A, B]
    assert numbers.configured(_settings(whatsapp_public_number="+62 811 1000 111")) == [A]
    assert numbers.configured(_settings()) == []


def test_an_event_uses_its_choice_else_every_number() -> None:
    settings = _settings(fonnte_devices={A: "a", B: "b"}, whatsapp_public_number="6289999")
    assert numbers.of_event(Event(whatsapp_provider="fonnte"), settings) == [A, B]
    assert numbers.of_event(Event(whatsapp_provider="fonnte", whatsapp_numbers=[B]), settings) == [
        B
    ]
    removed = Event(whatsapp_provider="fonnte", whatsapp_numbers=["628333000333"])
    assert numbers.of_event(removed, settings) == [A, B]  # never a link to nobody
    assert numbers.of_event(Event(whatsapp_provider="cloud"), settings) == ["6289999"]


def test_links_are_quoted() -> None:
    settings = _settings(public_base_url="https://daftar.example.id/")
    assert numbers.short_url(settings, "jfr", "10K") == "https://daftar.example.id/go/jfr/10K"
    assert numbers.short_url(settings, "jfr", None) == "https://daftar.example.id/go/jfr"
    assert numbers.whatsapp_url(A, "jfr", "10K") == f"https://wa.me/{A}?text=DAFTAR%20jfr%2010K"
    assert numbers.whatsapp_url("", "jfr", None) is None
    assert numbers.telegram_url("@Bot", "jfr", "10K") == "https://t.me/Bot?start=jfr_10K"
