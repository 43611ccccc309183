"""Screenshot OCR on the generated corpus: field precision/recall per layout, time and memory per engine.

Each engine runs in a fresh process over every layout x variant of bench/ocr_corpus.py (seed 0:
105 screenshots), through the same code the worker uses (normalise, straighten, engine, extract).
Precision = right / reported; recall = right / present. The amount must stay at >= 99 % precision
(a wrong "match" is worse than none). Run with `make bench-ocr` (or within `make bench`).
``OCR_BENCH_VARIANTS=clean,dark`` and ``OCR_BENCH_ENGINES=tesseract`` narrow a run.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from typing import Any

from bench._report import ROOT, emit, machine, write_section
from bench.ocr_corpus import LAYOUTS, VARIANTS, corpus, score
from core.payments.screenshot_reading.extract import FIELDS

ENGINES = ("tesseract", "rapidocr")


def child(engine_name: str, variants: str) -> None:
    from core.payments.screenshot_reading.engines import get_engine
    from core.payments.screenshot_reading.reader import read_image

    engine = get_engine(engine_name)
    rows = []
    for item in corpus(variants=tuple(variants.split(","))):
        started = time.perf_counter()
        reading = read_image(item.image, engine)
        seconds = time.perf_counter() - started
        rows.append({"layout": item.layout, "variant": item.variant, "seconds": seconds,
                     "score": score(reading, item.truth)})  # fmt: skip
    self_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    emit({"rows": rows, "rss_mib": self_rss, "child_rss_mib": children_rss})


def run_engine(engine: str, variants: str) -> dict[str, Any]:
    """The child run for one engine (a fresh process; minutes, so not _report.run_child's 120 s)."""
    proc = subprocess.run(
        [sys.executable, "-m", "bench.ocr", "child", engine, variants],
        cwd=ROOT, capture_output=True, text=True, timeout=3600, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        raise RuntimeError(f"bench.ocr child {engine} failed: {proc.stderr[-2000:]}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def rates(counts: Counter[str]) -> tuple[float | None, float | None]:
    reported = counts["hit"] + counts["wrong"] + counts["extra"]
    present = counts["hit"] + counts["wrong"] + counts["miss"]
    precision = counts["hit"] / reported if reported else None
    recall = counts["hit"] / present if present else None
    return precision, recall


def pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def tally(rows: list[dict[str, Any]], key: str | None = None) -> dict[str, dict[str, Counter[str]]]:
    """group -> field -> outcome counts (``key`` None: one group, "all")."""
    groups: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    for row in rows:
        group = row[key] if key else "all"
        for field, outcome in row["score"].items():
            groups[group][field][outcome] += 1
            groups[group]["*"][outcome] += 1
    return groups


def report(engine: str, result: dict[str, Any]) -> list[str]:
    rows = result["rows"]
    seconds = [r["seconds"] for r in rows]
    p95 = sorted(seconds)[max(int(len(seconds) * 0.95) - 1, 0)]
    lines = [f"### {engine}", "",
             f"{len(rows)} screenshots; time per image median {statistics.median(seconds):.2f} s, "
             f"p95 {p95:.2f} s, max {max(seconds):.2f} s; peak RSS {result['rss_mib']:.0f} MiB "
             f"(engine subprocess {result['child_rss_mib']:.0f} MiB).", ""]  # fmt: skip
    overall = tally(rows)["all"]
    lines += ["| field | precision | recall |", "|---|---|---|"]
    for field in FIELDS:
        precision, recall = rates(overall[field])
        lines.append(f"| {field} | {pct(precision)} | {pct(recall)} |")
    lines += ["", "Per layout (amount P/R · all fields P/R):", "",
              "| layout | amount P | amount R | all P | all R |", "|---|---|---|---|---|"]  # fmt: skip
    for layout, fields in tally(rows, "layout").items():
        ap, ar = rates(fields["amount"])
        fp, fr = rates(fields["*"])
        lines.append(f"| {layout} | {pct(ap)} | {pct(ar)} | {pct(fp)} | {pct(fr)} |")
    lines += ["", "Per variant:", "", "| variant | amount P | amount R | all P | all R |",
              "|---|---|---|---|---|"]  # fmt: skip
    for variant, fields in tally(rows, "variant").items():
        ap, ar = rates(fields["amount"])
        fp, fr = rates(fields["*"])
        lines.append(f"| {variant} | {pct(ap)} | {pct(ar)} | {pct(fp)} | {pct(fr)} |")
    return [*lines, ""]


def main() -> None:
    engines = os.environ.get("OCR_BENCH_ENGINES", ",".join(ENGINES)).split(",")
    variants = os.environ.get("OCR_BENCH_VARIANTS", ",".join(VARIANTS))
    lines = [
        "## Screenshot OCR: Tesseract vs RapidOCR on the generated corpus (bench/ocr.py)", "",
        f"Machine: {machine()}.", "",
        f"Corpus: bench/ocr_corpus.py, {len(LAYOUTS)} layouts x variants {variants} (seed 0), "
        "each with ground truth; scored by bench/ocr_corpus.score.", "",
    ]  # fmt: skip
    for engine in engines:
        try:
            result = run_engine(engine, variants)
        except RuntimeError as exc:  # e.g. rapidocr not installed (the "ocr-bench" extra)
            lines += [f"### {engine}", "", f"Not run: {str(exc)[-300:]}", ""]
            continue
        lines += report(engine, result)
        print(f"   {engine}: done")
    write_section("ocr", lines)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "child":
        child(sys.argv[2], sys.argv[3])
    else:
        main()
