"""The transactional inbox: every webhook delivery is stored (deduplicated) before it is acknowledged.

Workers drain a conversation's unprocessed rows in id order; the sweeper finds rows left behind.
Deliveries are deduplicated by (channel, external_id): Telegram's update_id, Fonnte's inbox id (or
a hash), the WhatsApp Cloud API's message id (``wamid…``, one row per message of a batch).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from sqlalchemy import bindparam, func, inspect, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from core.config import get_settings
from core.db import insert_ignore, is_postgres, lock_key, utcnow
from core.messages import Attachment, InboundMessage
from core.models import Conversation, InboundUpdate


def chat_lock_key(channel: str, chat_id: str) -> int:
    """A stable signed 64-bit advisory-lock key for one chat."""
    return lock_key("chat", channel, chat_id)


@dataclass(frozen=True, slots=True)
class Stored:
    """A delivery just stored: its row id and its conversation's."""

    update_id: int
    conversation_id: int


def record_inbound(session: Session, message: InboundMessage) -> InboundUpdate | None:
    """Store one delivery and link it to its conversation (created if missing).

    Returns:
        The new InboundUpdate, or None when (channel, external_id) was stored before (a re-delivery).
    """
    stored = store_inbound(session, message)
    return None if stored is None else session.get(InboundUpdate, stored.update_id)


def store_inbound(session: Session, message: InboundMessage) -> Stored | None:
    """record_inbound in as few round trips as it takes (the webhook's path): ids only.

    On PostgreSQL: BEGIN, the chat lock and one INSERT ... RETURNING (the conversation looked up
    inside it) in one pipelined round trip, then the commit; two more for a chat's first message.
    """
    if is_postgres(session):
        return _store_pipelined(session, message)
    conversation_id = _lock_and_find(session, message)
    if conversation_id is None:
        conversation_id = ensure_conversation(session, message)
    stmt = _insert_stmt(session).values(conversation_id=conversation_id, **_row(message))
    stmt = stmt.on_conflict_do_nothing(index_elements=["channel", "external_id"])
    update_id = session.execute(stmt.returning(InboundUpdate.id)).scalar()
    if update_id is None:
        return None
    return Stored(update_id=int(update_id), conversation_id=conversation_id)


def _row(message: InboundMessage) -> dict[str, Any]:
    return {
        "channel": message.channel.value,
        "external_id": message.external_id,
        "chat_id": message.chat_id,
        "payload": dict(message.raw),
        "message": message.to_json(),
        "received_at": utcnow(),
        "attempts": 0,
    }


_PIPELINED_INSERT = """
INSERT INTO inbound_updates
    (channel, external_id, chat_id, conversation_id, payload, message, received_at, attempts)
VALUES (%(channel)s, %(external_id)s, %(chat_id)s,
    (SELECT id FROM conversations WHERE channel = %(of_channel)s AND chat_id = %(of_chat)s),
    %(payload)s, %(message)s, %(received_at)s, %(attempts)s)
ON CONFLICT (channel, external_id) DO NOTHING
RETURNING id, conversation_id
"""


def _store_pipelined(session: Session, message: InboundMessage) -> Stored | None:
    """The PostgreSQL path: lock and insert sent together, the server runs them in order.

    Serialise inserts for one chat so that id order equals commit order: the worker drains rows by
    id and must never see a later message committed before an earlier one. The INSERT's own
    snapshot is taken after the lock, so it sees a conversation created by an earlier holder.
    """
    row = _row(message)
    params = {**row, "payload": Jsonb(row["payload"]), "message": Jsonb(row["message"])}
    params.update(of_channel=row["channel"], of_chat=row["chat_id"])  # one placeholder, one type
    driver = session.connection().connection.driver_connection
    try:
        with driver.pipeline():
            driver.execute(
                "SELECT pg_advisory_xact_lock(%s)", (chat_lock_key(row["channel"], row["chat_id"]),)
            )
            found = driver.execute(_PIPELINED_INSERT, params).fetchone()
    except psycopg.Error as exc:
        raise DBAPIError("store_inbound", None, exc, hide_parameters=True) from exc
    if found is None:
        return None
    update_id, conversation_id = int(found[0]), found[1]
    if conversation_id is None:  # the chat's first message: create its conversation, link the row
        conversation_id = ensure_conversation(session, message)
        session.execute(
            update(InboundUpdate)
            .where(InboundUpdate.id == update_id)
            .values(conversation_id=conversation_id)
        )
    return Stored(update_id=update_id, conversation_id=int(conversation_id))


_BATCH_LOCKS = "SELECT pg_advisory_xact_lock(k) FROM unnest(%s::bigint[]) AS k"

