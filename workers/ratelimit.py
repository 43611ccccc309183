"""Token-bucket rate limits for sending, shared through Redis when REDIS_URL is set.

``acquire`` takes one token from every named bucket or none, and says how long to wait otherwise.
A ``reserve`` keeps tokens back for more urgent senders: reminders and broadcasts only take a token
when the bucket holds more than the reserve. A ``charge`` bucket is debited but never waited on
(down to ``-burst``): replies count against the provider-wide bucket, so bulk behind its reserve
yields to them, while the replies themselves are limited per chat only. A pause (after a 429) makes
every acquire for that bot wait until it ends; ``Pace`` lowers a bot's overall rate after a 429 and
brings it back up slowly.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

# KEYS: the pause key, then bucket keys. ARGV: now, then (rate, burst, reserve, charge) per bucket.
# Returns the wait in ms (0 = taken).
_LUA = """
local now = tonumber(ARGV[1])
local paused = tonumber(redis.call('GET', KEYS[1]))
if paused and paused > now then
  return math.ceil((paused - now) * 1000)
end
local wait = 0
local state = {}
for i = 2, #KEYS do
  local j = (i - 2) * 4 + 2
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
if wait > 0 then
  return math.ceil(wait * 1000)
end
for i = 2, #KEYS do
  local burst = tonumber(ARGV[(i - 2) * 4 + 3])
  redis.call('HSET', KEYS[i], 'tokens', math.max(-burst, state[i] - 1), 'ts', now)
  redis.call('EXPIRE', KEYS[i], 3600)
end
return 0
"""


@dataclass(frozen=True, slots=True)
class Bucket:
    """One limit: ``rate`` tokens per second, at most ``burst`` saved up."""

    key: str
    rate: float
    burst: float
    reserve: float = 0.0
    charge: bool = False  # debit without waiting (replies against the provider-wide bucket)


class Limiter:
    """Shared (Redis) or in-process token buckets; ``acquire`` returns seconds to wait (0 = go)."""

    def __init__(self, redis_client: Any | None = None) -> None:
        self._redis = redis_client
        self._script = redis_client.register_script(_LUA) if redis_client is not None else None
        self._lock = threading.Lock()
        self._local: dict[str, tuple[float, float]] = {}
        self._paused: dict[str, float] = {}

    def acquire(self, buckets: list[Bucket], *, pause_key: str = "") -> float:
        """Take a token from every bucket at once, or return how long to wait before trying again."""
        if not buckets:
            return 0.0
        if self._script is not None:
            return self._acquire_redis(buckets, pause_key)
        return self._acquire_local(buckets, pause_key)

    def pause(self, key: str, seconds: float) -> None:
        """Make every acquire with ``pause_key=key`` wait ``seconds`` from now (in every process)."""
        until = time.time() + seconds
        if self._redis is not None:
            self._redis.set(f"funrun:rl:pause:{key}", until, px=max(1, int(seconds * 1000)))
        with self._lock:
            self._paused[key] = max(self._paused.get(key, 0.0), until)

    def _acquire_redis(self, buckets: list[Bucket], pause_key: str) -> float:
        args: list[float] = [time.time()]
        for b in buckets:
            args.extend((b.rate, b.burst, b.reserve, 1 if b.charge else 0))
        keys = [f"funrun:rl:pause:{pause_key or '-'}"] + [f"funrun:rl:{b.key}" for b in buckets]
        wait_ms = self._script(keys=keys, args=args)
        return int(wait_ms) / 1000.0

    def _acquire_local(self, buckets: list[Bucket], pause_key: str) -> float:
        now = time.monotonic()
        with self._lock:
            paused = self._paused.get(pause_key, 0.0) - time.time() if pause_key else 0.0
            if paused > 0:
                return paused
            levels = []
            wait = 0.0
            for b in buckets:
                tokens, ts = self._local.get(b.key, (b.burst, now))
                tokens = min(b.burst, tokens + max(0.0, now - ts) * b.rate)
                levels.append(tokens)
                need = 1 + b.reserve
                if not b.charge and tokens < need:
                    wait = max(wait, (need - tokens) / b.rate)
            if wait > 0:
                return wait
            for b, tokens in zip(buckets, levels, strict=True):
                self._local[b.key] = (max(-b.burst, tokens - 1), now)
            return 0.0


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
