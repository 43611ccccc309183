"""A short slice of bench/faults.py: kill -9 the worker mid-stream, a fresh one answers quickly.

Separate `funrun serve` and `funrun worker` processes on the test PostgreSQL and Redis, 16 runners
through the webhooks; the whole worker group is killed 5 s in and replaced 3 s later. Nothing is
lost or oversold and the messages that were waiting are answered within 15 s of the replacement
starting (dramatiq's defaults made them wait about 69 s).
"""

from __future__ import annotations

import argparse

from bench import faults


def test_killed_worker_messages_are_answered_soon_after_a_replacement(committed_db: None) -> None:
    opts = argparse.Namespace(runners=16, ramp=8.0, fault_at=5.0, duration=0.0, gap=3.0)
    result = faults.run("worker-kill", opts)
    assert result["invariants"] == [], result
    assert result["outcomes"].get("none", 0) == 0
    assert result["recover"] < 15, faults.line(result)
