"""The outbox dispatcher (queue `notifications`): sends each recipient's messages in id order.

One actor message drains one recipient's queue. A row is claimed in a short transaction, sent with
no transaction open, and its provider id is committed before the next row (or the ack). A crash
between the send and that commit leaves the row claimed; after outbox.CLAIM_LEASE it counts as
"unknown whether accepted" and is sent again: at-least-once, never for a row already `sent`.
A row whose rate-limit slot is reserved a little later goes, with the rest of its batch, to this
process's pacer (workers/pacer.py, _Paced): still claimed, sent at its slot, no thread asleep.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import dramatiq
import httpx
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from channels.fonnte import outbound as fonnte_out
from channels.outbound import CALLBACK_ANSWER, deliver, new_client
from core.config import Settings, get_settings
from core.db import UnitOfWork, is_postgres, one_statement, unit_of_work, utcnow
from core.enums import Channel, OutboundStatus
from core.errors import (
    ChannelError,
    ChannelOutsideWindow,
    ChannelPermanent,
    ChannelRateLimited,
    ChannelStopped,
)
from core.i18n import t
from core.messages import Reply
from core.messaging import outbox, receipts
from core.models import Conversation, OutboundMessage
from workers import redelivery, whatsapp
from workers.broker import broker
from workers.pacer import StopPacer, pacer
from workers.ratelimit import Bucket, Buckets, Limiter, Pace

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
MAX_BACKOFF_SECONDS = 600
DRAIN_BUDGET = 20  # messages per actor run; then a fresh actor message continues
DRAIN_SECONDS = 45.0

BATCH = 10  # rows claimed per transaction for one recipient

_state_lock = threading.Lock()
_state: dict[str, Any] = {}
_pace = Pace(recover_seconds=get_settings().pace_recover_seconds)
broker.add_middleware(StopPacer())  # a worker shutting down hands the pacer's rows back


def http_client() -> httpx.Client:
    with _state_lock:
        if "client" not in _state:
            _state["client"] = new_client()
        return _state["client"]


def _limiter() -> Limiter:
    """A Redis-shared limiter when REDIS_URL is set (several worker processes), else in-process."""
    with _state_lock:
        if "limiter" not in _state:
            url = get_settings().redis_url
            if url:
                import redis

                _state["limiter"] = Limiter(redis.Redis.from_url(url))
            else:
                _state["limiter"] = Limiter()
            _state["local_limiter"] = Limiter()
        return _state["limiter"]


def _reserve(buckets: Buckets, pause_keys: tuple[str, ...], max_wait: float) -> tuple[float, bool]:
    try:
        return _limiter().reserve(buckets, pause_keys=pause_keys, max_wait=max_wait)
    except Exception:  # noqa: BLE001  (Redis down: keep sending, limited per process)
        log.warning("shared rate limiter unavailable; using the in-process one")
        return _state["local_limiter"].reserve(buckets, pause_keys=pause_keys, max_wait=max_wait)


def _pause(key: str, seconds: float) -> None:
    try:
        _limiter().pause(key, seconds)
    except Exception:  # noqa: BLE001
        _state["local_limiter"].pause(key, seconds)


# A Telegram 429 with at least this share of the bot's ceiling bucket left was the chat's limit.
CHAT_429_ROOM = 1 / 3


def _provider_limited(settings: Settings, row: OutboundMessage, retry_after: float) -> None:
    """A 429: pause whoever hit the limit for retry_after, everywhere.

    Telegram's 429 does not say which limit it was. When the bot's ceiling bucket still had
    plenty of room, our sends cannot have reached the bot-wide limit: it was this chat's, and only
    this chat waits. Otherwise (and for Fonnte, whose limit is the device's) the bot or device is
    paused and its pace here halved.
    """
    key = _pause_key(row)
    if not key:
        return
    if row.channel == Channel.TELEGRAM and _ceiling_had_room(settings, row):
        log.info("%s rate limited one chat: that chat paused %ss", key, retry_after)
        _pause(_chat_pause_key(row), retry_after)
        return
    factor = _pace.slow_down(key)
    log.info("%s rate limited: paused %ss, pace now %.0f%%", key, retry_after, factor * 100)
    _pause(key, retry_after)


def _ceiling_had_room(settings: Settings, row: OutboundMessage) -> bool:
    ceiling = buckets_for(settings, row).ceiling
    if ceiling is None:
        return False
    try:
        level = _limiter().level(ceiling)
    except Exception:  # noqa: BLE001  (no shared view: assume the bot's limit, the safe side)
        return False
    return level >= ceiling.burst * CHAT_429_ROOM


def buckets_for(settings: Settings, row: OutboundMessage, now: datetime | None = None) -> Buckets:
    """The limits one message counts against (README "Sending pace"): overall, chat, ceiling.

    A reply to a runner who just wrote waits on its chat's bucket and the bot's (device's)
    ceiling, and is charged to the provider-wide one; notifications (e-tickets) wait on the
    provider-wide bucket; reminders and broadcasts also leave it a reserve, so they go last. Every
    message takes from the ceiling, so all of them together stay under the provider's limit. The
    overall and ceiling rates follow _pace.
    """
    kind = _urgency(settings, row, now or utcnow())
    if row.channel == Channel.TELEGRAM and row.kind != CALLBACK_ANSWER:
        key = "tg"
        rate = ceiling = settings.telegram_max_per_second * _pace.factor(key)
        chat_rate = settings.telegram_chat_max_per_second
    elif row.channel == Channel.WHATSAPP:
        key = _pause_key(row)  # each Fonnte device (number) has its own pace
        factor = _pace.factor(key)
        rate = settings.fonnte_max_per_second * factor
        ceiling = max(settings.fonnte_device_max_per_second, settings.fonnte_max_per_second)
        ceiling *= factor
        chat_rate = settings.fonnte_chat_max_per_second
    elif row.channel == Channel.WHATSAPP_CLOUD:
        return whatsapp.buckets(settings, row, bulk=kind == "bulk")
    else:
        return Buckets()
    reserve = max(1.0, rate * 0.2) if kind == "bulk" else 0.0
    return Buckets(
        overall=Bucket(f"{key}:all", rate, max(rate, 1 + reserve), reserve, charge=kind == "reply"),
        chat=Bucket(f"{key}:chat:{row.recipient}", chat_rate, max(3.0, chat_rate)),
        ceiling=Bucket(f"{key}:ceiling", ceiling, max(1.0, ceiling)),
    )


def _urgency(settings: Settings, row: OutboundMessage, now: datetime) -> str:
    if row.priority >= outbox.PRIORITY_REMINDER:
        return "bulk"
    window = timedelta(seconds=settings.pace_reply_window_seconds)
    if row.priority == outbox.PRIORITY_REPLY and row.created_at and now - row.created_at < window:
        return "reply"
    return "notification"


def _pause_key(row: OutboundMessage) -> str:
    """The bot (Telegram) or device (Fonnte) a 429 pauses."""
    keys = {
        Channel.TELEGRAM.value: "tg",
        Channel.WHATSAPP.value: "wa",
        Channel.WHATSAPP_CLOUD.value: "wac",
    }
    key = keys.get(str(row.channel), "")
    device = (row.extra or {}).get("device") if key == "wa" else None
    return f"wa:{device}" if device else key


def _chat_pause_key(row: OutboundMessage) -> str:
    """The one chat a per-chat 429 pauses."""
    return f"{_pause_key(row)}:chat:{row.recipient}"


def _pause_keys(row: OutboundMessage) -> tuple[str, ...]:
    """The pauses a row waits on: its bot's (device's) and its own chat's."""
    key = _pause_key(row)
    if key in ("", "wac"):
        return (key,) if key else ()
    return key, _chat_pause_key(row)


@dramatiq.actor(queue_name="notifications", broker=broker, priority=0, max_retries=20)
def deliver_chat(outbound_id: int | str, legacy_recipient: str | None = None) -> None:
    """Send the pending messages (replies and notifications) of ``outbound_id``'s recipient.

    The queue message names an outbox row, never the recipient: phone numbers and email addresses
    stay out of Redis and of Dramatiq's logs. (channel, recipient) messages queued by an older
    release are still accepted.
    """
    _drain_recipient_of(outbound_id, legacy_recipient)


@dramatiq.actor(queue_name="notifications", broker=broker, priority=50, max_retries=20)
def deliver_chat_bulk(outbound_id: int | str, legacy_recipient: str | None = None) -> None:
    """Same as deliver_chat for reminders and broadcasts (workers pick it after replies)."""
    _drain_recipient_of(outbound_id, legacy_recipient)


def _drain_recipient_of(outbound_id: int | str, legacy_recipient: str | None) -> None:
    if legacy_recipient is not None:
        drain(str(outbound_id), legacy_recipient)
        return
    drain_of(int(outbound_id))


def _row_of(channel: str, recipient: str) -> int | None:
    with unit_of_work() as uow:
        return uow.session.scalar(
            select(func.max(OutboundMessage.id)).where(
                OutboundMessage.channel == channel, OutboundMessage.recipient == recipient
            )
        )


def enqueue(
    channel: str,
    recipient: str,
    *,
    priority: int = 0,
    delay: float = 0.0,
    outbound_id: int | None = None,
) -> None:
    """Schedule a drain of one recipient; a broker failure is logged (the sweeper catches up).

    ``outbound_id`` is any of the recipient's outbox rows (looked up when not given).
    """
    actor = deliver_chat_bulk if priority >= outbox.PRIORITY_REMINDER else deliver_chat
    options = {"delay": int(delay * 1000)} if delay > 0 else {}
    try:
        row_id = outbound_id if outbound_id is not None else _row_of(channel, recipient)
        if row_id is not None:
            send = partial(actor.send_with_options, args=(row_id,), **options)
            try:
                send()
            except Exception:  # noqa: BLE001
                redelivery.later(("delivery", channel, recipient), send)
                raise
    except Exception:  # noqa: BLE001
        log.warning("could not enqueue delivery for a %s recipient; retrying", channel)


INLINE_BUDGET = 10  # rows the conversation worker sends itself after its commit; then the queue


Target = tuple[str, str]  # (channel, recipient)


def deliver_after_commit(
    uow: UnitOfWork,
    rows: Iterable[OutboundMessage],
    *,
    inline: bool = False,
    fresh: Iterable[OutboundMessage] = (),
) -> None:
    """Deliver ``rows`` once ``uow`` commits (simulator rows are marked sent now).

    By default a deliver_chat message is queued per recipient. ``inline`` (the conversation
    worker's replies) drains those recipients in this thread right after the commit instead,
    saving a queue hop and a job per reply: the same claims, pacing and retries as deliver_chat,
    which still takes over whatever is left (a rate-limit wait, a retry, more than INLINE_BUDGET).
    ``fresh``: those of ``rows`` this transaction inserted; inline, they are claimed in it
    (outbox.claim_written), so their send after the commit skips a claim transaction.
    """
    targets: dict[Target, tuple[int, int]] = {}  # -> (best priority, a row id)
    now = utcnow()
    for row in rows:
        if row.channel == Channel.SIMULATOR:
            if row.status == OutboundStatus.PENDING:
                outbox.mark_sent(
                    uow.session, outbound_id=row.id, provider_message_id=f"sim:{row.id}", now=now
                )
            continue
        key = (row.channel, row.recipient)
        best = targets.get(key, (row.priority, row.id))[0]
        targets[key] = (min(row.priority, best), row.id)
    if not targets:
        return
    if not inline:
        uow.on_commit(partial(_enqueue_all, targets))
        return
    claimed = _claim_fresh(uow.session, fresh, now)
    uow.on_commit(partial(_deliver_now, targets, claimed))


def _claim_fresh(
    session: Session, rows: Iterable[OutboundMessage], now: datetime
) -> dict[Target, list[OutboundMessage]]:
    """Claim, per recipient, the replies this transaction wrote (when nothing older waits).

    On PostgreSQL their INSERT claimed them already (outbox.write's ``claim_at``): the SENDING rows
    are this transaction's claims, a pending remainder goes through claim_batch after them.
    """
    by_target: dict[Target, list[OutboundMessage]] = {}
    for row in rows:
        if outbox.claimable_on_write(row.channel, row.priority, row.extra):
            by_target.setdefault((row.channel, row.recipient), []).append(row)
    claim_after = not is_postgres(session)
    claimed = {}
    for target, batch in by_target.items():
        batch.sort(key=lambda r: r.id)
        done = [r for r in batch if r.status == OutboundStatus.SENDING]
        if done:
            claimed[target] = done
        elif claim_after and outbox.claim_written(session, batch, now=now):
            claimed[target] = batch
    return claimed


def _enqueue_all(targets: dict[Target, tuple[int, int]]) -> None:
    for (channel, recipient), (priority, row_id) in targets.items():
        enqueue(channel, recipient, priority=priority, outbound_id=row_id)


def _deliver_now(
    targets: dict[Target, tuple[int, int]], claimed: dict[Target, list[OutboundMessage]]
) -> None:
    for target, (priority, row_id) in targets.items():
        channel, recipient = target
        if priority >= outbox.PRIORITY_REMINDER:  # bulk rows wait behind replies: the bulk queue
            enqueue(channel, recipient, priority=priority, outbound_id=row_id)
            continue
        try:
            _drain(target, None, INLINE_BUDGET, first=claimed.get(target))
        except Exception:  # noqa: BLE001  (database trouble: the queue retries, the sweeper too)
            log.warning("inline delivery to a %s recipient failed; queued instead", channel)
            enqueue(channel, recipient, priority=priority, outbound_id=row_id)


def drain(channel: str, recipient: str, *, budget: int = DRAIN_BUDGET) -> None:
    """Send the recipient's due messages in id order, within the rate limits.

    Rows are claimed up to BATCH at a time (one transaction); each is committed as sent right after
    the provider accepts it. Claimed rows not sent (a rate-limit wait) are handed back.
    """
    _drain((channel, recipient), None, budget)


def drain_of(outbound_id: int, *, budget: int = DRAIN_BUDGET) -> None:
    """drain() for the recipient of outbox row ``outbound_id`` (read in the first claim's transaction)."""
    _drain(None, outbound_id, budget)


def _drain(
    target: Target | None,
    outbound_id: int | None,
    budget: int,
    *,
    first: list[OutboundMessage] | None = None,
) -> None:
    """``first``: the target's rows claimed already (claim_written), sent before any claim."""
    settings = get_settings()
    started = time.monotonic()
    sent = 0
    last_id: int | None = None
    while sent < budget:
        limit = min(BATCH, budget - sent)
        if first is not None and target is not None:
            # All of the recipient's open rows when claimed: after the last, ask for more.
            if target[0] == Channel.WHATSAPP:
                _note_device(first, None)
            claim: tuple[Target, outbox.Claim | list[OutboundMessage]] | None = (target, first)
            limit, first = len(first) + 1, None
        else:
            claim = _claim(target, outbound_id, limit=limit)
        if claim is None:
            return  # the row named by the queue message is gone (erased)
        target, claimed = claim
        channel, recipient = target
        if isinstance(claimed, outbox.Claim):
            _check_back(channel, recipient, claimed)
            return  # empty, another worker is sending, or a scheduled retry will wake it
        with _holding(claimed):
            for n, row in enumerate(claimed):
                # The batch's last row (not a full batch) asks, as it is marked sent, whether
                # anything was queued meanwhile: when not, no further claim transaction is needed.
                last = n == len(claimed) - 1 and len(claimed) < limit
                if not _paced_send(settings, row, claimed[n + 1 :], last=last):
                    return
                sent, last_id = sent + 1, row.id
        if time.monotonic() - started > DRAIN_SECONDS:
            break
    if target is not None:  # the budget or the time is used up: a fresh actor message goes on
        enqueue(*target, outbound_id=last_id)


def _claim(
    target: tuple[str, str] | None, outbound_id: int | None, *, limit: int
) -> tuple[tuple[str, str], outbox.Claim | list[OutboundMessage]] | None:
    """One transaction: the recipient (of ``outbound_id`` when no target), its batch, its device."""
    device = None
    with unit_of_work() as uow:
        session = uow.session
        if target is None:
            found = session.execute(
                select(OutboundMessage.channel, OutboundMessage.recipient).where(
                    OutboundMessage.id == outbound_id
                )
            ).first()
            if found is None:
                return None
            target = (str(found[0]), str(found[1]))
        channel, recipient = target
        claimed = outbox.claim_batch(
            session, channel=channel, recipient=recipient, now=utcnow(), limit=limit
        )
        if isinstance(claimed, list) and channel == Channel.WHATSAPP:
            device = _device_lookup(session, claimed, recipient)
    if isinstance(claimed, list) and channel == Channel.WHATSAPP:
        _note_device(claimed, device)
    return target, claimed


def _note_device(rows: list[OutboundMessage], device: str | None) -> None:
    """Fonnte: the number the runner wrote to, noted on each claimed row (in memory only);
    "" (the default device) as if never noted."""
    for row in rows:
        extra = dict(row.extra or {})
        noted = extra.pop("device", None) or device
        row.extra = {**extra, "device": noted} if noted else extra


_DEVICE = select(Conversation.device).where(
    Conversation.channel == Channel.WHATSAPP.value, Conversation.chat_id == bindparam("chat_id")
)


def _device_lookup(session: Session, rows: list[OutboundMessage], recipient: str) -> str | None:
    """The chat's device, for rows written without it (outbox.write notes it on the chat's own)."""
    if all("device" in (row.extra or {}) for row in rows):
        return None
    return session.scalar(_DEVICE, {"chat_id": recipient})


def _check_back(channel: str, recipient: str, claim: outbox.Claim) -> None:
    """Another sender holds the head: look again when its lease ends, in case it died."""
    if claim.busy and claim.lease_ends is not None:
        wait = max(0.0, (claim.lease_ends - utcnow()).total_seconds()) + 0.5
        enqueue(channel, recipient, delay=wait)


# Rows this process has claimed and not yet settled; a thread keeps their leases fresh, so a
# kill -9 lets them go CLAIM_LEASE later while a slow live send never loses its claim.
RENEW_EVERY = outbox.CLAIM_LEASE.total_seconds() / 4
_held: dict[int, int] = {}  # row id -> number of drains holding it (normally 1)
_held_lock = threading.Lock()
_renewer: threading.Thread | None = None


@contextmanager
def _holding(rows: list[OutboundMessage]) -> Iterator[None]:
    ids = [r.id for r in rows]
    _hold(ids)
    try:
        yield
    finally:
        _unhold(ids)


def _hold(ids: list[int]) -> None:
    global _renewer
    with _held_lock:
        for row_id in ids:
            _held[row_id] = _held.get(row_id, 0) + 1
        if _renewer is None or not _renewer.is_alive():
            _renewer = threading.Thread(target=_renew_loop, name="claim-renewer", daemon=True)
            _renewer.start()


def _unhold(ids: list[int]) -> None:
    with _held_lock:
        for row_id in ids:
            if _held.get(row_id, 0) <= 1:
                _held.pop(row_id, None)
            else:
                _held[row_id] -= 1


def _renew_loop() -> None:
    while True:
        time.sleep(RENEW_EVERY)
        with _held_lock:
            ids = list(_held)
        if not ids:
            continue
        try:
            with unit_of_work() as uow:
                outbox.renew_claims(uow.session, outbound_ids=ids, now=utcnow())
        except Exception as exc:  # noqa: BLE001  (database away: the leases may lapse)
            log.warning("could not renew outbox claims: %s", type(exc).__name__)


def device_of(row: OutboundMessage) -> str:
    """The Fonnte number a row goes out from ("" = the default FONNTE_TOKEN device)."""
    return str((row.extra or {}).get("device") or "")


def unconfigured(settings: Settings, row: OutboundMessage) -> str | None:
    """Why ``row`` cannot be sent at all (its channel has no token): failed once, not retried."""
    if row.channel == Channel.TELEGRAM and not settings.telegram_bot_token:
        return "not sent: Telegram is not configured (TELEGRAM_BOT_TOKEN is empty)"
    if row.channel == Channel.WHATSAPP and not fonnte_out.device_token(settings, device_of(row)):
        return "not sent: WhatsApp (Fonnte) is not configured (FONNTE_TOKEN is empty)"
    if row.channel == Channel.WHATSAPP_CLOUD and not (
        settings.whatsapp_token and settings.whatsapp_phone_number_id
    ):
        return "not sent: WhatsApp Cloud API is not configured (WHATSAPP_TOKEN, WHATSAPP_PHONE_NUMBER_ID)"
    return None


def _paced_send(
    settings: Settings,
    row: OutboundMessage,
    rest: list[OutboundMessage],
    *,
    last: bool = False,
) -> bool:
    """Send the row within its rate limits (or hand it and ``rest`` on); False to stop the drain.

    A slot due within _horizon is reserved; when it is in the future, the row
    and ``rest`` (still claimed) go to the pacer, which sends them at their due time: the worker
    thread never sleeps on a pace. A longer wait hands the rows back for a delayed drain.
    ``last``: see _send_one.
    """
    wait, taken = _take_slot(settings, row)
    if not taken:
        _wait_longer(settings, row, [row, *rest], wait)
        return False
    if wait > 0:
        job = _Paced(settings, [row, *rest], last=last)
        if not pacer.submit(wait, job):
            job.drop(wake=False)  # this process is stopping: a fresh drain takes the slot
            enqueue(
                row.channel, row.recipient, priority=row.priority, delay=wait, outbound_id=row.id
            )
        return False
    if _send_one(settings, row, last=last):
        return True
    _release(rest)
    return False


def _take_slot(settings: Settings, row: OutboundMessage) -> tuple[float, bool]:
    """Reserve ``row``'s slot within its horizon: (wait, taken), as Limiter.reserve."""
    return _reserve(buckets_for(settings, row), _pause_keys(row), _horizon(settings, row))


def _horizon(settings: Settings, row: OutboundMessage) -> float:
    """How far ahead ``row``'s slot may be reserved (the pacer then sends it at its time).

    Replies and notifications up to PACE_HOLD_SECONDS: reserved slots go in arrival order, where a
    chat handed back to the queue again and again could starve behind newcomers. Reminders and
    broadcasts only PACE_SLEEP_SECONDS, so they never book the slots later replies need.
    """
    if _urgency(settings, row, utcnow()) == "bulk":
        return settings.pace_sleep_seconds
    return max(settings.pace_sleep_seconds, settings.pace_hold_seconds)


def _wait_longer(
    settings: Settings, row: OutboundMessage, rows: list[OutboundMessage], wait: float
) -> None:
    """A wait too long to reserve: hand ``rows`` back, tell the chat if long, drain after ``wait``."""
    _release(rows)
    try:
        _tell_wait(settings, row)
    except Exception:  # noqa: BLE001  (a notice is a courtesy: it never holds up the queue)
        log.exception("outbound %s: wait notice failed", row.id)
    enqueue(row.channel, row.recipient, priority=row.priority, delay=wait, outbound_id=row.id)


class _Paced:
    """A chat's claimed rows the pacer sends in id order; the first one's slot is reserved.

    The rows stay claimed and in _held (the renewer keeps their leases), so a drain of the same
    chat meanwhile finds its head busy and cannot overtake them. Each later row is reserved as the
    one before it is sent, with the same rules as a drain; when the batch is sent and the chat has
    more, a fresh drain goes on.
    """

    def __init__(self, settings: Settings, rows: list[OutboundMessage], *, last: bool) -> None:
        self.settings = settings
        self.rows = list(rows)
        self.last = last  # the batch's last row ends the drain unless more was queued
        _hold([r.id for r in self.rows])

    def run(self) -> float | None:
        while self.rows:
            row = self.rows.pop(0)
            try:
                more = _send_one(self.settings, row, last=self.last and not self.rows)
            finally:
                _unhold([row.id])
            if not more:  # a retry or a pause took over (it enqueued its drain)
                self.drop(wake=False)
                return None
            if not self.rows:  # the batch is sent: the chat's next rows, in a fresh drain
                enqueue(row.channel, row.recipient, priority=row.priority, outbound_id=row.id)
                return None
            head = self.rows[0]
            wait, taken = _take_slot(self.settings, head)
            if not taken:
                _wait_longer(self.settings, head, self.rows, wait)
                self._forget()
                return None
            if wait > 0:
                return wait
        return None

    def drop(self, *, wake: bool = True) -> None:
        """Hand the unsent rows back (claimed -> pending) and, with ``wake``, drain them again."""
        rows, head = self.rows, self.rows[0] if self.rows else None
        try:
            _release(rows)
        finally:
            self._forget()
        if wake and head is not None:
            enqueue(head.channel, head.recipient, priority=head.priority, outbound_id=head.id)

    def _forget(self) -> None:
        _unhold([r.id for r in self.rows])
        self.rows = []


WAIT_NOTICE = "wait_notice"


def wait_estimate(settings: Settings, row: OutboundMessage) -> float:
    """Seconds until ``row`` goes out: the rows ahead of it on each bucket it waits on, / pace."""
    buckets = buckets_for(settings, row)
    chat = buckets.chat
    waited = [b for b in buckets if not b.charge and b.rate > 0]
    if not waited:
        return 0.0
    with unit_of_work() as uow:
        ahead = (
            select(func.count())
            .select_from(OutboundMessage)
            .where(
                OutboundMessage.channel == row.channel,
                OutboundMessage.status.in_(
                    [OutboundStatus.PENDING.value, OutboundStatus.SENDING.value]
                ),
                OutboundMessage.id < row.id,
                OutboundMessage.priority <= row.priority,
            )
        )
        in_chat = uow.session.scalar(ahead.where(OutboundMessage.recipient == row.recipient)) or 0
        on_bucket = uow.session.scalar(_same_device(ahead, row)) or 0
    wide = [b.rate for b in waited if b is not chat]  # the bot's or device's buckets
    chat_rate = chat.rate if chat in waited and chat is not None else min(wide)
    return max((on_bucket + 1) / min(wide or [chat_rate]), (in_chat + 1) / chat_rate)


def _same_device(query: Any, row: OutboundMessage) -> Any:
    """Fonnte: only the rows going out from the same number share its pace."""
    if row.channel != Channel.WHATSAPP:
        return query
    device = device_of(row) or None
    return query.join(
        Conversation,
        (Conversation.channel == OutboundMessage.channel)
        & (Conversation.chat_id == OutboundMessage.recipient),
        isouter=True,
    ).where(Conversation.device == device if device else Conversation.device.is_(None))


def _tell_wait(settings: Settings, row: OutboundMessage) -> None:
    """Honest waiting: a chat held back by pacing for long is told about how long, once per wait."""
    if row.kind == WAIT_NOTICE or _urgency(settings, row, utcnow()) == "bulk":
        return
    if _told_already(row):  # this wait's notice went out: skip the estimate's two counts
        return
    seconds = wait_estimate(settings, row)
    if seconds < settings.pace_wait_notice_seconds or not _first_notice(row, seconds):
        return
    key = "pacing.ticket_wait" if row.kind == "ticket" else "pacing.reply_wait"
    language = str((row.extra or {}).get("lang") or settings.default_language)
    text = t(key, language, minutes=max(1, round(seconds / 60)))
    with unit_of_work() as uow:
        notice = outbox.write(
            uow.session, channel=row.channel, recipient=row.recipient,
            reply=Reply(text=text, kind=WAIT_NOTICE), idempotency_key=f"wait:{row.id}",
            conversation_id=row.conversation_id,
        )  # fmt: skip
        same_number = {"device": device_of(row)} if device_of(row) else {}
        notice.extra = {**notice.extra, "lang": language, **same_number}
        notice.status, notice.claimed_at = OutboundStatus.SENDING.value, utcnow()  # claimed: ours
    # Out of the chat's id order on purpose: the notice is about the rows it would queue behind.
    _send_one(settings, notice)


def _notice_key(row: OutboundMessage) -> str:
    return f"funrun:wait-notice:{row.channel}:{row.recipient}"


def _told_already(row: OutboundMessage) -> bool:
    """Whether the chat's current wait was already announced (the flag _first_notice sets)."""
    key = _notice_key(row)
    try:
        client = _limiter()._redis  # noqa: SLF001  (the limiter's own Redis connection)
        if client is not None:
            return bool(client.exists(key))
    except Exception:  # noqa: BLE001  (Redis away: _first_notice falls back the same way)
        pass
    with _state_lock:
        return bool(_state.get("told", {}).get(key, 0.0) > time.monotonic())


def _first_notice(row: OutboundMessage, seconds: float) -> bool:
    """Once per wait: the first caller in any process sets the chat's key for the wait's length."""
    key = _notice_key(row)
    try:
        client = _limiter()._redis  # noqa: SLF001  (the limiter's own Redis connection)
        if client is not None:
            return bool(client.set(key, "1", ex=max(1, int(seconds)), nx=True))
    except Exception:  # noqa: BLE001
        log.warning("wait notice: shared flag unavailable; using this process's")
    with _state_lock:
        told = _state.setdefault("told", {})
        if told.get(key, 0.0) > time.monotonic():
            return False
        told[key] = time.monotonic() + seconds
        return True


def _release(rows: list[OutboundMessage]) -> None:
    if rows:
        with unit_of_work() as uow:
            outbox.release(uow.session, outbound_ids=[r.id for r in rows])


def _send_one(settings: Settings, row: OutboundMessage, *, last: bool = False) -> bool:
    """Send a claimed row and record the outcome; return whether to continue with the next.

    ``last``: no row after this one was claimed; once it is sent, continue only when the
    recipient has a message still open (looked up in the transaction that marks it sent).
    """
    missing = unconfigured(settings, row)
    if missing is not None:
        log.warning("outbound %s: %s", row.id, missing)
        with unit_of_work() as uow:
            outbox.mark_failed(uow.session, outbound_id=row.id, error=missing, now=utcnow())
        return True
    if row.channel == Channel.WHATSAPP_CLOUD:
        held = whatsapp.hold(settings, row, retry=_retry)  # 24 h window, template, pause
        if held is not None:
            return held
    try:
        provider_id = deliver(http_client(), settings, row)
    except ChannelRateLimited as exc:
        log.info("outbound %s rate limited for %ss", row.id, exc.retry_after)
        _provider_limited(settings, row, exc.retry_after)
        _retry(row, exc.retry_after, str(exc), count_attempt=False)
        return False
    except ChannelOutsideWindow as exc:
        return whatsapp.outside_window(settings, row, str(exc), retry=_retry)
    except ChannelStopped as exc:
        return whatsapp.stopped(row, str(exc), retry=_retry)
    except ChannelPermanent as exc:
        # The provider's reason may quote the number; it is kept on the row (shown in the admin).
        log.warning("outbound %s failed permanently: %s", row.id, type(exc).__name__)
        with unit_of_work() as uow:
            outbox.mark_failed(uow.session, outbound_id=row.id, error=str(exc), now=utcnow())
        return True
    except (ChannelError, OSError) as exc:
        return _transient(row, str(exc))
    except Exception as exc:  # a sender bug must not wedge the recipient's queue forever
        log.exception("outbound %s: unexpected error", row.id)
        return _transient(row, f"{type(exc).__name__}: {exc}")
    # The provider accepted: commit its id before anything else, so a retry never re-sends.
    if row.channel == Channel.WHATSAPP_CLOUD and provider_id:
        return _sent_cloud(row, provider_id, last=last)
    with one_statement() as connection:
        if last:
            return outbox.mark_sent_asking(
                connection, outbound_id=row.id, channel=row.channel, recipient=row.recipient,
                provider_message_id=provider_id, now=utcnow(),
            )  # fmt: skip
        outbox.mark_sent_now(connection, outbound_id=row.id, provider_message_id=provider_id,
                             now=utcnow())  # fmt: skip
    return True


def _sent_cloud(row: OutboundMessage, provider_id: str, *, last: bool) -> bool:
    """Record a Cloud API send; a status that overtook this commit was parked: apply it now."""
    with unit_of_work() as uow:
        outbox.mark_sent_now(
            uow.session, outbound_id=row.id, provider_message_id=provider_id, now=utcnow()
        )
        parked = receipts.apply_parked(uow.session, message_id=provider_id)
        if parked is not None and parked.status == OutboundStatus.PENDING:  # a 131047 requeues
            deliver_after_commit(uow, [parked])
        if last:
            return outbox.has_open(uow.session, channel=row.channel, recipient=row.recipient)
    return True


def _transient(row: OutboundMessage, error: str) -> bool:
    if row.attempts >= MAX_ATTEMPTS:
        log.warning("outbound %s gave up after %s attempts", row.id, row.attempts)
        with unit_of_work() as uow:
            outbox.mark_failed(uow.session, outbound_id=row.id, error=error, now=utcnow())
        return True
    delay = min(2.0**row.attempts, MAX_BACKOFF_SECONDS)  # 2, 4, 8, ... seconds
    log.info("outbound %s attempt %s failed; retry in %ss", row.id, row.attempts, delay)
    _retry(row, delay, error)
    return False


def _retry(row: OutboundMessage, delay: float, error: str, *, count_attempt: bool = True) -> None:
    with unit_of_work() as uow:
        outbox.retry_later(
            uow.session,
            outbound_id=row.id,
            at=utcnow() + timedelta(seconds=delay),
            error=error,
            count_attempt=count_attempt,
        )
    enqueue(row.channel, row.recipient, priority=row.priority, delay=delay, outbound_id=row.id)
