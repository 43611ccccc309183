"""The transactional outbox: messages to runners are rows written in the caller's transaction.

A dispatcher (workers.delivery) sends them after commit, in id order per recipient.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    Connection,
    Integer,
    Select,
    bindparam,
    case,
    exists,
    func,
    insert,
    literal_column,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from core import audit
from core.db import advisory_xact_lock, is_postgres, lock_key
from core.enums import Channel, OutboundStatus, caption_fits
from core.messages import Reply
from core.models import Conversation, OutboundMessage

# Priorities: lower is sent sooner.
PRIORITY_REPLY = 0
PRIORITY_NOTIFICATION = 3
PRIORITY_REMINDER = 6
PRIORITY_BROADCAST = 9
_TABLE = OutboundMessage.__table__
# Rows written while handling a chat message for someone else (e.g. a transfer's new holder): the
# conversation worker delivers them with the chat's own replies after the commit.
_ELSEWHERE = "outbox.written_elsewhere"


def remember(session: Session, rows: Iterable[OutboundMessage]) -> None:
    """Keep ``rows`` on the session for the caller that owns delivery (see take_remembered)."""
    session.info.setdefault(_ELSEWHERE, []).extend(rows)


def take_remembered(session: Session) -> list[OutboundMessage]:
    """The rows ``remember`` kept on this session, once."""
    return list(session.info.pop(_ELSEWHERE, []))


def write(
    session: Session,
    *,
    channel: str,
    recipient: str,
    reply: Reply,
    idempotency_key: str,
    priority: int = PRIORITY_REPLY,
    conversation_id: int | None = None,
    registration_id: int | None = None,
    fresh: bool = False,
    extra: dict[str, Any] | None = None,
    claim_at: datetime | None = None,
) -> OutboundMessage:
    """Write one outbound message; an existing row with the same key is returned unchanged.

    A photo whose text is too long for the channel's caption limit becomes two rows (the photo, then the
    text with the choices): each row is one provider call, so a retry never re-sends the photo.
    ``fresh``: the caller knows no row has this key yet (an inbound row's replies, written in the
    transaction that marks it processed): the lookup is skipped; the unique key still guards it.
    ``extra``: more of the row's ``extra`` (a button's callback id), written with it.
    ``claim_at``: the caller sends the row itself right after its commit (see _INSERT_CLAIMING).
    """
    if not fresh:
        existing = session.scalar(
            select(OutboundMessage).where(OutboundMessage.idempotency_key == idempotency_key)
        )
        if existing is not None:
            return existing
    if reply.image_path and not caption_fits(channel, reply.text):
        common = {"channel": channel, "recipient": recipient, "priority": priority}
        ids = {"conversation_id": conversation_id, "registration_id": registration_id}
        photo = replace(reply, text="", choices=(), inline=False)
        write(session, reply=photo, idempotency_key=f"{idempotency_key}:photo", fresh=fresh,
              claim_at=claim_at, **common, **ids)  # fmt: skip
        reply = replace(reply, image_path=None)
    known = {**_conversation_facts(session, channel, recipient, conversation_id), **(extra or {})}
    values = _values(channel, recipient, reply, idempotency_key, priority, known,
                     conversation_id, registration_id)  # fmt: skip
    return _insert(session, [values], claim_at)[0]


def _values(
    channel: str,
    recipient: str,
    reply: Reply,
    idempotency_key: str,
    priority: int,
    known: dict[str, Any],
    conversation_id: int | None,
    registration_id: int | None,
) -> dict[str, Any]:
    extra: dict[str, Any] = {"choices": [asdict(c) for c in reply.choices], "inline": reply.inline}
    extra.update(known)
    return {
        "channel": channel,
        "recipient": recipient,
        "kind": reply.kind,
        "priority": priority,
        "text": reply.text,
        "media_path": reply.image_path,
        "extra": extra,
        "idempotency_key": idempotency_key,
        "conversation_id": conversation_id,
        "registration_id": registration_id,
    }


def write_many(
    session: Session,
    *,
    channel: str,
    recipient: str,
    replies: Iterable[Reply],
    key_prefix: str,
    priority: int = PRIORITY_REPLY,
    conversation_id: int | None = None,
    registration_id: int | None = None,
    fresh: bool = False,
    claim_at: datetime | None = None,
) -> list[OutboundMessage]:
    """Write several replies in order with keys ``{key_prefix}:{n}`` (``claim_at``: see write).

    One query finds the rows already written (a retried drain; skipped when ``fresh``, see write)
    and one INSERT writes the rest.
    """
    replies = list(replies)
    keys = [f"{key_prefix}:{n}" for n in range(len(replies))]
    needs_split = any(r.image_path and not caption_fits(channel, r.text) for r in replies)
    if needs_split or len(replies) < 2:
        return _queue_each(session, channel, recipient, replies, key_prefix, priority,
                           conversation_id, registration_id, fresh, claim_at)  # fmt: skip
    existing = (
        {}
        if fresh
        else {
            row.idempotency_key: row
            for row in session.scalars(
                select(OutboundMessage).where(OutboundMessage.idempotency_key.in_(keys))
            )
        }
    )
    known = _conversation_facts(session, channel, recipient, conversation_id)
    values = [
        _values(channel, recipient, reply, key, priority, known, conversation_id, registration_id)
        for key, reply in zip(keys, replies, strict=True)
        if key not in existing
    ]
    inserted = iter(_insert(session, values, claim_at) if values else ())
    return [existing.get(key) or next(inserted) for key in keys]


_INSERT = insert(_TABLE).returning(*_TABLE.c, sort_by_parameter_order=True)


def _insert(
    session: Session, values: list[dict[str, Any]], claim_at: datetime | None = None
) -> list[OutboundMessage]:
    """INSERT ... RETURNING the rows (one statement), attached to the session as if loaded.

    Cheaper than adding new objects and flushing them (the unit of work's per-object bookkeeping),
    and the callers get the same persistent instances (changes to them are flushed as UPDATEs).
    """
    session.flush()  # what an add + flush wrote first (the registration a row points to, …)
    statement = _INSERT
    if claim_at is not None and _claims_on_insert(session, values[0]):
        statement = _INSERT_CLAIMING
        ask = {"of_channel": values[0]["channel"], "of_recipient": values[0]["recipient"]}
        values = [{**v, **ask, "claim_now": claim_at} for v in values]
    result = session.execute(statement, values if len(values) > 1 else values[0])
    rows = []
    for found in result.mappings():
        row = OutboundMessage(**found)
        make_transient_to_detached(row)
        session.add(row)
        rows.append(row)
    return rows


def _queue_each(
    session: Session,
    channel: str,
    recipient: str,
    replies: list[Reply],
    key_prefix: str,
    priority: int,
    conversation_id: int | None,
    registration_id: int | None,
    fresh: bool = False,
    claim_at: datetime | None = None,
) -> list[OutboundMessage]:
    return [
        write(
            session,
            channel=channel,
            recipient=recipient,
            reply=reply,
            idempotency_key=f"{key_prefix}:{n}",
            priority=priority,
            conversation_id=conversation_id,
            registration_id=registration_id,
            fresh=fresh,
            claim_at=claim_at,
        )
        for n, reply in enumerate(replies)
    ]


# A row claimed longer ago than this is "unknown whether accepted": it may be sent again. A live
# sender renews its claims every few seconds (renew_claims), so the lease only has to outlast a
# renewal gap, and a killed sender's rows are taken over seconds later instead of minutes.
CLAIM_LEASE = timedelta(seconds=10)
OPEN_STATUSES = (OutboundStatus.PENDING.value, OutboundStatus.SENDING.value)


@dataclass(frozen=True, slots=True)
class Claim:
    """The outcome of claim_next: a row to send now, or why there is none."""

    row: OutboundMessage | None = None
    busy: bool = False  # another worker is sending this recipient's head message
    lease_ends: datetime | None = None  # when busy: when that claim may be taken over
    wait_until: datetime | None = None  # the head message is scheduled for a retry


def _conversation_facts(
    session: Session, channel: str, recipient: str, conversation_id: int | None
) -> dict[str, Any]:
    """What a row's ``extra`` keeps of its conversation: the language, and Fonnte's device.

    The device (the number the runner wrote to, "" = the default one) is noted at write time so the
    sender needs no lookup (workers.delivery._claim); rows without it are looked up there.
    """
    if conversation_id is None:
        return {}
    # The worker holds the conversation in this session: the identity map answers, no query.
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        return {}
    known: dict[str, Any] = {"lang": conversation.language} if conversation.language else {}
    same_chat = (conversation.channel, conversation.chat_id) == (channel, recipient)
    if channel == Channel.WHATSAPP and same_chat:
        known["device"] = conversation.device or ""
    return known


def recipient_lock_key(channel: str, recipient: str) -> int:
    """A stable signed 64-bit advisory-lock key for one recipient's outbox queue."""
    return lock_key("out", channel, recipient)


def _head(session: Session, channel: str, recipient: str) -> OutboundMessage | None:
    found = session.scalars(_HEAD, {"channel": channel, "recipient": recipient})
    return found.one_or_none()


def _open_rows(channel: str, recipient: str) -> Select[tuple[OutboundMessage]]:
    """The recipient's unsent rows, oldest first."""
    return (
        select(OutboundMessage)
        .where(
            OutboundMessage.channel == channel,
            OutboundMessage.recipient == recipient,
            OutboundMessage.status.in_(OPEN_STATUSES),
        )
        .order_by(OutboundMessage.id)
    )


# The delivery path's statements, built once: executed with parameters, they skip the per-call
# construction (coercions, operators) and hit the compiled cache at once.
_OPEN = _open_rows(bindparam("channel"), bindparam("recipient"))  # type: ignore[arg-type]
_HEAD = _OPEN.limit(1)
_CLAIMABLE = _OPEN.limit(bindparam("limit", type_=Integer)).with_for_update()
_CLAIM = (
    update(_TABLE)
    .where(_TABLE.c.id.in_(bindparam("ids", expanding=True)))
    .values(
        status=OutboundStatus.SENDING.value,
        claimed_at=bindparam("now"),
        attempts=_TABLE.c.attempts + 1,
    )
)
_HAS_OPEN = (
    select(_TABLE.c.id)
    .where(
        _TABLE.c.channel == bindparam("channel"),
        _TABLE.c.recipient == bindparam("recipient"),
        _TABLE.c.status.in_(OPEN_STATUSES),
    )
    .limit(1)
)
_OLDER = _TABLE.alias("older")
_HELD = (_TABLE.c.id.in_(bindparam("ids", expanding=True)),
         _TABLE.c.status == OutboundStatus.SENDING.value)  # fmt: skip
_RENEW = update(_TABLE).where(*_HELD).values(claimed_at=bindparam("now"))
_RELEASE = (
    update(_TABLE)
    .where(*_HELD)
    .values(status=OutboundStatus.PENDING.value, claimed_at=None, attempts=_TABLE.c.attempts - 1)
)
_MARK_SENT = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("outbound_id"), _TABLE.c.status != OutboundStatus.SENT.value)
    .values(
        status=OutboundStatus.SENT.value,
        provider_message_id=bindparam("provider_id"),
        sent_at=bindparam("now"),
        error=None,
        next_attempt_at=None,
    )
)


