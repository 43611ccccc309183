"""The fake Telegram and Fonnte servers (tests/fakes) for the rush, with real limits when asked.

Every accepted send is reported to ``on_sent(channel, chat, text)`` (from the fake's server thread).
With limits on, the fakes answer 429 like the providers: Telegram per chat and overall with
``parameters.retry_after``, Fonnte per device with a ``Retry-After`` header. ``refused`` counts the
429s by the bucket that refused ("chat", "all" or both as "all+chat"; Fonnte "device"): the
provider's answer does not say, the bench needs to.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tests.fakes.fonnte_api import FakeFonnte
from tests.fakes.telegram_api import FakeTelegram, _error

SENDS = {"sendMessage", "sendPhoto", "sendDocument"}
OnSent = Callable[[str, str, str], None]
KEEP = 1000  # the fakes record every call; a rush keeps only the latest (10k runners: ~150k sends)


def _trim(records: list[Any], lock: threading.Lock) -> None:
    if len(records) > 2 * KEEP:
        with lock:
            del records[:-KEEP]


@dataclass
class Limits:
    """Provider limits the fakes enforce (messages per second, burst)."""

    telegram_all: float = 30.0  # Bot API FAQ: about 30 messages per second overall
    telegram_chat: float = 1.0  # ... and about one per second in one chat (short bursts pass)
    telegram_chat_burst: float = 3.0
    fonnte_device: float = 10.0  # an assumption: Fonnte publishes no hard rate, it queues


@dataclass
class _Bucket:
    rate: float
    burst: float
    tokens: float
    at: float

    def refill(self, now: float) -> float:
        """Seconds until a token is free (0: one is there)."""
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


class _Buckets:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[str, _Bucket] = {}

    def take(self, *named: tuple[str, float, float]) -> tuple[float, list[int]]:
        """Take from every (key, rate, burst) bucket, or from none and return the longest wait
        and the positions (in ``named``) of the buckets that refused."""
        now = time.monotonic()
        with self._lock:
            buckets = [self._buckets.setdefault(k, _Bucket(r, b, b, now)) for k, r, b in named]
            waits = [b.refill(now) for b in buckets]
            if max(waits) == 0:
                for bucket in buckets:
                    bucket.tokens -= 1
            return max(waits), [i for i, w in enumerate(waits) if w > 0]


class RushTelegram(FakeTelegram):
    def __init__(self, token: str, on_sent: OnSent, limits: Limits | None) -> None:
        super().__init__(token)
        self.on_sent, self.limits = on_sent, limits
        self.rejected = 0
        self.refused: Counter[str] = Counter()
        self._buckets = _Buckets()

    async def _method(self, request: Request) -> Response:
        method = request.path_params["method"]
        if method not in SENDS:
            return await super()._method(request)
        params, _ = await self._params(request)
        chat = str(params.get("chat_id"))
        if self.limits is not None:
            wait, which = self._buckets.take(
                ("all", self.limits.telegram_all, self.limits.telegram_all),
                (chat, self.limits.telegram_chat, self.limits.telegram_chat_burst),
            )
            if wait > 0:
                self.rejected += 1
                self.refused["+".join(("all", "chat")[i] for i in which)] += 1
                after = max(1, math.ceil(wait))
                return _error(429, f"Too Many Requests: retry after {after}", after)
        response = await super()._method(request)
        _trim(self.calls, self._lock)
        if response.status_code == 200:
            self.on_sent("telegram", chat, str(params.get("text", params.get("caption", ""))))
        return response


class RushFonnte(FakeFonnte):
    def __init__(self, token: str, on_sent: OnSent, limits: Limits | None) -> None:
        super().__init__(token)
        self.on_sent, self.limits = on_sent, limits
        self.rejected = 0
        self.refused: Counter[str] = Counter()
        self._buckets = _Buckets()

    async def _send(self, request: Request) -> Response:
        if self.limits is not None:
            rate = self.limits.fonnte_device
            wait, _ = self._buckets.take(("device", rate, max(1.0, rate)))
            if wait > 0:
                self.rejected += 1
                self.refused["device"] += 1
                headers = {"Retry-After": str(max(1, math.ceil(wait)))}
                body = {"status": False, "reason": "rate limit"}
                return JSONResponse(body, status_code=429, headers=headers)
        params, _, _ = await self._params(request)
        response = await super()._send(request)
        _trim(self.requests, self._lock)
        if response.status_code == 200 and b'"status":true' in bytes(response.body):
            self.on_sent("whatsapp", str(params.get("target", "")), str(params.get("message", "")))
        return response
