"""Token-bucket rate limits for sending, shared through Redis when REDIS_URL is set.

``reserve`` takes one token from every named bucket or none, and says how long to wait otherwise.
A ``reserve`` keeps tokens back for more urgent senders: reminders and broadcasts only take a token
when the bucket holds more than the reserve. A ``charge`` bucket is debited but never waited on
(down to ``-burst``): replies count against the provider-wide bucket, so bulk behind its reserve
yields to them, while the replies themselves are limited per chat only. ``reserve`` may also take
tokens due a little later (the caller sends then), so a short wait needs no second try. A
pause (after a 429) makes every reserve naming that key (a bot, a device or one chat) wait until it
ends; ``Pace`` lowers a bot's overall rate after a 429 and brings it back up slowly.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

# KEYS: the pause keys (ARGV[2] of them), then the bucket keys. ARGV: now, the number of pause
# keys, the longest wait that may be reserved (s), then (rate, burst, reserve, charge) per bucket.
# Returns {wait in ms, taken}: taken = 1 when the tokens are taken (go after the wait; 0 = now).
_LUA = """
local now = tonumber(ARGV[1])
local np = tonumber(ARGV[2])
local max_wait = tonumber(ARGV[3])
local paused = 0
for i = 1, np do
  local untilts = tonumber(redis.call('GET', KEYS[i]))
  if untilts and untilts > now then
    paused = math.max(paused, untilts - now)
  end
end
if paused > 0 then
  return {math.ceil(paused * 1000), 0}
end
local wait = 0
local state = {}
for i = np + 1, #KEYS do
  local j = (i - np - 1) * 4 + 4
  local rate = tonumber(ARGV[j])
  local burst = tonumber(ARGV[j + 1])
  local reserve = tonumber(ARGV[j + 2])
  local charge = tonumber(ARGV[j + 3])
  local data = redis.call('HMGET', KEYS[i], 'tokens', 'ts')
  local tokens = tonumber(data[1]) or burst
  local ts = tonumber(data[2]) or now
  tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
  state[i] = tokens
  local need = 1 + reserve
  if charge == 0 and tokens < need then
    wait = math.max(wait, (need - tokens) / rate)
  end
end
if wait > max_wait then
  return {math.ceil(wait * 1000), 0}
end
for i = np + 1, #KEYS do
  local j = (i - np - 1) * 4 + 4
  local left = state[i] - 1
  if tonumber(ARGV[j + 3]) == 1 then
    left = math.max(-tonumber(ARGV[j + 1]), left)
  end
  redis.call('HSET', KEYS[i], 'tokens', left, 'ts', now)
  redis.call('EXPIRE', KEYS[i], 3600)
