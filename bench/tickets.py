"""E-ticket rendering: time and peak memory of ticket_image.render_png vs drawing a blank PNG.

Tickets are built the way tickets.ticket_data builds them (catalogue labels, formatted date) for a
typical runner and for a long non-Latin name (font fallback and shrink-to-fit). The baseline
creates a blank image of the same size and saves it with the same PNG settings. Each case runs
in a fresh process, so the first render includes loading fonts. Run with `make bench` (or
`python -m bench.tickets`).
"""

from __future__ import annotations

import io
import sys
from datetime import date
from typing import Any

from PIL import Image

from bench._report import emit, machine, measure_here, run_child, write_section
from core.formatting import format_date
from core.fulfilment.ticket_image import HEIGHT, WHITE, WIDTH, TicketData, render_png
from core.fulfilment.tickets import new_token
from core.i18n import t

REPS = 10
CASES = {
    "latin": "Siti Aminah Rahmawati",
    "long_cjk": "王秀英 Wang Xiuying-Anastasia Putri Kusumawardhani Setyaningrum",
}


def ticket(name: str) -> TicketData:
    """A TicketData as tickets.ticket_data fills it for a paid 10K runner."""
    labels = {
        k: t(f"ticket.image.{k}", "id") for k in ("bib", "number", "jersey", "pickup", "hint")
    }
    return TicketData(
        event_name="Jakarta Fun Run 2026",
        event_date=f"{format_date(date(2026, 12, 6), 'id')} · 05:30",
        venue="Gelora Bung Karno, Jakarta",
        runner_name=name,
        category="10K Race",
        bib="10042",
        number="JFR-10K-00042",
        jersey_size="M",
        pickup_info="Sabtu 5 Des 2026, 10:00-18:00, Hall A Senayan. Bawa KTP dan tiket ini.",
        token=new_token(),
        labels=labels,
    )


def _blank_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (WIDTH, HEIGHT), WHITE).save(out, format="PNG", optimize=True)
    return out.getvalue()


def child(op: str, case: str) -> dict[str, Any]:
    """Measure one render (or the blank baseline) inside this (fresh) process."""
    if op == "render":
        data = ticket(CASES[case])
        result = measure_here(lambda: render_png(data), reps=REPS)
        result["png_kib"] = len(render_png(data)) / 1024
    else:
        result = measure_here(_blank_png, reps=REPS)
        result["png_kib"] = len(_blank_png()) / 1024
    return result


def measure() -> dict[str, dict[str, Any]]:
    results = {case: run_child("tickets", "render", case) for case in CASES}
    results["blank"] = run_child("tickets", "blank", "-")
    return results


def _rows(results: dict[str, dict[str, Any]]) -> list[str]:
    blank = results["blank"]
    rows = [
        f"| baseline: blank {_size()} PNG | {blank['cold_ms']:.0f} | {blank['ms']:.1f} | - | "
        f"{blank['rss_mib']:.1f} | - | {blank['png_kib']:.0f} |"
    ]
    for case in CASES:
        r = results[case]
        rows.append(
            f"| ticket, {case.replace('_', ' ')} name | {r['cold_ms']:.0f} | {r['ms']:.1f} | "
            f"**{r['ms'] / blank['ms']:.1f}** | {r['rss_mib']:.1f} | "
            f"**{r['rss_mib'] / max(blank['rss_mib'], 0.1):.1f}** | {r['png_kib']:.0f} |"
        )
    return rows


def _size() -> str:
    return f"{WIDTH}x{HEIGHT}"


def _write(results: dict[str, dict[str, Any]]) -> None:
    write_section(
        "tickets",
        [
            "## E-ticket rendering (bench/tickets.py)",
            "",
            f"Machine: {machine()}. `ticket_image.render_png` (text fitted to boxes, QR code, PNG "
            f"with optimize) vs a baseline of a blank {_size()} image saved with the same PNG "
            f"settings. First call in a fresh process (fonts loaded) and the median of {REPS} warm "
            "calls; peak memory is the RSS high-water mark above the RSS after imports.",
            "",
            "| render | first ms | warm ms | time ratio | peak MiB | memory ratio | PNG KiB |",
            "|---|---|---|---|---|---|---|",
            *_rows(results),
        ],
    )


def main() -> None:
    results = measure()
    _write(results)
    for line in _rows(results):
        print(line)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "child":
        emit(child(sys.argv[2], sys.argv[3]))
    else:
        main()
