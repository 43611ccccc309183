"""Dramatiq actors and periodic jobs: the queue between the doors and the engine.

Imports core, flows and channels (senders). The broker is set before any actor module is
imported, so `dramatiq workers` (and the in-process worker) sees every actor.
"""

from workers import (  # noqa: E402
    broadcasts,
    checkin,
    conversations,
    delivery,
    drafts,
    payments,
    privacy,
    registrations,
    screenshots,
    statements,
    sweeper,
    tickets,
    verification,
    waitlist,
)
from workers.broker import broker  # must come first: actors bind to the broker when declared

__all__ = [
    "broadcasts",
    "broker",
    "checkin",
    "conversations",
    "delivery",
    "drafts",
    "payments",
    "privacy",
    "registrations",
    "screenshots",
    "statements",
    "sweeper",
    "tickets",
    "verification",
    "waitlist",
]