# One statement for the whole batch; ORDER BY keeps ids in arrival order (the worker drains by id).
# The rows travel as one JSON array: psycopg quotes every element of a jsonb[] parameter in Python
# (a quarter of the webhook process's time under a burst), one json.dumps is a fraction of that.
# The conversation is looked up per row by its unique key: the planner cannot see how many rows
# the JSON holds (it guesses 100) and would hash-join a scan of every conversation.
_BATCH_INSERT = """
INSERT INTO inbound_updates
    (channel, external_id, chat_id, conversation_id, payload, message, received_at, attempts)
SELECT u.channel, u.external_id, u.chat_id,
    (SELECT c.id FROM conversations c WHERE c.channel = u.channel AND c.chat_id = u.chat_id),
    u.payload, u.message, u.received_at, 0
FROM ROWS FROM (jsonb_to_recordset(%(rows)s) AS (
        channel text, external_id text, chat_id text, payload jsonb, message jsonb,
        received_at timestamptz))
     WITH ORDINALITY AS u(channel, external_id, chat_id, payload, message, received_at, ord)
ORDER BY u.ord
ON CONFLICT (channel, external_id) DO NOTHING
RETURNING id, channel, external_id, conversation_id
"""


def store_inbound_batch(session: Session, messages: list[InboundMessage]) -> list[Stored | None]:
    """store_inbound for many deliveries in one transaction (the webhooks' group commit).

    Returns one entry per message, in order: None for a re-delivery (also one repeated inside the
    batch). On PostgreSQL the chat locks (sorted, so two batches never deadlock) and one multi-row
    INSERT go in one pipelined round trip; chats seen for the first time cost three more.
    """
    if not is_postgres(session):
        return [store_inbound(session, message) for message in messages]
    first: dict[tuple[str, str], int] = {}
    for index, message in enumerate(messages):
        first.setdefault((message.channel.value, message.external_id), index)
    unique = [messages[i] for i in first.values()]
    found = _insert_batch(session, unique)
    _link_new_conversations(session, unique, found)
    results: list[Stored | None] = [None] * len(messages)
    for key, index in first.items():
        row = found.get(key)
        if row is not None:
            results[index] = Stored(update_id=row[0], conversation_id=row[1])
    return results


def _insert_batch(
    session: Session, messages: list[InboundMessage]
) -> dict[tuple[str, str], list[Any]]:
    """Lock every chat of the batch and insert its rows: {(channel, external_id): [id, conv id]}."""
    rows = [_row(message) for message in messages]
    keys = sorted({chat_lock_key(row["channel"], row["chat_id"]) for row in rows})
    params = {"rows": Jsonb([{**r, "received_at": r["received_at"].isoformat()} for r in rows])}
    driver = session.connection().connection.driver_connection
    try:
        with driver.pipeline():
            driver.execute(_BATCH_LOCKS, (keys,))
            found = driver.execute(_BATCH_INSERT, params).fetchall()
    except psycopg.Error as exc:
        raise DBAPIError("store_inbound_batch", None, exc, hide_parameters=True) from exc
    return {(channel, external_id): [int(i), c] for i, channel, external_id, c in found}


_CREATE_AND_LINK = """
WITH new AS (
    INSERT INTO conversations ({columns})
    SELECT {columns} FROM jsonb_populate_recordset(NULL::conversations, %(rows)s)
    ON CONFLICT (channel, chat_id) DO NOTHING
    RETURNING id, channel, chat_id
)
UPDATE inbound_updates u SET conversation_id = new.id FROM new
WHERE u.id = ANY(%(ids)s) AND u.channel = new.channel AND u.chat_id = new.chat_id
RETURNING u.id, new.id
"""


def _link_new_conversations(
    session: Session, messages: list[InboundMessage], found: dict[tuple[str, str], list[Any]]
) -> None:
    """Create the conversations of chats seen for the first time and link their new rows.

    One statement (insert the conversations, update the rows that name them); a conversation
    another process created meanwhile is found the slower way.
    """
    orphans = {
        (m.channel.value, m.chat_id): m
        for m in reversed(messages)  # the chat's first message names the conversation
        if found.get((m.channel.value, m.external_id), [0, 0])[1] is None
    }
    if not orphans:
        return
    rows = [_full_conversation_row(m) for m in orphans.values()]
    waiting = {row[0]: row for row in found.values() if row[1] is None}
    driver = session.connection().connection.driver_connection
    sql = _CREATE_AND_LINK.format(columns=", ".join(rows[0]))
    try:
        linked = driver.execute(sql, {"rows": Jsonb(rows), "ids": list(waiting)}).fetchall()
    except psycopg.Error as exc:
        raise DBAPIError("store_inbound_batch", None, exc, hide_parameters=True) from exc
    for row_id, conversation_id in linked:
        waiting.pop(row_id)[1] = conversation_id
    for message in messages:  # created by someone else between our lock and insert: rare
        row = found.get((message.channel.value, message.external_id))
        if row is not None and row[1] is None:
            row[1] = ensure_conversation(session, message)
            session.execute(
                update(InboundUpdate)
                .where(InboundUpdate.id == row[0])
                .values(conversation_id=row[1])
            )