def _other_open(*where: Any) -> Any:
    """EXISTS another open row of the recipient (parameters "of_channel", "of_recipient": an
    UPDATE's parameters named like a column would be SET)."""
    return exists().where(
        _OLDER.c.channel == bindparam("of_channel"),
        _OLDER.c.recipient == bindparam("of_recipient"),
        # The statuses inline (not an expanding parameter, which an executemany cannot take).
        _OLDER.c.status.in_([literal_column(f"'{status}'") for status in OPEN_STATUSES]),
        *where,
    )


_MARK_SENT_ASKING = select(_other_open(_OLDER.c.id != bindparam("outbound_id"))).add_cte(
    _MARK_SENT.returning(_TABLE.c.id).cte("marked")
)


def _classify(head: OutboundMessage | None, now: datetime) -> Claim | None:
    """Return why ``head`` cannot be sent now, or None when it can."""
    if head is None:
        return Claim()
    if (
        head.status == OutboundStatus.SENDING
        and head.claimed_at
        and head.claimed_at > now - CLAIM_LEASE
    ):
        return Claim(busy=True, lease_ends=head.claimed_at + CLAIM_LEASE)
    if head.next_attempt_at is not None and head.next_attempt_at > now:
        return Claim(wait_until=head.next_attempt_at)
    return None


