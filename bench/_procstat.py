"""CPU seconds and peak RSS per role (API, workers, PostgreSQL, Redis), read from /proc.

A role is a root pid and all its descendants, less the subtrees of the other roles' roots (the bench
process is a role whose children, the API and the workers, are roles of their own); processes that
exit between samples keep the CPU they had at their last sample (PostgreSQL backends come and go),
so totals are lower bounds.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds user+system) of ``pid``, or None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw.rsplit(")", 1)[1].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS


def _memory_mib(pid: int) -> tuple[float, float]:
    """(peak RSS, current RSS) of ``pid`` in MiB (0 when it is gone)."""
    found = {"VmHWM:": 0.0, "VmRSS:": 0.0}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(tuple(found)):
                found[line.split()[0]] = int(line.split()[1]) / 1024
    except OSError:
        pass
    return found["VmHWM:"], found["VmRSS:"]


def find_pid(*needles: str) -> int | None:
    """The first process whose command line contains every needle (e.g. redis-server and a port)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if all(n in cmdline for n in needles):
            return int(entry.name)
    return None


@dataclass
class Role:
    root: int
    cpu: dict[int, float] = field(default_factory=dict)  # pid -> last CPU seconds
    start: dict[int, float] = field(default_factory=dict)  # pid -> CPU seconds at first sight
    rss: dict[int, float] = field(default_factory=dict)  # pid -> peak RSS MiB
    current: dict[int, float] = field(default_factory=dict)  # live pid -> RSS MiB at last sample

    def cpu_seconds(self) -> float:
        return sum(self.cpu[p] - self.start.get(p, 0.0) for p in self.cpu)

    def peak_rss(self) -> float:
        return max(self.rss.values(), default=0.0)

    def processes(self) -> int:
        return len(self.cpu)

    def rss_now(self) -> float:
        """The RSS of the role's processes at the last sample, summed, in MiB."""
        return sum(self.current.values())


class Sampler:
    """Samples every role once per ``interval`` seconds in a thread, until stop()."""

    def __init__(self, roots: dict[str, int], interval: float = 1.0) -> None:
        self.roles = {name: Role(pid) for name, pid in roots.items() if pid}
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="procstat")
        self._first = True

    def start(self) -> None:
        self.sample()  # baseline: CPU spent before the measurement is not counted
        self._first = False
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sample()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def sample(self) -> None:
        stats = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                found = _stat(int(entry.name))
                if found is not None:
                    stats[int(entry.name)] = found
        roots = {role.root for role in self.roles.values()}
        for role in self.roles.values():
            role.current = {}
            for pid in _descendants(role.root, stats, roots - {role.root}):
                cpu = stats[pid][1]
                if pid not in role.cpu:
                    # A process born during the run counts from zero; one seen at start, from then.
                    role.start[pid] = cpu if self._first else 0.0
                role.cpu[pid] = cpu
                hwm, now = _memory_mib(pid)
                role.rss[pid] = max(role.rss.get(pid, 0.0), hwm)
                role.current[pid] = now


def _descendants(
    root: int, stats: dict[int, tuple[int, float]], others: AbstractSet[int] = frozenset()
) -> list[int]:
    """``root`` and its descendants, not descending into ``others`` (roots of other roles)."""
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid in stats:
            found.append(pid)
        todo.extend(c for c in children.get(pid, []) if c not in others)
    return found
