"""Server-side SVG charts (no JavaScript, no external library)."""

from __future__ import annotations

from datetime import date

from markupsafe import Markup, escape


def bar_chart(points: list[tuple[date, int]], *, width: int = 720, height: int = 200) -> Markup:
    """A bar chart of counts per day, labelled with the first, middle and last day."""
    if not points:
        return Markup('<p class="muted">No registrations yet.</p>')
    top = max(n for _, n in points) or 1
    pad, base = 28, height - 22
    slot = (width - pad) / len(points)
    bar = max(slot * 0.8, 1)
    parts = [
        f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="Registrations per day">',
        f'<line class="axis" x1="{pad}" y1="{base}" x2="{width}" y2="{base}"/>',
        f'<text x="0" y="12">{top}</text><text x="0" y="{base}">0</text>',
    ]
    for i, (day, count) in enumerate(points):
        h = (base - 16) * count / top
        x = pad + i * slot
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{base - h:.1f}" width="{bar:.1f}" height="{h:.1f}">'
            f"<title>{escape(day.isoformat())}: {count}</title></rect>"
        )
    for i in sorted({0, len(points) // 2, len(points) - 1}):
        x = pad + i * slot
        parts.append(
            f'<text x="{x:.1f}" y="{height - 6}">{escape(points[i][0].strftime("%d %b"))}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
