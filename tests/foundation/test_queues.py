"""The four queues of the original design each carry their jobs; no queue is declared but unused."""

from __future__ import annotations

import workers
from workers.broker import QUEUES

EXPECTED = {
    # high: payment verification and BIB numbers (approvals that run asynchronously).
    "approve_exact_matches": "high",
    # default: registration (the chat engine) and e-tickets.
    "process_conversation": "default",
    "send_ticket": "default",
    "deliver_chat": "notifications",
    "deliver_chat_bulk": "notifications",
    "expire_unpaid": "low",
    "send_payment_reminders": "low",
    "sweep": "low",
}


def _queues_of_actors() -> dict[str, str]:
    broker = workers.broker
    return {name: broker.get_actor(name).queue_name for name in broker.get_declared_actors()}


def test_actors_run_on_their_design_queues() -> None:
    actors = _queues_of_actors()
    assert {name: actors.get(name) for name in EXPECTED} == EXPECTED


def test_every_declared_queue_has_an_actor_and_every_actor_a_declared_queue() -> None:
    used = set(_queues_of_actors().values())
    assert used == set(QUEUES)
