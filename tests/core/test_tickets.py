"""Ticket tokens and the PNG: a decodable QR that verifies; tampered and old tokens refused."""

from __future__ import annotations

import io
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.config import get_settings
from core.enums import RegistrationStatus
from core.formatting import format_date
from core.fulfilment import paid, tickets
from core.fulfilment.ticket_image import (
    BOLD,
    HEIGHT,
    MARGIN,
    WIDTH,
    fit,
    fit_field,
    font_for,
    text_fields,
)
from core.models import OutboundMessage
from tests.factories import demo_event, make_registration
from tests.qr import decode_qr

NOW = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


def paid_registration(session: Session, **kwargs: object):  # type: ignore[no-untyped-def]
    reg = make_registration(session, demo_event(session), **({"code": "10K"} | kwargs))  # type: ignore[arg-type]
    paid.mark_paid(session, registration=reg, actor="t", now=NOW)
    return reg


def test_token_shape() -> None:
    token = tickets.new_token()
    assert len(token) == 32 and set(token) <= set(tickets.ALPHABET)
    assert not set("01OIL") & set(tickets.ALPHABET)
    assert tickets.normalise_token(token.lower()) == token
    assert tickets.normalise_token("JFR-10K-0001") is None


def test_ticket_qr_decodes_to_a_token_that_verifies(session: Session) -> None:
    reg = paid_registration(session)
    png = tickets.render_ticket_png(reg, "id")
    assert Image.open(io.BytesIO(png)).size == (WIDTH, HEIGHT)
    decoded = decode_qr(png)
    assert decoded == reg.ticket_token
    assert reg.bib not in decoded and reg.number not in decoded
    assert tickets.find_by_token(session, decoded) is reg


def test_tampered_and_old_tokens_are_refused(session: Session) -> None:
    reg = paid_registration(session)
    token = reg.ticket_token or ""
    other = "2" if token[5] != "2" else "3"
    assert tickets.find_by_token(session, token[:5] + other + token[6:]) is None
    assert tickets.find_by_token(session, token[:-1]) is None
    assert tickets.find_by_token(session, reg.number) is None

    tickets.reissue(session, registration=reg, actor="staff:1")  # e.g. moved to another category
    assert reg.ticket_token and reg.ticket_token != token and reg.ticket_version == 2
    assert tickets.find_by_token(session, token) is None
    assert tickets.find_by_token(session, reg.ticket_token) is reg


def test_cancel_revokes_the_ticket(session: Session) -> None:
    reg = paid_registration(session)
    token = reg.ticket_token or ""
    reg.status = RegistrationStatus.CANCELLED.value
    tickets.reissue(session, registration=reg, actor="staff:1")
    assert reg.ticket_token is None
    assert tickets.find_by_token(session, token) is None
    assert tickets.ticket_reply(session, registration=reg, language="id") is None


@pytest.mark.parametrize(
    "name",
    [
        "Raden Ajeng Siti Nurhaliza Kartika Dewi Purnamasari Wulandari binti Haji Abdurrahman",
        "Ἀλέξανδρος Παπαδόπουλος-Κωνσταντινίδης",
        "Жанна Александровна Константинопольская",
        "山田太郎 やまだたろう",
        "Pneumonoultramicroscopicsilicovolcanoconiosis-Supercalifragilistic",
    ],
)
def test_long_and_non_latin_names_fit(session: Session, name: str) -> None:
    reg = paid_registration(session, full_name=name)
    png = tickets.render_ticket_png(reg, "en")
    assert Image.open(io.BytesIO(png)).size == (WIDTH, HEIGHT)
    assert decode_qr(png) == reg.ticket_token
    font, lines = fit(name, width=WIDTH - 112, size=54, min_size=26, max_lines=2, bold=True)
    assert len(lines) <= 2
    assert all(font.getlength(line) <= WIDTH - 112 for line in lines)


def test_ticket_reply_renders_once_into_private_media(session: Session) -> None:
    reg = paid_registration(session, language="en")
    reply = tickets.ticket_reply(session, registration=reg, language="en")
    assert reply is not None and reply.image_path and reply.kind == "ticket"
    assert reply.image_path.startswith("tickets/")
    assert reg.bib and reg.bib in reply.text and "e-ticket" in reply.text
    path = Path(get_settings().media_dir) / reply.image_path
    assert decode_qr(path.read_bytes()) == reg.ticket_token
    again = tickets.ticket_reply(session, registration=reg, language="en")
    assert again is not None and again.image_path == reply.image_path


def test_queue_ticket_is_idempotent_per_version(session: Session) -> None:
    reg = paid_registration(session)
    first = tickets.queue_ticket(session, registration=reg)
    second = tickets.queue_ticket(session, registration=reg)
    assert [r.id for r in first] == [r.id for r in second]
    assert first[0].idempotency_key == f"ticket:{reg.id}:1"
    assert first[0].media_path and first[0].recipient == reg.chat_id
    tickets.reissue(session, registration=reg, actor="t")
    third = tickets.queue_ticket(session, registration=reg)
    assert third[0].id != first[0].id
    rows = session.scalars(
        select(OutboundMessage).where(OutboundMessage.registration_id == reg.id)
    ).all()
    assert len(rows) == 2


