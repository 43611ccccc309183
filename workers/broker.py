"""The Dramatiq broker, built from settings at import (the one module allowed to do so).

With REDIS_URL set: a RedisBroker shared by API and worker processes. Without it: a StubBroker that a
worker thread inside `funrun serve` consumes (the embedded default needs no Redis).
"""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import (
    AgeLimit,
    Callbacks,
    Pipelines,
    Retries,
    ShutdownNotifications,
    TimeLimit,
)

from core.config import get_settings
from core.logging import protect_logs, secret_values

QUEUES = ("high", "default", "notifications", "low")


def _middleware() -> list[dramatiq.Middleware]:
    return [
        AgeLimit(),
        TimeLimit(time_limit=120_000),
        ShutdownNotifications(),
        Callbacks(),
        Pipelines(),
        Retries(max_retries=8, min_backoff=1_000, max_backoff=300_000),
    ]


def build_broker() -> dramatiq.Broker:
    settings = get_settings()
    if settings.redis_url:
        broker: dramatiq.Broker = RedisBroker(
            url=settings.redis_url,
            middleware=_middleware(),
            # Dead workers' messages requeued within seconds (core.config explains the values).
            heartbeat_timeout=settings.broker_heartbeat_timeout_ms,
            maintenance_chance=settings.broker_maintenance_chance,
        )
    else:
        broker = StubBroker(middleware=_middleware())
        broker.emit_after("process_boot")
    for queue in QUEUES:
        broker.declare_queue(queue)
    return broker


broker = build_broker()
dramatiq.set_broker(broker)
# `dramatiq workers` configures logging itself: still keep the bot token out of httpx's URL lines.
protect_logs(secret_values(get_settings()))