def peek(session: Session, *, channel: str, recipient: str, now: datetime) -> Claim:
    """Look (without locking) at what claim_next would do; ``row`` is the head when sendable."""
    head = _head(session, channel, recipient)
    return _classify(head, now) or Claim(row=head)


def claim_next(session: Session, *, channel: str, recipient: str, now: datetime) -> Claim:
    """Claim the recipient's oldest unsent message, strictly in id order.

    Only one message per recipient is in flight at a time, so a chat receives messages in the
    order they were written. A claim older than CLAIM_LEASE is taken over (the sender died).
    """
    claimed = claim_batch(session, channel=channel, recipient=recipient, now=now, limit=1)
    return claimed if isinstance(claimed, Claim) else Claim(row=claimed[0])


def claim_batch(
    session: Session, *, channel: str, recipient: str, now: datetime, limit: int
) -> Claim | list[OutboundMessage]:
    """claim_next for up to ``limit`` consecutive due messages in one transaction, in id order.

    Returns the claimed rows, or the Claim saying why the head cannot go. The batch stops at the
    first row that is not due (a scheduled retry keeps its place in the order). Under the same
    advisory lock as claim_next, one SELECT ... FOR UPDATE reads the head and the rows after it and
    one UPDATE claims them (the delivery path's cost per message).
    """
    # Serialises claimers of one recipient for the few milliseconds of this transaction only.
    advisory_xact_lock(session, recipient_lock_key(channel, recipient))
    params = {"channel": channel, "recipient": recipient, "limit": max(1, limit)}
    found = list(session.scalars(_CLAIMABLE, params))
    head = found[0] if found else None
    blocked = _classify(head, now)
    if blocked is not None or head is None:
        return blocked or Claim()
    rows = [head]
    for row in found[1:]:
        if _classify(row, now) is not None:
            break
        rows.append(row)
    # A Core UPDATE: the ORM's bulk-update machinery costs more than the statement.
    session.execute(_CLAIM, {"ids": [r.id for r in rows], "now": now})
    _claimed_as_loaded(rows, now)
    return rows


