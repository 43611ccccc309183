"""PromptRedisBroker: a dead worker's unacknowledged message is requeued on time, not by chance.

Two brokers on the real test Redis under their own namespace: one fetches a message and "dies"
(never acks, never speaks again); the other keeps polling the queue like an idle worker.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import dramatiq
import pytest
from dramatiq.brokers.redis import RedisBroker

from core.config import get_settings
from workers.broker import PromptRedisBroker

HEARTBEAT_MS = 600


@pytest.fixture
def namespace(redis_client: object) -> Iterator[str]:
    yield f"maint-test-{uuid.uuid4().hex[:8]}"


def _dead_worker_holding_one(namespace: str) -> None:
    dead = RedisBroker(url=get_settings().redis_url, namespace=namespace,
                       heartbeat_timeout=HEARTBEAT_MS, maintenance_chance=0)  # fmt: skip
    dead.declare_queue("q")
    dead.enqueue(dramatiq.Message(queue_name="q", actor_name="a", args=(), kwargs={}, options={}))
    assert len(dead.do_fetch("q", 1)) == 1  # now in the dead worker's unacked set


def _poll(broker: RedisBroker, seconds: float) -> float | None:
    """Poll ``q`` once every 0.1 s (an idle consumer); return when the message came back."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if broker.do_fetch("q", 1):
            return time.monotonic() - started
        time.sleep(0.1)
    return None


def test_a_dead_workers_message_is_back_within_the_interval_after_its_heartbeat(
    namespace: str,
) -> None:
    _dead_worker_holding_one(namespace)
    live = PromptRedisBroker(url=get_settings().redis_url, namespace=namespace,
                             heartbeat_timeout=HEARTBEAT_MS, maintenance_chance=0,
                             maintenance_interval=0.2)  # fmt: skip
    back = _poll(live, 3)
    assert back is not None, "the dead worker's message was never requeued"
    assert back < HEARTBEAT_MS / 1000 + 0.2 + 0.5


def test_without_the_interval_dramatiqs_dice_may_never_roll(namespace: str) -> None:
    """The control: the same wait with only the random chance (set to never) requeues nothing."""
    _dead_worker_holding_one(namespace)
    live = PromptRedisBroker(url=get_settings().redis_url, namespace=namespace,
                             heartbeat_timeout=HEARTBEAT_MS, maintenance_chance=0,
                             maintenance_interval=0)  # fmt: skip
    assert _poll(live, HEARTBEAT_MS / 1000 + 0.7) is None


def test_ack_commands_never_run_maintenance() -> None:
    broker = PromptRedisBroker(url=get_settings().redis_url, maintenance_interval=0.001,
                               maintenance_chance=0)  # fmt: skip
    assert broker._should_do_maintenance("ack") == 0  # noqa: SLF001
    assert broker._should_do_maintenance("fetch") == 1  # noqa: SLF001
