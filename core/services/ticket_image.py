"""Pure e-ticket rendering with Pillow and qrcode: data in, PNG bytes out (no database, no I/O).

Fonts ship in core/assets/fonts (DejaVu, Bitstream Vera licence; Droid Sans Fallback, Apache-2.0).
Text that DejaVu cannot draw (CJK, for instance) uses the fallback; every text block is shrunk and
wrapped to its box, so long or non-Latin names never overflow the ticket.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont
from qrcode.constants import ERROR_CORRECT_M

FONTS_DIR = Path(__file__).resolve().parent.parent / "assets" / "fonts"
REGULAR = FONTS_DIR / "DejaVuSans.ttf"
BOLD = FONTS_DIR / "DejaVuSans-Bold.ttf"
# Used only for text DejaVu has no glyphs for: the bundled Droid fallback (CJK, Apache-2.0), then
# fuller fonts when the host happens to have them.
FALLBACKS = (
    FONTS_DIR / "DroidSansFallback.ttf",
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"),
    Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"),
    Path("/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf"),
)

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
            return candidate
    return primary  # unknown glyphs print as boxes, but the layout still fits


def _break_word(word: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Split a word (or unspaced CJK text) between characters so each piece fits ``width``."""
    pieces = [""]
    for ch in word:
        if pieces[-1] and font.getlength(pieces[-1] + ch) > width:
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


def _block(
    draw: ImageDraw.ImageDraw,
    y: int,
    text: str,
    *,
    fill: tuple[int, int, int],
    size: int,
    min_size: int,
    max_lines: int,
    bold: bool = False,
    center: bool = False,
) -> int:
    """Draw a fitted text block at ``y``; return the y below it."""
    width = WIDTH - 2 * MARGIN
    font, lines = fit(
        text, width=width, size=size, min_size=min_size, max_lines=max_lines, bold=bold
    )
    step = int(font.size * 1.25)
    for line in lines:
        x = MARGIN + (width - font.getlength(line)) / 2 if center else MARGIN
        draw.text((x, y), line, font=font, fill=fill)
        y += step
    return y


def qr_image(payload: str, size: int) -> Image.Image:
    """Render ``payload`` as a black-on-white QR code scaled to ``size`` pixels."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=10, border=4)
    code.add_data(payload)
    code.make(fit=True)
    image = code.make_image(fill_color="black", back_color="white").get_image().convert("RGB")
    return image.resize((size, size), Image.Resampling.NEAREST)


def _header(draw: ImageDraw.ImageDraw, data: TicketData) -> int:
    draw.rectangle((0, 0, WIDTH, 250), fill=ACCENT)
    y = _block(draw, 36, data.event_name, fill=WHITE, size=52, min_size=28, max_lines=2, bold=True)
    y = _block(draw, y + 6, data.event_date, fill=WHITE, size=30, min_size=20, max_lines=1)
    _block(draw, y, data.venue, fill=WHITE, size=26, min_size=18, max_lines=1)
    return 280


def _runner(draw: ImageDraw.ImageDraw, data: TicketData, y: int) -> int:
    y = _block(draw, y, data.runner_name, fill=INK, size=54, min_size=26, max_lines=2, bold=True)
    y = _block(draw, y + 4, data.category, fill=MUTED, size=34, min_size=22, max_lines=1)
    label = data.labels.get("bib", "BIB")
    y = _block(draw, y + 16, label, fill=MUTED, size=28, min_size=20, max_lines=1, center=True)
    y = _block(
        draw, y, data.bib, fill=ACCENT, size=170, min_size=60, max_lines=1, bold=True, center=True
    )
    details = (
        f"{data.labels.get('number', 'No.')}: {data.number} · "
        f"{data.labels.get('jersey', 'Jersey')}: {data.jersey_size}"
    )
    return _block(draw, y + 8, details, fill=INK, size=32, min_size=20, max_lines=2, center=True)


def render_png(data: TicketData) -> bytes:
    """Draw the ticket and return it as PNG bytes."""
    image = Image.new("RGB", (WIDTH, HEIGHT), WHITE)
    draw = ImageDraw.Draw(image)
    y = _runner(draw, data, _header(draw, data))
    qr_size = 460
    image.paste(qr_image(data.token, qr_size), ((WIDTH - qr_size) // 2, y + 16))
    y += qr_size + 32
    y = _block(
        draw,
        y,
        data.labels.get("pickup", ""),
        fill=INK,
        size=28,
        min_size=20,
        max_lines=1,
        bold=True,
    )
    _block(draw, y, data.pickup_info or "-", fill=MUTED, size=26, min_size=16, max_lines=4)
    hint = data.labels.get("hint", "")
    if hint:
        _block(draw, HEIGHT - 52, hint, fill=MUTED, size=22, min_size=14, max_lines=1, center=True)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
