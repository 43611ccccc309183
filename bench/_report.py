"""Shared bench plumbing: machine description, per-bench doc sections, measuring in a child process.

Each bench owns one section of docs/BENCHMARKS.md between `<!-- bench:NAME -->` markers and replaces
only that section, so benches (and engineers) never overwrite each other's results.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "BENCHMARKS.md"


def machine() -> str:
    """CPU model, cores, OS, Python version, date and current load, for the results' header."""
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return (
        f"{model or platform.processor() or 'unknown CPU'}, {os.cpu_count()} cores, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}, "
        f"measured {datetime.now(UTC):%Y-%m-%d} (1-min load average {os.getloadavg()[0]:.1f} "
        "at the start: other work on the machine skews results)"
    )


def write_section(name: str, lines: list[str]) -> None:
    """Replace (or append) this bench's marked section of docs/BENCHMARKS.md."""
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    section = "\n".join([start, *lines, end])
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        text = head + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text)


def _status_mib(field: str) -> float | None:
    status = Path("/proc/self/status")
    if not status.exists():
        return None
    for line in status.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024  # kB
    return None


def reset_peak_rss() -> float:
    """Reset the RSS high-water mark (Linux clear_refs "5") and return the current RSS in MiB.

    Without the reset, a transient peak while importing numpy/scipy hides smaller workloads.
    """
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return max_rss_mib()
    return _status_mib("VmRSS") or max_rss_mib()


def max_rss_mib() -> float:
    """This process's peak resident set size since the last reset, in MiB."""
    peak = _status_mib("VmHWM")
    if peak is not None:
        return peak
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run_child(module: str, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``python -m bench.<module> child ARGS`` in a fresh process; return its JSON line."""
    proc = subprocess.run(
        [sys.executable, "-m", f"bench.{module}", "child", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"bench.{module} child {args} failed: {proc.stderr[-2000:]}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def median_ms(seconds: list[float]) -> float:
    return statistics.median(seconds) * 1000


def quantile_ms(seconds: list[float], q: int) -> float:
    """The q-th percentile (1..99) in milliseconds."""
    return statistics.quantiles(seconds, n=100, method="inclusive")[q - 1] * 1000


def measure_here(
    op: Callable[[], object], *, reps: int, before: Callable[[], object] | None = None
) -> dict[str, Any]:
    """Time ``op`` (first call cold, then ``reps`` warm calls) and measure its peak memory.

    Peak RSS (high-water mark minus the RSS after imports) sees Pillow's C buffers; tracemalloc
    sees only the Python heap, so it is taken in one extra call after the timed ones.
    """
    base = reset_peak_rss()
    seconds = []
    for _ in range(reps + 1):
        if before is not None:
            before()
        began = time.perf_counter()
        op()
        seconds.append(time.perf_counter() - began)
    peak = max_rss_mib()
    if before is not None:
        before()
    tracemalloc.start()
    op()
    python_peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return {
        "cold_ms": seconds[0] * 1000,
        "ms": median_ms(seconds[1:]),
        "rss_mib": peak - base,
        "py_mib": python_peak,
        "reps": reps,
    }


def emit(result: dict[str, Any]) -> None:
    """Hand a child's result to run_child (the last line of stdout)."""
    sys.stdout.write(json.dumps(result) + "\n")