# Claims rows this transaction just wrote when nothing older of the recipient's is still open: no
# advisory lock needed, as no other transaction can see (so claim) these rows before the commit.
_CLAIM_WRITTEN = _CLAIM.where(~_other_open(_OLDER.c.id < bindparam("first"))).returning(_TABLE.c.id)


def claim_written(session: Session, rows: list[OutboundMessage], *, now: datetime) -> bool:
    """Claim one recipient's rows written in this transaction, for the writer to send after its commit.

    One UPDATE, and only when none of the recipient's older messages is still open (they go first,
    through claim_batch): the conversation worker's replies skip the claim transaction of their own.
    Returns whether the rows were claimed (each then SENDING, as claim_batch leaves them).
    """
    if not rows:
        return False
    first = rows[0]
    params = {"ids": [r.id for r in rows], "now": now, "first": first.id,
              "of_channel": first.channel, "of_recipient": first.recipient}  # fmt: skip
    claimed = len(session.execute(_CLAIM_WRITTEN, params).all()) == len(rows)
    if claimed:
        _claimed_as_loaded(rows, now)
    return claimed


# claim_written in the INSERT itself (PostgreSQL): each row is written SENDING, claimed at
# "claim_now", when no other open row of the recipient holds it back. The rows this transaction
# claimed before (a button's acknowledgement, the replies to an earlier message of the same drain)
# do not: they are sent first, in order. Rows of this statement are not visible to its own
# sub-queries, so all of them get the same answer.
_CLAIMED_HERE = literal_column(
    "(older.status = 'sending' AND older.xmin = pg_current_xact_id()::xid)", Boolean
)
_HELD_BACK = _other_open(~_CLAIMED_HERE)
_INSERT_CLAIMING = (
    insert(_TABLE)
    .values(
        status=case((_HELD_BACK, OutboundStatus.PENDING.value), else_=OutboundStatus.SENDING.value),
        claimed_at=case((_HELD_BACK, null()), else_=bindparam("claim_now")),
        attempts=case((_HELD_BACK, 0), else_=1),
    )
    .returning(*_TABLE.c, sort_by_parameter_order=True)
)


