"""workers.redelivery: an enqueue that failed (Redis away) is sent again once it goes through."""

from __future__ import annotations

import time

from workers import redelivery


def test_failed_sends_are_retried_until_they_pass_newest_per_key() -> None:
    calls: list[str] = []
    outage = {"until": time.monotonic() + 1.2}

    def sender(name: str):
        def send() -> None:
            if time.monotonic() < outage["until"]:
                raise ConnectionError("redis down")
            calls.append(name)

        return send

    redelivery.later(("conversation", 1), sender("old"))
    redelivery.later(("conversation", 1), sender("new"))  # same key: only the newest is kept
    redelivery.later(("conversation", 2), sender("other"))
    deadline = time.monotonic() + 10
    while redelivery.pending() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sorted(calls) == ["new", "other"]
    assert time.monotonic() - outage["until"] < 2  # sent within a second of the return