end
return {math.ceil(wait * 1000), 1}
"""


@dataclass(frozen=True, slots=True)
class Bucket:
    """One limit: ``rate`` tokens per second, at most ``burst`` saved up."""

    key: str
    rate: float
    burst: float
    reserve: float = 0.0
    charge: bool = False  # debit without waiting (replies against the provider-wide bucket)


@dataclass(frozen=True, slots=True)
class Buckets:
    """The limits one message counts against, by role; iterating yields the ones that apply."""

    overall: Bucket | None = None  # the provider-wide bucket (a bot, a device, a number)
    chat: Bucket | None = None  # this chat's (or runner pair's) own limit
    ceiling: Bucket | None = None  # the bot's or device's hard ceiling

    def __iter__(self) -> Iterator[Bucket]:
        return iter([b for b in (self.overall, self.chat, self.ceiling) if b is not None])

    def __len__(self) -> int:
        return len(list(iter(self)))


class Limiter:
    """Shared (Redis) or in-process token buckets; ``reserve`` takes tokens or says how long to wait."""

    def __init__(self, redis_client: Any | None = None) -> None:
        self._redis = redis_client
        self._script = redis_client.register_script(_LUA) if redis_client is not None else None
        self._lock = threading.Lock()
        self._local: dict[str, tuple[float, float]] = {}
        self._paused: dict[str, float] = {}

    def reserve(
        self, buckets: Iterable[Bucket], *, pause_keys: tuple[str, ...] = (), max_wait: float = 0.0
    ) -> tuple[float, bool]:
        """Take a token from every bucket, due within ``max_wait`` seconds, or from none.

        Returns (wait, taken). Taken: the tokens are the caller's, to use after ``wait`` (0 = now);
        later callers queue behind it. Not taken (paused by any of ``pause_keys``, or the wait is
        longer than ``max_wait``): nothing was charged; try again after ``wait``.
        """
        buckets = list(buckets)
        if not buckets:
            return 0.0, True
        if self._script is not None:
            return self._reserve_redis(buckets, pause_keys, max_wait)
        return self._reserve_local(buckets, pause_keys, max_wait)

    def pause(self, key: str, seconds: float) -> None:
        """Make every reserve naming ``key`` in its ``pause_keys`` wait ``seconds`` from now (in every process)."""
        until = time.time() + seconds
        if self._redis is not None:
            self._redis.set(f"funrun:rl:pause:{key}", until, px=max(1, int(seconds * 1000)))
        with self._lock:
            self._paused[key] = max(self._paused.get(key, 0.0), until)

    def level(self, bucket: Bucket) -> float:
        """The tokens ``bucket`` holds now (its burst when unused)."""
        if self._redis is not None:
            tokens, ts = self._redis.hmget(f"funrun:rl:{bucket.key}", "tokens", "ts")
            if tokens is None or ts is None:
                return bucket.burst
            elapsed = max(0.0, time.time() - float(ts))
            return min(bucket.burst, float(tokens) + elapsed * bucket.rate)
        now = time.monotonic()
        with self._lock:
            tokens, ts = self._local.get(bucket.key, (bucket.burst, now))
            return min(bucket.burst, tokens + max(0.0, now - ts) * bucket.rate)

    def _reserve_redis(
        self, buckets: list[Bucket], pause_keys: tuple[str, ...], max_wait: float
    ) -> tuple[float, bool]:
        args: list[float] = [time.time(), len(pause_keys), max_wait]
        for b in buckets:
            args.extend((b.rate, b.burst, b.reserve, 1 if b.charge else 0))
        keys = [f"funrun:rl:pause:{k}" for k in pause_keys] + [
            f"funrun:rl:{b.key}" for b in buckets
        ]
        wait_ms, taken = self._script(keys=keys, args=args)
        return int(wait_ms) / 1000.0, bool(int(taken))

    def _reserve_local(
        self, buckets: list[Bucket], pause_keys: tuple[str, ...], max_wait: float
    ) -> tuple[float, bool]:
        now = time.monotonic()
        with self._lock:
            paused = max((self._paused.get(k, 0.0) for k in pause_keys), default=0.0) - time.time()
            if paused > 0:
                return paused, False
            levels = []
            wait = 0.0
            for b in buckets:
                tokens, ts = self._local.get(b.key, (b.burst, now))
                tokens = min(b.burst, tokens + max(0.0, now - ts) * b.rate)
                levels.append(tokens)
                need = 1 + b.reserve
                if not b.charge and tokens < need:
                    wait = max(wait, (need - tokens) / b.rate)
            if wait > max_wait:
                return wait, False
            for b, tokens in zip(buckets, levels, strict=True):
                left = max(-b.burst, tokens - 1) if b.charge else tokens - 1
                self._local[b.key] = (left, now)
            return wait, True


class Pace:
    """A multiplier (floor..1) on a bot's overall rate: halved by a 429, back to 1 linearly.

    In-process: each worker process learns from the 429s it gets; the pause is what is shared.
    """

    def __init__(self, *, recover_seconds: float = 60.0, floor: float = 0.1) -> None:
        self.recover_seconds = recover_seconds
        self.floor = floor
        self._lock = threading.Lock()
        self._state: dict[str, tuple[float, float]] = {}  # key -> (factor, since)

    def factor(self, key: str, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        with self._lock:
            return self._factor(key, now)

    def _factor(self, key: str, now: float) -> float:
        factor, since = self._state.get(key, (1.0, now))
        recovered = (now - since) / self.recover_seconds if self.recover_seconds > 0 else 1.0
        return min(1.0, factor + recovered * (1.0 - self.floor))

    def slow_down(self, key: str, now: float | None = None) -> float:
        """Halve the pace of ``key`` (not below the floor); return the new factor."""
        now = time.monotonic() if now is None else now
        with self._lock:
            factor = max(self.floor, self._factor(key, now) * 0.5)
            self._state[key] = (factor, now)
            return factor