def _claims_on_insert(session: Session, values: dict[str, Any]) -> bool:
    """Whether rows like ``values`` are claimed by their INSERT (what claim_written would claim)."""
    if not is_postgres(session):
        return False  # claim_written after the writes instead
    return claimable_on_write(values["channel"], values["priority"], values["extra"])


def claimable_on_write(channel: str, priority: int, extra: dict[str, Any] | None) -> bool:
    """A reply or notification, with its Fonnte device noted when it has one (see write): the
    rows a conversation worker sends itself right after its commit."""
    if priority >= PRIORITY_REMINDER or channel == Channel.SIMULATOR:
        return False
    return channel != Channel.WHATSAPP or "device" in (extra or {})


def _claimed_as_loaded(rows: list[OutboundMessage], now: datetime) -> None:
    """The loaded rows as _CLAIM left them, with nothing left to flush."""
    for row in rows:
        set_committed_value(row, "status", OutboundStatus.SENDING.value)
        set_committed_value(row, "claimed_at", now)
        set_committed_value(row, "attempts", row.attempts + 1)


def has_open(session: Session | Connection, *, channel: str, recipient: str) -> bool:
    """Whether the recipient has any message not sent yet (one index probe, no lock)."""
    found = session.scalar(_HAS_OPEN, {"channel": channel, "recipient": recipient})
    return found is not None


def renew_claims(session: Session, *, outbound_ids: list[int], now: datetime) -> None:
    """Extend the lease of rows a live sender still holds (claimed, not yet sent)."""
    if outbound_ids:
        session.execute(_RENEW, {"ids": list(outbound_ids), "now": now})


def release(session: Session, *, outbound_ids: list[int]) -> None:
    """Hand claimed, unsent rows back to the queue as if never claimed (a rate-limit wait)."""
    if outbound_ids:
        session.execute(_RELEASE, {"ids": list(outbound_ids)})


def mark_sent_now(
    session: Session | Connection,
    *,
    outbound_id: int,
    provider_message_id: str | None,
    now: datetime,
) -> None:
    """mark_sent as one UPDATE (no row loaded): the delivery path's commit after each send."""
    params = {"outbound_id": outbound_id, "provider_id": provider_message_id, "now": now}
    session.execute(_MARK_SENT, params)


def mark_sent_asking(
    connection: Connection,
    *,
    outbound_id: int,
    channel: str,
    recipient: str,
    provider_message_id: str | None,
    now: datetime,
) -> bool:
    """mark_sent_now, then has_open for the same recipient: whether anything else is still open.

    On PostgreSQL one statement (the UPDATE in a CTE; the SELECT, which cannot see its effect,
    leaves that row out), so run in autocommit it is the delivery path's only round trip per send.
    """
    params = {"outbound_id": outbound_id, "provider_id": provider_message_id, "now": now}
    if connection.dialect.name != "postgresql":
        connection.execute(_MARK_SENT, params)
        return has_open(connection, channel=channel, recipient=recipient)
    found = connection.scalar(
        _MARK_SENT_ASKING, {**params, "of_channel": channel, "of_recipient": recipient}
    )
    return bool(found)


