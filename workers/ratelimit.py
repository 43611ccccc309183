"""Token-bucket rate limits for sending, shared through Redis when REDIS_URL is set.

``acquire`` takes one token from every named bucket or none, and says how long to wait otherwise.
A ``reserve`` keeps tokens back for more urgent senders: reminders and broadcasts only take a token
when the bucket holds more than the reserve, so replies to a runner who just wrote go first.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

# KEYS: bucket keys. ARGV: now, then (rate, burst, reserve) per key. Returns wait in ms (0 = taken).
_LUA = """
local now = tonumber(ARGV[1])
local wait = 0
local state = {}
for i, key in ipairs(KEYS) do
  local rate = tonumber(ARGV[i * 3 - 1])
  local burst = tonumber(ARGV[i * 3])
  local reserve = tonumber(ARGV[i * 3 + 1])
  local data = redis.call('HMGET', key, 'tokens', 'ts')
  local tokens = tonumber(data[1]) or burst
  local ts = tonumber(data[2]) or now
  tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
  state[i] = tokens
  local need = 1 + reserve
  if tokens < need then
    wait = math.max(wait, (need - tokens) / rate)
  end
end
if wait > 0 then
  return math.ceil(wait * 1000)
end
for i, key in ipairs(KEYS) do
  redis.call('HSET', key, 'tokens', state[i] - 1, 'ts', now)
  redis.call('EXPIRE', key, 3600)
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


class Limiter:
    """Shared (Redis) or in-process token buckets; ``acquire`` returns seconds to wait (0 = go)."""

    def __init__(self, redis_client: Any | None = None) -> None:
        self._redis = redis_client
        self._script = redis_client.register_script(_LUA) if redis_client is not None else None
        self._lock = threading.Lock()
        self._local: dict[str, tuple[float, float]] = {}

    def acquire(self, buckets: list[Bucket]) -> float:
        """Take a token from every bucket at once, or return how long to wait before trying again."""
        if not buckets:
            return 0.0
        if self._script is not None:
            return self._acquire_redis(buckets)
        return self._acquire_local(buckets)

    def _acquire_redis(self, buckets: list[Bucket]) -> float:
        args: list[float] = [time.time()]
        for b in buckets:
            args.extend((b.rate, b.burst, b.reserve))
        wait_ms = self._script(keys=[f"funrun:rl:{b.key}" for b in buckets], args=args)
        return int(wait_ms) / 1000.0

    def _acquire_local(self, buckets: list[Bucket]) -> float:
        now = time.monotonic()
        with self._lock:
            levels = []
            wait = 0.0
            for b in buckets:
                tokens, ts = self._local.get(b.key, (b.burst, now))
                tokens = min(b.burst, tokens + max(0.0, now - ts) * b.rate)
                levels.append(tokens)
                need = 1 + b.reserve
                if tokens < need:
                    wait = max(wait, (need - tokens) / b.rate)
            if wait > 0:
                return wait
            for b, tokens in zip(buckets, levels, strict=True):
                self._local[b.key] = (tokens - 1, now)
            return 0.0
