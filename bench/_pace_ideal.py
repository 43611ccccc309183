"""What our own queues add to a send: every sent row against an ideal sender at our own ceilings.

In limited mode a reply waits for the provider's limit; the question the rush has to answer is how
much longer than that it waits because of us (claims, the pacer, a drain queued behind another).
The ideal sender knows every row the moment it is written (``created_at``) and sends it as early
as the limits our code declares allow (workers/delivery.buckets_for for a reply: the bot's or
device's ceiling and the chat's bucket, with their bursts), earliest-eligible first and each chat
in order. ``sent_at - ideal`` per row is what our queues added. It can be negative by a few
milliseconds (sent_at is taken after the provider's answer, the ideal at the same clock) or more
when our order differed from the ideal's; the percentiles show both.
"""

from __future__ import annotations

import heapq
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from core.config import Settings
from core.messages import CALLBACK_ANSWER

Key = tuple[str, str]  # (pace key: "tg" or "wa:<device>", recipient)


@dataclass(frozen=True)
class Row:
    id: int
    channel: str
    recipient: str
    kind: str
    device: str
    created: float  # epoch seconds
    sent: float


@dataclass(frozen=True)
class Limit:
    rate: float
    burst: float


@dataclass(frozen=True)
class Pace:
    ceiling: Limit
    chat: Limit


def paces(env: Mapping[str, str]) -> dict[str, Pace]:
    """The ceilings our processes ran with (their environment over the settings' defaults)."""
    fields = Settings.model_fields

    def value(name: str) -> float:
        return float(env.get(name.upper(), fields[name].default))

    telegram = value("telegram_max_per_second")
    fonnte = max(value("fonnte_device_max_per_second"), value("fonnte_max_per_second"))
    return {
        "telegram": _pace(telegram, value("telegram_chat_max_per_second")),
        "whatsapp": _pace(fonnte, value("fonnte_chat_max_per_second")),
    }


def _pace(ceiling: float, chat: float) -> Pace:
    # The bursts buckets_for gives the ceiling and chat buckets.
    return Pace(Limit(ceiling, max(1.0, ceiling)), Limit(chat, max(3.0, chat)))


class _Bucket:
    def __init__(self, limit: Limit) -> None:
        self.limit, self.tokens, self.at = limit, limit.burst, float("-inf")

    def free_at(self, now: float) -> float:
        """The first moment from ``now`` on that a token is there."""
        tokens = self._level(now)
        return now if tokens >= 1 else now + (1 - tokens) / self.limit.rate

    def take(self, now: float) -> None:
        self.tokens, self.at = self._level(now) - 1, now

    def _level(self, now: float) -> float:
        if self.at == float("-inf"):
            return self.limit.burst
        return min(self.limit.burst, self.tokens + (now - self.at) * self.limit.rate)


def ideal_times(rows: Iterable[Row], pace: Pace) -> dict[int, float]:
    """The ideal send time of each row of one bot or device (see the module's docstring)."""
    chats: dict[str, deque[Row]] = defaultdict(deque)
    for row in sorted(rows, key=lambda r: r.id):  # ids are a chat's order
        chats[row.recipient].append(row)
    ceiling = _Bucket(pace.ceiling)
    chat_buckets = {chat: _Bucket(pace.chat) for chat in chats}
    heap = [(queue[0].created, queue[0].id, chat) for chat, queue in chats.items()]
    heapq.heapify(heap)
    out: dict[int, float] = {}
    now = float("-inf")
    while heap:
        eligible, row_id, chat = heapq.heappop(heap)
        now = ceiling.free_at(max(now, eligible))
        ceiling.take(now)
        chat_buckets[chat].take(now)
        out[row_id] = now
        queue = chats[chat]
        queue.popleft()
        if queue:
            nxt = queue[0]
            heapq.heappush(heap, (chat_buckets[chat].free_at(max(now, nxt.created)), nxt.id, chat))
    return out


def added(rows: list[Row], env: Mapping[str, str]) -> dict[str, list[float]]:
    """Per channel, ``sent - ideal`` in seconds of every paced row (callback answers are not)."""
    by_key: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        if row.kind == CALLBACK_ANSWER or row.channel not in ("telegram", "whatsapp"):
            continue
        by_key[row.channel if row.channel == "telegram" else f"wa:{row.device}"].append(row)
    limits = paces(env)
    out: dict[str, list[float]] = defaultdict(list)
    for key, group in by_key.items():
        channel = "telegram" if key == "telegram" else "whatsapp"
        ideal = ideal_times(group, limits[channel])
        out[channel] += [row.sent - ideal[row.id] for row in group]
    return dict(out)


def sent_rows() -> list[Row]:
    """Every sent row of the rush's database."""
    from sqlalchemy import select

    from core.db import get_sessionmaker
    from core.models import OutboundMessage as M

    query = select(M.id, M.channel, M.recipient, M.kind, M.extra, M.created_at, M.sent_at).where(
        M.status == "sent", M.sent_at.is_not(None)
    )
    with get_sessionmaker()() as session:
        return [
            Row(id_, ch, rcpt, kind, str((extra or {}).get("device") or ""), _ts(c), _ts(s))
            for id_, ch, rcpt, kind, extra, c, s in session.execute(query)
        ]


def _ts(at: datetime) -> float:
    return at.timestamp()
