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
from redis.client import Pipeline
from redis.exceptions import NoScriptError

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
    """broker.enqueue() for many messages: on Redis one round trip, in one pipeline.

    Per queue, the first message goes through dramatiq's own `dispatch` script, as
    RedisBroker.enqueue sends it (its heartbeat, its maintenance when due); the others get the
    two writes that script makes for an enqueue (HSET of the encoded message under a fresh
    redis_message_id into ``<ns>:<queue>.msgs``, then RPUSH of that id onto ``<ns>:<queue>``),
    one HSET and one RPUSH for all of them. The data is written before the id is pushed, so a
    worker never pops an id without its message. The middleware's enqueue hooks run as in
    enqueue(). dramatiq has no batch enqueue of its own; the key layout is that of the dramatiq
    version pinned in pyproject.toml (tests/webhooks/test_group_commit.py has a worker run the
    jobs). EVALSHA without the pipeline's SCRIPT EXISTS (a second round trip on every batch):
    a Redis that lost its script cache answers NOSCRIPT and that one message is sent again the
    ordinary way, which loads the script.
    """
    if not isinstance(broker, RedisBroker) or len(messages) < 2:
        for message in messages:
            broker.enqueue(message)
        return
    hooked = _enqueue_hooked()
    queues: dict[str, list[dramatiq.Message]] = {}  # type: ignore[type-arg]
    for message in messages:
        message = message.copy(options={"redis_message_id": str(uuid4())})
        if hooked:
            broker.emit_before("enqueue", message, None)
        queues.setdefault(message.queue_name, []).append(message)
    pipe = broker.client.pipeline(transaction=False)
    for queue, queued in queues.items():
        _dispatch_enqueue(pipe, queue, queued[0])
    for queue, queued in queues.items():
        if len(queued) > 1:
            ids = [m.options["redis_message_id"] for m in queued[1:]]
            key = f"{broker.namespace}:{queue}"
            data = [m.encode() for m in queued[1:]]
            pipe.hset(f"{key}.msgs", mapping=dict(zip(ids, data, strict=True)))
            pipe.rpush(key, *ids)
    results = pipe.execute(raise_on_error=False)
    for result, (queue, queued) in zip(results[: len(queues)], queues.items(), strict=True):
        # The heads' answers come first; one that found no script is loaded and sent alone.
        if isinstance(result, NoScriptError):
            head = queued[0]
            broker.do_enqueue(queue, head.options["redis_message_id"], head.encode())
    for result in results:
        if isinstance(result, Exception) and not isinstance(result, NoScriptError):
            raise result
    for queued in queues.values() if hooked else ():
        for message in queued:
            broker.emit_after("enqueue", message, None)


def _enqueue_hooked() -> bool:
    """Whether any middleware has enqueue hooks (ours have none; the base class's do nothing)."""
    base = dramatiq.Middleware
    return any(
        type(m).before_enqueue is not base.before_enqueue
        or type(m).after_enqueue is not base.after_enqueue
        for m in broker.middleware
    )


def _dispatch_enqueue(pipe: Pipeline, queue: str, message: dramatiq.Message) -> None:  # type: ignore[type-arg]
    """Queue dramatiq's dispatch script for ``message`` on ``pipe``, its arguments in its order."""
    assert isinstance(broker, RedisBroker)
    if isinstance(broker, PromptRedisBroker):  # its maintenance check is per queue
        broker._command_queue.name = queue  # noqa: SLF001
    args = [
        "enqueue",
        current_millis(),
        queue,
        broker.broker_id,
        broker.heartbeat_timeout,
        broker.dead_message_ttl,
        broker._should_do_maintenance("enqueue"),  # noqa: SLF001
        broker._max_unpack_size(),  # noqa: SLF001
        message.options["redis_message_id"],
        message.encode(),
    ]
    pipe.evalsha(broker.scripts["dispatch"].sha, 1, broker.namespace, *args)