def test_unpaid_registration_has_no_ticket(session: Session) -> None:
    reg = make_registration(session, demo_event(session), code="10K")
    assert tickets.queue_ticket(session, registration=reg) == []


def test_cjk_names_use_the_bundled_fallback_font() -> None:
    from core.fulfilment.ticket_image import BOLD, FALLBACKS, font_for

    assert font_for("Siti Aminah", bold=True) == BOLD
    assert font_for("山田太郎", bold=True) == FALLBACKS[0]
    assert FALLBACKS[0].exists()


def test_ticket_draws_every_field_and_each_fits_its_box(session: Session) -> None:
    reg = paid_registration(session, full_name="Siti Aminah", jersey_size="XL", language="en")
    event = reg.event
    data = tickets.ticket_data(reg, "en")
    fields = text_fields(data)
    shown = {field.key: field.text for field in fields}

    assert shown["event_name"] == event.name
    assert format_date(event.race_date, "en") in shown["event_date"]
    assert event.race_start_time and event.race_start_time in shown["event_date"]
    assert shown["venue"] == event.venue == "Gelora Bung Karno, Jakarta"
    assert shown["runner_name"] == "Siti Aminah"
    assert shown["category"] == reg.category.name
    assert shown["bib"] == reg.bib and reg.bib
    assert reg.number in shown["details"] and "XL" in shown["details"]
    assert shown["pickup_info"] == event.pickup_info and "Senayan City" in shown["pickup_info"]
    assert shown["pickup_label"] == "Race-pack pickup" and "BIB" in shown["bib_label"]
    assert reg.ticket_token not in " ".join(shown.values())  # the secret is only in the QR
    width = WIDTH - 2 * MARGIN
    for field in fields:
        font, lines = fit_field(field, width)
        assert len(lines) <= field.max_lines
        assert all(font.getlength(line) <= width for line in lines), field.key
    assert decode_qr(tickets.render_ticket_png(reg, "en")) == reg.ticket_token


SCRIPTS = [
    ("สมชาย ใจดี", "NotoSansThai"),  # Thai
    ("प्रियंका चोपड़ा", "NotoSansDevanagari"),  # Hindi
    ("ꦱꦸꦱꦶꦭꦺꦴ ꦧꦩ꧀ꦧꦁ", "NotoSansJavanese"),  # Javanese script
    ("Somchai สมชาย Wongsawat", "NotoSansThai"),  # mixed Latin and Thai
]


def _ink(font: ImageFont.FreeTypeFont, text: str) -> bytes:
    return bytes(font.getmask(text))


@pytest.mark.parametrize(("name", "face"), SCRIPTS)
def test_thai_hindi_and_javanese_names_render_real_glyphs(
    session: Session, name: str, face: str
) -> None:
    path = font_for(name, bold=True)
    assert path.name == f"{face}-Bold.ttf" and path.parent == BOLD.parent  # shipped, not the host's
    font = ImageFont.truetype(str(path), 54)
    notdef = _ink(font, "\U0010fffd")  # a code point no font maps: the .notdef box
    letters = {
        ch for ch in name if not ch.isspace() and not unicodedata.category(ch).startswith("M")
    }
    assert letters and all(_ink(font, ch) != notdef for ch in letters)
    dejavu = ImageFont.truetype(str(BOLD), 54)
    non_latin = [ch for ch in letters if ord(ch) > 0x24F]
    assert all(_ink(dejavu, ch) == _ink(dejavu, "\U0010fffd") for ch in non_latin)  # why we ship

    drawn, lines = fit(name, width=WIDTH - 2 * MARGIN, size=54, min_size=26, max_lines=2, bold=True)
    assert drawn.path == str(path) and len(lines) <= 2
    assert all(drawn.getlength(line) <= WIDTH - 2 * MARGIN for line in lines)
    line = Image.new("L", (WIDTH, 120), 0)
    ImageDraw.Draw(line).text((0, 20), " ".join(lines), font=drawn, fill=255)
    boxes = Image.new("L", (WIDTH, 120), 0)
    ImageDraw.Draw(boxes).text((0, 20), "\U0010fffd" * len(letters), font=drawn, fill=255)
    assert line.getbbox() is not None and line.tobytes() != boxes.tobytes()

    reg = paid_registration(session, full_name=name)
    png = tickets.render_ticket_png(reg, "id")
    assert Image.open(io.BytesIO(png)).size == (WIDTH, HEIGHT)
    assert decode_qr(png) == reg.ticket_token


def test_event_texts_follow_the_language_with_indonesian_fallback() -> None:
    from core.models import Event

    event = Event(pickup_info="2 hari sebelum lomba, Senayan City", pickup_info_en="", venue="GBK")
    assert event.text_for("pickup_info", "en") == "2 hari sebelum lomba, Senayan City"
    event.pickup_info_en = "2 days before the race, Senayan City"
    assert event.text_for("pickup_info", "en") == "2 days before the race, Senayan City"
    assert event.text_for("pickup_info", "id") == "2 hari sebelum lomba, Senayan City"
    assert event.text_for("venue", "en") == "GBK"