def _locked(session: Session, outbound_id: int) -> OutboundMessage:
    return session.scalars(
        select(OutboundMessage).where(OutboundMessage.id == outbound_id).with_for_update()
    ).one()


def mark_sent(
    session: Session, *, outbound_id: int, provider_message_id: str | None, now: datetime
) -> OutboundMessage:
    """Record the provider's acceptance (a row already sent is left as it is)."""
    row = _locked(session, outbound_id)
    if row.status != OutboundStatus.SENT:
        row.status = OutboundStatus.SENT.value
        row.provider_message_id = provider_message_id
        row.sent_at = now
        row.error = None
        row.next_attempt_at = None
    return row


def mark_failed(
    session: Session, *, outbound_id: int, error: str, now: datetime
) -> OutboundMessage:
    """Give up on a message for good (blocked by the user, invalid number, too many attempts)."""
    row = _locked(session, outbound_id)
    if row.status == OutboundStatus.SENT:
        return row
    record_failure(session, row, error=error, now=now)
    return row


def record_failure(session: Session, row: OutboundMessage, *, error: str, now: datetime) -> None:
    """Mark ``row`` failed with the provider's reason and audit it (the row is locked already).

    Also used when a provider reports a failure after accepting a message (WhatsApp statuses).
    """
    row.status = OutboundStatus.FAILED.value
    row.error = error[:1000]
    row.next_attempt_at = None
    audit.record(
        session,
        actor="system",
        action="outbound.failed",
        subject_type="outbound_message",
        subject_id=row.id,
        channel=row.channel,
        kind=row.kind,
        error=row.error,
        at=now.isoformat(),
    )


def retry_later(
    session: Session, *, outbound_id: int, at: datetime, error: str, count_attempt: bool = True
) -> OutboundMessage:
    """Put a message back in the queue, not before ``at``.

    ``count_attempt=False`` (a provider's 429) does not use up one of the row's attempts.
    """
    row = _locked(session, outbound_id)
    if row.status == OutboundStatus.SENT:
        return row
    if not count_attempt:
        row.attempts = max(0, row.attempts - 1)
    row.status = OutboundStatus.PENDING.value
    row.next_attempt_at = at
    row.error = error[:1000]
    return row


def find_stale(
    session: Session, *, now: datetime, older_than: timedelta = timedelta(seconds=60)
) -> list[tuple[str, str, int]]:
    """(channel, recipient, best priority) of queues with a message overdue by ``older_than``."""
    cutoff = now - older_than
    due_pending = (
        (OutboundMessage.status == OutboundStatus.PENDING)
        & (OutboundMessage.created_at < cutoff)
        & or_(OutboundMessage.next_attempt_at.is_(None), OutboundMessage.next_attempt_at < cutoff)
    )
    abandoned = (OutboundMessage.status == OutboundStatus.SENDING) & (
        OutboundMessage.claimed_at < now - CLAIM_LEASE
    )
    rows = session.execute(
        select(OutboundMessage.channel, OutboundMessage.recipient, OutboundMessage.priority)
        .where(or_(due_pending, abandoned))
        .order_by(OutboundMessage.id)
        .limit(2000)
    )
    best: dict[tuple[str, str], int] = {}
    for channel, recipient, priority in rows:
        key = (channel, recipient)
        best[key] = min(priority, best.get(key, priority))
    return [(c, r, p) for (c, r), p in best.items()]


def pending_by_device(session: Session) -> dict[str, int]:
    """Fonnte messages not sent yet, per number they go out from ("" = the default device).

    One grouped query (the operations page, and the start-link chooser's snapshot every few seconds).
    """
    rows = session.execute(
        select(Conversation.device, func.count())
        .select_from(OutboundMessage)
        .join(
            Conversation,
            (Conversation.channel == OutboundMessage.channel)
            & (Conversation.chat_id == OutboundMessage.recipient),
            isouter=True,
        )
        .where(OutboundMessage.channel == "whatsapp", OutboundMessage.status.in_(OPEN_STATUSES))
        .group_by(Conversation.device)
    ).all()
    return {device or "": int(n) for device, n in rows}