def _full_conversation_row(message: InboundMessage) -> dict[str, Any]:
    """_conversation_row with every column default filled in, as JSON (raw SQL skips the ORM's)."""
    row = _conversation_row(message)
    row["created_at"] = row["created_at"].isoformat()
    return {**_conversation_defaults(), **row}


@lru_cache(maxsize=1)
def _conversation_defaults() -> dict[str, Any]:
    defaults = {}
    for column in Conversation.__table__.columns:
        default = column.default
        if column.primary_key or default is None or column.name == "created_at":
            continue
        defaults[column.name] = default.arg if default.is_scalar else default.arg(None)
    return defaults


def _insert_stmt(session: Session) -> Any:
    dialect = postgresql if is_postgres(session) else sqlite
    return dialect.insert(InboundUpdate.__table__)


def _lock_and_find(session: Session, message: InboundMessage) -> int | None:
    """Take the chat's advisory lock and return its conversation id, if any (one round trip)."""
    channel = message.channel.value
    find = (
        select(Conversation.id)
        .where(Conversation.channel == channel, Conversation.chat_id == message.chat_id)
        .scalar_subquery()
    )
    if not is_postgres(session):
        return session.scalar(select(find))
    key = chat_lock_key(channel, message.chat_id)
    # The lookup needs no lock: the lock only orders this chat's inserts into inbound_updates.
    row = session.execute(select(func.pg_advisory_xact_lock(key), find)).one()
    return row[1]


def ensure_conversation(session: Session, message: InboundMessage) -> int:
    """Return the id of the (channel, chat_id) conversation, inserting it when missing."""
    channel = message.channel.value
    insert_ignore(
        session, Conversation.__table__, [_conversation_row(message)], keys=["channel", "chat_id"]
    )
    return session.scalars(
        select(Conversation.id).where(
            Conversation.channel == channel, Conversation.chat_id == message.chat_id
        )
    ).one()


def _conversation_row(message: InboundMessage) -> dict[str, Any]:
    return {
        "channel": message.channel.value,
        "chat_id": message.chat_id,
        "language": get_settings().default_language,
        "sender_name": (message.sender_name or "")[:200] or None,
        "phone": message.phone,
        "created_at": utcnow(),
    }


def pending(session: Session, *, conversation_id: int) -> list[InboundUpdate]:
    """Unprocessed rows of one conversation, oldest first."""
    return list(session.scalars(_PENDING, {"conversation_id": conversation_id}))


# Built once (the conversation worker's every pass): executed with a parameter, no construction.
_PENDING = (
    select(InboundUpdate)
    .where(
        InboundUpdate.conversation_id == bindparam("conversation_id"),
        InboundUpdate.processed_at.is_(None),
    )
    .order_by(InboundUpdate.id)
)


def message_of(update: InboundUpdate) -> InboundMessage:
    """Rebuild the normalised message stored on a row."""
    return InboundMessage.from_json(update.message)


def needs_download(update: InboundUpdate) -> bool:
    """True while an attachment of the row is neither stored nor refused."""
    return message_needs_download(message_of(update))


def message_needs_download(message: InboundMessage) -> bool:
    """True while an attachment of ``message`` is neither stored nor refused."""
    return any(a.stored_path is None and a.error is None for a in message.attachments)


def set_attachments(
    session: Session, *, update_id: int, attachments: tuple[Attachment, ...]
) -> bool:
    """Store download results on a row (first writer wins); return whether the row changed."""
    update = session.scalars(
        select(InboundUpdate).where(InboundUpdate.id == update_id).with_for_update()
    ).one_or_none()
    if update is None or update.processed_at is not None or not needs_download(update):
        return False
    update.message = replace(message_of(update), attachments=attachments).to_json()
    return True


def mark_processed(
    session: Session, update: InboundUpdate, *, now: datetime, error: str | None = None
) -> None:
    """Mark one row done (``error`` names why it was answered without the engine, if so).

    One Core UPDATE now (no dirty tracking for the commit's flush); the loaded row is set to match.
    """
    session.add(update)
    if update.id is None or inspect(update).modified:  # not written yet, or changes pending
        update.processed_at, update.attempts, update.error = now, update.attempts + 1, error
        return
    session.execute(_PROCESSED, {"update_id": update.id, "now": now, "error": error})
    set_committed_value(update, "processed_at", now)
    set_committed_value(update, "attempts", update.attempts + 1)
    set_committed_value(update, "error", error)


_TABLE = InboundUpdate.__table__
_PROCESSED = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("update_id"))
    .values(processed_at=bindparam("now"), attempts=_TABLE.c.attempts + 1, error=bindparam("error"))
)


def find_stale(session: Session, *, older_than: datetime, limit: int = 500) -> list[int]:
    """Conversation ids with rows still unprocessed since before ``older_than``."""
    rows = session.scalars(
        select(InboundUpdate.conversation_id)
        .where(
            InboundUpdate.processed_at.is_(None),
            InboundUpdate.received_at < older_than,
            InboundUpdate.conversation_id.is_not(None),
        )
        .distinct()
        .limit(limit)
    )
    return [cid for cid in rows if cid is not None]
