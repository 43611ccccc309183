"""Which of an event's WhatsApp numbers a start-link hit goes to: the one with the shortest queue.

A number's load is its messages waiting in the outbox (a snapshot, one grouped query every
SNAPSHOT_SECONDS per process) plus the runners sent to it within the last HIT_WINDOW_SECONDS (they
are about to write, and their replies will queue on that number). A number paused by a 429 is never
chosen while another is not; equal loads take turns. The choice is one Redis script call, atomic
across every API process, so a rush of hits fills the numbers evenly instead of all reading the
same snapshot and picking the same number. Nothing is written to the database.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from core.config import get_settings
from core.db import get_sessionmaker
from core.messaging import outbox

log = logging.getLogger(__name__)

SNAPSHOT_SECONDS = 2.0
SLOT_SECONDS = 10
HIT_WINDOW_SECONDS = 60
SLOTS = HIT_WINDOW_SECONDS // SLOT_SECONDS
# The delivery's 429 pause of a Fonnte number (workers.ratelimit: "funrun:rl:pause:" + "wa:<n>").
PAUSE_KEY = "funrun:rl:pause:wa:{number}"
HITS_KEY = "funrun:go:hits:{number}:{slot}"
TURN_KEY = "funrun:go:turn"

# KEYS: the turn counter, a pause key per number, then SLOTS hit keys per number (current first).
# ARGV: now, number count, SLOTS, the hit keys' TTL, then each number's pending messages.
# Returns the chosen number's index (0-based).
_LUA = """
local now = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local slots = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
local best, live = math.huge, {}
local soonest, soonest_i = math.huge, 1
for i = 1, n do
  local load = tonumber(ARGV[4 + i])
  for s = 1, slots do
    load = load + (tonumber(redis.call('GET', KEYS[1 + n + (i - 1) * slots + s])) or 0)
  end
  local paused = tonumber(redis.call('GET', KEYS[1 + i]))
  if paused and paused > now then
    if paused < soonest then soonest, soonest_i = paused, i end
  elseif load < best then
    best, live = load, {i}
  elseif load == best then
    live[#live + 1] = i
  end
end
local pick = soonest_i
if #live > 0 then
  local turn = redis.call('INCR', KEYS[1])
  pick = live[(turn % #live) + 1]
end
local key = KEYS[1 + n + (pick - 1) * slots + 1]
redis.call('INCR', key)
redis.call('EXPIRE', key, ttl)
return pick - 1
"""


class Chooser:
    """Picks a number per hit; Redis-shared when a client is given, else in this process only."""

    def __init__(
        self,
        redis_client: Any | None,
        pending: Callable[[], dict[str, int]],
        *,
        snapshot_seconds: float = SNAPSHOT_SECONDS,
    ) -> None:
        self._redis = redis_client
        self._script = redis_client.register_script(_LUA) if redis_client is not None else None
        self._pending = pending
        self._snapshot_seconds = snapshot_seconds
        self._lock = threading.Lock()
        self._refreshing = threading.Lock()
        self._snapshot: dict[str, int] = {}
        self._taken_at = -math.inf
        self._local_hits: dict[str, list[float]] = {}  # without Redis: monotonic times of hits
        self._turn = 0

    def choose(self, numbers: Sequence[str]) -> str:
        """The number the next runner should write to (``numbers`` not empty)."""
        if len(numbers) == 1:
            return numbers[0]
        pending = self.pending()
        loads = [pending.get(n, 0) for n in numbers]
        if self._script is not None:
            try:
                return numbers[self._choose_redis(numbers, loads)]
            except Exception:  # noqa: BLE001  (Redis down: still spread, per process)
                log.warning("start-link chooser: Redis unavailable, choosing in this process")
        return self._choose_local(numbers, loads)

    def pending(self) -> dict[str, int]:
        """The outbox snapshot; one thread refreshes it when stale while the others use the old one."""
        if time.monotonic() - self._taken_at < self._snapshot_seconds:
            return self._snapshot
        if self._refreshing.acquire(blocking=False):
            try:
                self._snapshot = self._pending()
            except Exception:  # noqa: BLE001  (keep the last snapshot; hits still spread)
                log.warning("start-link chooser: outbox snapshot failed", exc_info=True)
            finally:
                self._taken_at = time.monotonic()
                self._refreshing.release()
        return self._snapshot

    def recent(self, numbers: Sequence[str]) -> dict[str, tuple[int, float]]:
        """Per number: runners sent to it within HIT_WINDOW_SECONDS, and seconds left paused."""
        if self._redis is None:
            with self._lock:
                return {n: (self._local_recent(n, time.monotonic()), 0.0) for n in numbers}
        now = time.time()
        pauses = [PAUSE_KEY.format(number=n) for n in numbers]
        values = [float(v or 0) for v in self._redis.mget(pauses + _hit_keys(numbers, now))]
        paused, hits = values[: len(numbers)], values[len(numbers) :]
        return {
            n: (int(sum(hits[i * SLOTS : (i + 1) * SLOTS])), max(0.0, paused[i] - now))
            for i, n in enumerate(numbers)
        }

    def _choose_redis(self, numbers: Sequence[str], loads: list[int]) -> int:
        now = time.time()
        keys = [TURN_KEY, *(PAUSE_KEY.format(number=n) for n in numbers), *_hit_keys(numbers, now)]
        ttl = HIT_WINDOW_SECONDS + SLOT_SECONDS
        return int(self._script(keys=keys, args=[now, len(numbers), SLOTS, ttl, *loads]))

    def _choose_local(self, numbers: Sequence[str], loads: list[int]) -> str:
        now = time.monotonic()
        with self._lock:
            totals = [
                load + self._local_recent(n, now) for n, load in zip(numbers, loads, strict=True)
            ]
            tied = [i for i, total in enumerate(totals) if total == min(totals)]
            self._turn += 1
            pick = numbers[tied[self._turn % len(tied)]]
            self._local_hits.setdefault(pick, []).append(now)
            return pick

    def _local_recent(self, number: str, now: float) -> int:
        """Hits on ``number`` within the window (dropping older ones); call with the lock held."""
        hits = [at for at in self._local_hits.get(number, []) if now - at < HIT_WINDOW_SECONDS]
        self._local_hits[number] = hits
        return len(hits)


def _hit_keys(numbers: Sequence[str], now: float) -> list[str]:
    """SLOTS counters per number, the current slot first."""
    slot = int(now // SLOT_SECONDS)
    return [HITS_KEY.format(number=n, slot=slot - s) for n in numbers for s in range(SLOTS)]


def pending_from_database() -> dict[str, int]:
    with get_sessionmaker()() as session:
        return outbox.pending_by_device(session)


_chooser: list[Chooser] = []
_chooser_lock = threading.Lock()


def chooser() -> Chooser:
    """This process's chooser (Redis-shared when REDIS_URL is set)."""
    with _chooser_lock:
        if not _chooser:
            url = get_settings().redis_url
            client = None
            if url:
                import redis

                client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
            _chooser.append(Chooser(client, pending_from_database))
        return _chooser[0]


def choose_number(numbers: Sequence[str]) -> str:
    """The event number a start-link hit is sent to (README "Numbers per event")."""
    return chooser().choose(numbers)


def recent_by_number(numbers: Sequence[str]) -> dict[str, tuple[int, float]]:
    """For the operations page: runners each number got in the last minute, and its pause left."""
    try:
        return chooser().recent(numbers)
    except Exception:  # noqa: BLE001  (Redis down: the page still shows the queues)
        log.warning("start-link chooser: Redis unavailable for the operations page")
        return {}
