"""Pure e-ticket rendering with Pillow and qrcode: data in, PNG bytes out (no database, no I/O).

Fonts ship in core/assets/fonts (DejaVu, Bitstream Vera licence; Droid Sans Fallback, Apache-2.0;
Noto Sans Thai, Devanagari and Javanese, OFL, from the npm @expo-google-fonts packages: plain TTF,
about 0.8 MB together, so no system font package is needed). Text that DejaVu cannot draw uses the
first bundled fallback that covers it (each Noto script font also covers basic Latin, so a mixed
"Somchai สมชาย" works); every text block is shrunk and wrapped to its box, so long or non-Latin
names never overflow the ticket. Complex scripts are shaped by Pillow's raqm layout.
"""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONTS_DIR = Path(__file__).resolve().parent.parent / "assets" / "fonts"
REGULAR = FONTS_DIR / "DejaVuSans.ttf"
BOLD = FONTS_DIR / "DejaVuSans-Bold.ttf"
# Used only for text DejaVu has no glyphs for: the bundled fallbacks (CJK; Thai, Devanagari and
# Javanese, the scripts of runners we expect besides Latin), then fuller fonts when the host has them.
FALLBACKS = (
    FONTS_DIR / "DroidSansFallback.ttf",
    FONTS_DIR / "NotoSansThai-Regular.ttf",
    FONTS_DIR / "NotoSansDevanagari-Regular.ttf",
    FONTS_DIR / "NotoSansJavanese-Regular.ttf",
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"),
    Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"),
    Path("/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf"),
)
# A bundled fallback's bold face, used for bold blocks when it draws the same text.
BOLD_FACES = {
    FONTS_DIR / f"NotoSans{script}-Regular.ttf": FONTS_DIR / f"NotoSans{script}-Bold.ttf"
    for script in ("Thai", "Devanagari", "Javanese")
}

WIDTH, HEIGHT = 900, 1580
MARGIN = 56
INK = (20, 24, 31)
MUTED = (90, 98, 110)
ACCENT = (214, 64, 36)
WHITE = (255, 255, 255)


@dataclass(frozen=True, slots=True)
class TicketData:
    """Everything printed on one ticket, already formatted and translated."""

    event_name: str
    event_date: str
    venue: str
    runner_name: str
    category: str
    bib: str
    number: str
    jersey_size: str
    pickup_info: str
    token: str
    labels: dict[str, str]


@cache
def _font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size)


@cache
def _notdef(path: Path) -> bytes:
    # U+10FFFD is a private-use code point no font here maps: its mask is the "missing glyph" box.
    return bytes(_font(path, 24).getmask("\U0010fffd"))


def _covers(path: Path, text: str) -> bool:
    """Tell whether the font at ``path`` has a glyph for every visible character of ``text``."""
    missing = _notdef(path)
    font = _font(path, 24)
    return all(ch.isspace() or bytes(font.getmask(ch)) != missing for ch in set(text))


def font_for(text: str, *, bold: bool = False) -> Path:
    """Pick the bundled font, or a fallback installed on the host that can draw ``text``."""
    primary = BOLD if bold else REGULAR
    if _covers(primary, text):
        return primary
    for candidate in FALLBACKS:
        if candidate.exists() and _covers(candidate, text):
            bold_face = BOLD_FACES.get(candidate) if bold else None
            return bold_face if bold_face and _covers(bold_face, text) else candidate
    return primary  # unknown glyphs print as boxes, but the layout still fits


