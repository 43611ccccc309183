"""Read queue depth, age and dead letters from the Dramatiq broker (Redis or in-process stub).

Every function takes ``on=`` another broker (tests use it for the embedded mode's StubBroker).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from dramatiq import Message

from workers.broker import QUEUES, broker


@dataclass
class QueueStat:
    name: str
    depth: int
    delayed: int
    oldest_age_seconds: float | None
    dead: int


@dataclass
class DeadLetter:
    queue: str
    redis_id: str
    actor: str
    args: str
    failed_at: float | None


def _decode(raw: bytes | None) -> Message | None:
    if not raw:
        return None
    try:
        return Message.decode(raw)
    except Exception:  # noqa: BLE001  (a foreign or corrupt entry is just skipped)
        return None


def _age(message: Message | None) -> float | None:
    if message is None:
        return None
    return max(time.time() - message.message_timestamp / 1000, 0.0)


def queue_stats(*, on: Any = None) -> list[QueueStat]:
    """Depth, delayed count, oldest age and dead-letter count per declared queue."""
    target: Any = on if on is not None else broker
    client: Any = getattr(target, "client", None)
    if client is None:
        return [_stub_stat(target, name) for name in QUEUES]
    return [_redis_stat(target, client, name) for name in QUEUES]


def _redis_stat(target: Any, client: Any, name: str) -> QueueStat:
    key = f"{target.namespace}:{name}"
    first = client.lindex(key, 0)
    oldest = _decode(client.hget(f"{key}.msgs", first)) if first else None
    return QueueStat(
        name=name,
        depth=int(client.llen(key)),
        delayed=int(client.llen(f"{key}.DQ")),
        oldest_age_seconds=_age(oldest),
        dead=int(client.zcard(f"{key}.XQ")),
    )


def _stub_stat(target: Any, name: str) -> QueueStat:
    queues: dict[str, Any] = getattr(target, "queues", {})
    pending = queues.get(name)
    delayed = queues.get(f"{name}.DQ")
    items = list(getattr(pending, "queue", [])) if pending is not None else []
    dead = getattr(target, "dead_letters_by_queue", {}).get(name, [])
    return QueueStat(
        name=name,
        depth=len(items),
        delayed=delayed.qsize() if delayed is not None else 0,
        oldest_age_seconds=_age(_decode(items[0])) if items else None,
        dead=len(dead),
    )


def dead_letters(limit: int = 50, *, on: Any = None) -> list[DeadLetter]:
    """The most recent dead-lettered messages (Redis, or the in-process broker's memory)."""
    target: Any = on if on is not None else broker
    client: Any = getattr(target, "client", None)
    out: list[DeadLetter] = []
    for name in QUEUES:
        if client is None:
            for proxy in getattr(target, "dead_letters_by_queue", {}).get(name, [])[-limit:][::-1]:
                out.append(
                    DeadLetter(name, proxy.message_id, proxy.actor_name, repr(proxy.args), None)
                )
            continue
        key = f"{target.namespace}:{name}.XQ"
        for redis_id, score in client.zrevrange(key, 0, limit - 1, withscores=True):
            message = _decode(client.hget(f"{key}.msgs", redis_id))
            if message is not None:
                rid = redis_id.decode() if isinstance(redis_id, bytes) else str(redis_id)
                out.append(
                    DeadLetter(name, rid, message.actor_name, repr(message.args), score / 1000)
                )
    return out


def _fresh(message: Any) -> Message:
    """A copy without the retry bookkeeping, so the job gets its full retry budget again."""
    dropped = ("retries", "redis_message_id", "traceback")
    return message.copy(options={k: v for k, v in message.options.items() if k not in dropped})


def retry_dead_letter(queue: str, redis_id: str, *, on: Any = None) -> bool:
    """Re-enqueue one dead-lettered message (fresh retry count) and drop it from the dead letters.

    Works on Redis and on the in-process broker of the embedded default (``on``: another broker).
    """
    target: Any = on if on is not None else broker
    if queue not in QUEUES:
        return False
    client: Any = getattr(target, "client", None)
    if client is None:
        return _retry_in_process(target, queue, redis_id)
    key = f"{target.namespace}:{queue}.XQ"
    message = _decode(client.hget(f"{key}.msgs", redis_id))
    if message is None:
        return False
    target.enqueue(_fresh(message))
    client.zrem(key, redis_id)
    client.hdel(f"{key}.msgs", redis_id)
    return True


def _retry_in_process(target: Any, queue: str, message_id: str) -> bool:
    dead: list[Any] = getattr(target, "dead_letters_by_queue", {}).get(queue, [])
    for proxy in list(dead):
        if proxy.message_id == message_id:
            dead.remove(proxy)  # in place: the worker's consumer holds this very list
            target.enqueue(_fresh(proxy))  # the proxy forwards copy() and options
            return True
    return False
