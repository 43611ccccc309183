"""The Dramatiq broker, built from settings at import (the one module allowed to do so).

With REDIS_URL set: a RedisBroker shared by API and worker processes. Without it: a StubBroker that a
worker thread inside `funrun serve` consumes (the embedded default needs no Redis).
"""

from __future__ import annotations

import threading
import time
from uuid import uuid4

import dramatiq
from dramatiq.brokers.redis import MAINTENANCE_COMMAND_BLACKLIST, RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.common import current_millis
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


class PromptRedisBroker(RedisBroker):
    """RedisBroker whose dead-worker check runs on time, not on a dice roll.

    Dramatiq puts a dead worker's unacknowledged messages back only during "maintenance": on a
    random ``maintenance_chance`` per million commands, for the queue the command names. An idle
    queue is polled about once a second, so at 5 % a killed worker's messages waited 12-24 s in
    the outliers. Here each process also runs it on the first command for a queue once
    ``interval`` seconds have passed since its last one there: a dead worker's messages are back
    within about a second of its heartbeat timing out, for at most one extra check per queue per
    second (two ZRANGEBYSCOREs inside the script dramatiq runs anyway).
    """

    def __init__(self, *args: object, maintenance_interval: float = 1.0, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.maintenance_interval = maintenance_interval
        self._last_maintenance: dict[str, float] = {}
        self._command_queue = threading.local()  # the queue of the command being dispatched

    def _dispatch(self, command: str):  # type: ignore[no-untyped-def]  # noqa: ANN202
        dispatch = super()._dispatch(command)

        def do_dispatch(queue_name: str, *args: object) -> object:
            self._command_queue.name = queue_name
            return dispatch(queue_name, *args)

        return do_dispatch

    def _should_do_maintenance(self, command: str) -> int:
        if command in MAINTENANCE_COMMAND_BLACKLIST:
            return 0
        queue = getattr(self._command_queue, "name", "")
        now = time.monotonic()
        if self.maintenance_interval > 0 and (
            now - self._last_maintenance.get(queue, 0.0) >= self.maintenance_interval
        ):
            self._last_maintenance[queue] = now
            return 1
        return super()._should_do_maintenance(command)


def build_broker() -> dramatiq.Broker:
    settings = get_settings()
    if settings.redis_url:
        broker: dramatiq.Broker = PromptRedisBroker(
            url=settings.redis_url,
            middleware=_middleware(),
            # Dead workers' messages requeued within seconds (core.config explains the values).
            heartbeat_timeout=settings.broker_heartbeat_timeout_ms,
            maintenance_chance=settings.broker_maintenance_chance,
            maintenance_interval=settings.broker_maintenance_interval_ms / 1000,
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


def enqueue_batch(messages: list[dramatiq.Message]) -> None:  # type: ignore[type-arg]
    """broker.enqueue() for many messages: on Redis one pipelined round trip instead of one each.

    This repeats RedisBroker.enqueue (a fresh redis_message_id, the middleware hooks, the broker's
    own `dispatch` script with its arguments in dramatiq's order) with the script sent on a
    pipeline; dramatiq has no batch enqueue of its own.
    """
    if not isinstance(broker, RedisBroker) or len(messages) < 2:
        for message in messages:
            broker.enqueue(message)
        return
    pipe = broker.client.pipeline(transaction=False)
    dispatch = broker.scripts["dispatch"]
    queued = []
    for message in messages:
        message = message.copy(options={"redis_message_id": str(uuid4())})
        broker.emit_before("enqueue", message, None)
        if isinstance(broker, PromptRedisBroker):  # its maintenance check is per queue
            broker._command_queue.name = message.queue_name  # noqa: SLF001
        args = [
            "enqueue",
            current_millis(),
            message.queue_name,
            broker.broker_id,
            broker.heartbeat_timeout,
            broker.dead_message_ttl,
            broker._should_do_maintenance("enqueue"),
            broker._max_unpack_size(),
            message.options["redis_message_id"],
            message.encode(),
        ]
        dispatch(keys=[broker.namespace], args=args, client=pipe)
        queued.append(message)
    pipe.execute()
    for message in queued:
        broker.emit_after("enqueue", message, None)