def _break_word(word: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Split a word (or unspaced CJK text) between characters so each piece fits ``width``.

    Combining marks (Thai and Devanagari vowel signs, the virama) stay with the letter before them.
    """
    pieces = [""]
    for ch in word:
        joins = unicodedata.category(ch).startswith("M") or ch in "\u200c\u200d"
        if pieces[-1] and not joins and font.getlength(pieces[-1] + ch) > width:
            pieces.append(ch)
        else:
            pieces[-1] += ch
    return pieces


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Greedy word wrap; words wider than the box are broken between characters."""
    lines: list[str] = []
    for word in text.split():
        for piece in _break_word(word, font, width):
            if lines and font.getlength(f"{lines[-1]} {piece}") <= width:
                lines[-1] = f"{lines[-1]} {piece}"
            else:
                lines.append(piece)
    return lines or [""]


def fit(
    text: str, *, width: int, size: int, min_size: int, max_lines: int, bold: bool = False
) -> tuple[ImageFont.FreeTypeFont, list[str]]:
    """Return the largest font (down to ``min_size``) and wrapped lines that fit the box."""
    path = font_for(text, bold=bold)
    for current in range(size, min_size - 1, -2):
        font = _font(path, current)
        lines = _wrap(text, font, width)
        if len(lines) <= max_lines:
            return font, lines
    font = _font(path, min_size)
    lines = _wrap(text, font, width)[:max_lines]
    ellipsis = "…" if _covers(path, "…") else "..."
    while font.getlength(lines[-1] + ellipsis) > width and len(lines[-1]) > 1:
        lines[-1] = lines[-1][:-1]
    lines[-1] += ellipsis
    return font, lines


@dataclass(frozen=True, slots=True)
class TextField:
    """One text block the ticket draws: what it says and the box it is fitted to."""

    key: str
    text: str
    section: str  # "header" (on the coloured band), "runner" (above the QR), "pickup", "hint"
    size: int
    min_size: int
    max_lines: int
    fill: tuple[int, int, int] = INK
    bold: bool = False
    center: bool = False
    gap: int = 0  # extra space above the block


def text_fields(data: TicketData) -> list[TextField]:
    """Return every text block of the ticket in drawing order (pure: the layout, without pixels)."""
    labels = data.labels
    details = (
        f"{labels.get('number', 'No.')}: {data.number} · "
        f"{labels.get('jersey', 'Jersey')}: {data.jersey_size}"
    )
    fields = [
        TextField("event_name", data.event_name, "header", 52, 28, 2, WHITE, bold=True),
        TextField("event_date", data.event_date, "header", 30, 20, 1, WHITE, gap=6),
        TextField("venue", data.venue, "header", 26, 18, 1, WHITE),
        TextField("runner_name", data.runner_name, "runner", 54, 26, 2, bold=True),
        TextField("category", data.category, "runner", 34, 22, 1, MUTED, gap=4),
        TextField(
            "bib_label", labels.get("bib", "BIB"), "runner", 28, 20, 1, MUTED, center=True, gap=16
        ),
        TextField("bib", data.bib, "runner", 170, 60, 1, ACCENT, bold=True, center=True),
        TextField("details", details, "runner", 32, 20, 2, center=True, gap=8),
        TextField("pickup_label", labels.get("pickup", ""), "pickup", 28, 20, 1, bold=True),
        TextField("pickup_info", data.pickup_info or "-", "pickup", 26, 16, 4, MUTED),
    ]
    if labels.get("hint"):
        fields.append(TextField("hint", labels["hint"], "hint", 22, 14, 1, MUTED, center=True))
    return fields


def fit_field(
    field: TextField, width: int = WIDTH - 2 * MARGIN
) -> tuple[ImageFont.FreeTypeFont, list[str]]:
    """The font and wrapped lines a text block is drawn with (its box is ``width`` wide)."""
    return fit(
        field.text,
        width=width,
        size=field.size,
        min_size=field.min_size,
        max_lines=field.max_lines,
        bold=field.bold,
    )


def _block(draw: ImageDraw.ImageDraw, y: int, field: TextField) -> int:
    """Draw a fitted text block at ``y``; return the y below it."""
    width = WIDTH - 2 * MARGIN
    font, lines = fit_field(field, width)
    step = int(font.size * 1.25)
    y += field.gap
    for line in lines:
        x = MARGIN + (width - font.getlength(line)) / 2 if field.center else MARGIN
        draw.text((x, y), line, font=font, fill=field.fill)
        y += step
    return y


def qr_image(payload: str, size: int) -> Image.Image:
    """Render ``payload`` as a black-on-white QR code scaled to ``size`` pixels."""
    import qrcode  # on the first ticket: the API imports this module for its fonts (core.qr)
    from qrcode.constants import ERROR_CORRECT_M

    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=10, border=4)
    code.add_data(payload)
    code.make(fit=True)
    image = code.make_image(fill_color="black", back_color="white").get_image().convert("RGB")
    return image.resize((size, size), Image.Resampling.NEAREST)


QR_SIZE = 460
# Where each section starts; None means right below the previous one.
SECTION_TOP = {"header": 36, "runner": 280, "pickup": None, "hint": HEIGHT - 52}


def render_png(data: TicketData) -> bytes:
    """Draw the ticket and return it as PNG bytes."""
    image = Image.new("RGB", (WIDTH, HEIGHT), WHITE)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, WIDTH, 250), fill=ACCENT)
    y, section = 0, ""
    for field in text_fields(data):
        if field.section != section:
            if field.section == "pickup":  # the QR code sits between the runner and pickup blocks
                image.paste(qr_image(data.token, QR_SIZE), ((WIDTH - QR_SIZE) // 2, y + 16))
                y += QR_SIZE + 32
            y = SECTION_TOP[field.section] or y
            section = field.section
        y = _block(draw, y, field)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
