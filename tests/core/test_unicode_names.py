"""Hostile Unicode in names (RTL override, zero-width, combining marks, emoji) on the ticket image
and in the admin export: rendered, QR still readable, text kept exactly (escaped, not stripped)."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy.orm import Session

from admin.exports import safe_cell
from core.fulfilment import tickets
from core.fulfilment.ticket_image import HEIGHT, WIDTH
from tests.core.test_tickets import paid_registration
from tests.qr import decode_qr

NAMES = [
    "Budi \u202eosotnaS\u202c",  # right-to-left override
    "A\u200bn\u200di\u200c",  # zero-width space / joiner / non-joiner
    "Z\u0335\u0321\u031b\u0327a\u0300\u0301\u0302\u0303\u0304l\u0305\u0306go",  # stacked combining
    "Sari \U0001f3c3\u200d\u2640\ufe0f \U0001f1ee\U0001f1e9",  # ZWJ emoji, flag
    '<script>alert(1)</script> & "Rina"',
]


@pytest.mark.parametrize("name", NAMES)
def test_ticket_image_renders_hostile_names(session: Session, name: str) -> None:
    reg = paid_registration(session, full_name=name)
    png = tickets.render_ticket_png(reg, "id")
    assert Image.open(io.BytesIO(png)).size == (WIDTH, HEIGHT)
    assert decode_qr(png) == reg.ticket_token


@pytest.mark.parametrize("name", NAMES)
def test_export_keeps_the_name_exactly(name: str) -> None:
    assert safe_cell(name) == name  # not a formula: stored and exported as typed
