"""Server-side SVG charts (no JavaScript, no external library)."""

from __future__ import annotations

from datetime import date, timedelta

from markupsafe import Markup, escape

MAX_BAR = 48  # px: one day alone is a bar, not a wall
MONTHS = {
    "id": ["Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"],
    "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
}


def _every_day(points: list[tuple[date, int]]) -> list[tuple[date, int]]:
    """The days from the first to the last, with 0 for days without registrations."""
    counts = dict(points)
    first, last = points[0][0], points[-1][0]
    return [(first + timedelta(days=i), counts.get(first + timedelta(days=i), 0))
            for i in range((last - first).days + 1)]  # fmt: skip


def _label(day: date, lang: str) -> str:
    return f"{day.day} {MONTHS.get(lang, MONTHS['en'])[day.month - 1]}"


def bar_chart(
    points: list[tuple[date, int]], *, width: int = 720, height: int = 200, lang: str = "en",
    empty: str = "No registrations yet.",
) -> Markup:  # fmt: skip
    """Counts per day as bars: readable with one day or ninety (values shown when few)."""
    if not points:
        return Markup('<p class="muted">{}</p>').format(empty)
    days = _every_day(sorted(points))
    top = max(n for _, n in days) or 1
    pad, base = 28, height - 22
    slot = (width - pad) / len(days)
    bar = min(max(slot * 0.8, 1), MAX_BAR)
    parts = [
        f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="per day">',
        f'<line class="axis" x1="{pad}" y1="{base}" x2="{width}" y2="{base}"/>',
        f'<text x="0" y="12">{top}</text><text x="0" y="{base}">0</text>',
    ]
    for i, (day, count) in enumerate(days):
        h = (base - 16) * count / top
        x = pad + i * slot + (slot - bar) / 2
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{base - h:.1f}" width="{bar:.1f}" height="{h:.1f}">'
            f"<title>{escape(_label(day, lang))}: {count}</title></rect>"
        )
        if len(days) <= 31 and count:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{base - h - 3:.1f}" text-anchor="middle">{count}</text>'
            )
    step = max(1, len(days) // 6)
    for i in sorted({*range(0, len(days), step), len(days) - 1}):
        x = pad + i * slot + slot / 2
        parts.append(
            f'<text x="{x:.1f}" y="{height - 6}" text-anchor="middle">{escape(_label(days[i][0], lang))}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
