"""Registry of actor modules and periodic jobs (name -> (actor, interval in seconds)).

Each concern has its own module; importing them here registers their actors with the broker.
"""

from __future__ import annotations

from typing import Any

PERIODIC: dict[str, tuple[Any, float]] = {}


def periodic(name: str, interval: float):  # type: ignore[no-untyped-def]
    """Register an actor to be sent every ``interval`` seconds by workers.scheduler."""

    def register(actor: Any) -> Any:
        PERIODIC[name] = (actor, interval)
        return actor

    return register
