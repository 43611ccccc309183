"""Broadcasts: one organiser message to a segment of an event's runners, sent as bulk via the outbox.

A send is a Broadcast row; a low-priority job (workers.broadcasts) then writes one outbox row per
recipient chat in batches (``write_batch``), so 30,000 runners never sit in one transaction and the
delivery workers start on the first batch at once. Rows carry PRIORITY_BROADCAST: the rate limiter
keeps a reserve for runners' own replies, so a broadcast never slows a registration down.

A chat that replied STOP (``opt_out``) gets no broadcasts until START (``opt_in``); its
transactional messages (payment, ticket) never look at this list. Segments are a registry
(``SEGMENTS``): a waiting list or a custom-question answer segment is one ``register_segment`` call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from core import audit
from core.db import insert_ignore, utcnow
from core.enums import ACTIVE_STATUSES, AWAITING_STATUSES, Channel, RegistrationStatus, values
from core.errors import InvalidSetting, NotFound
from core.i18n import t
from core.messages import Reply
from core.messaging import outbox
from core.models import (
    Broadcast,
    BroadcastOptOut,
    BroadcastRecipient,
    CheckIn,
    Event,
    OutboundMessage,
    Participant,
    Registration,
    WaitlistEntry,
)
from core.models.waitlist import LIVE

BATCH = 200  # recipient chats written per job transaction
STALL_AFTER = timedelta(minutes=2)
MAX_TEXT = 3000  # under Telegram's 4096 and Fonnte's limit, with room for the STOP line
WHATSAPP_CHANNELS = (Channel.WHATSAPP.value, Channel.WHATSAPP_CLOUD.value)
STOPPED = "stopped"

Condition = Callable[[str], ColumnElement[bool]]


@dataclass(frozen=True, slots=True)
class Segment:
    """A group of an event's registrations: ``condition(arg)`` filters them."""

    name: str
    label: str  # English admin label (translated by the admin)
    condition: Condition
    arg: str = ""  # what the argument is ("category"), empty when none
    # Whose rows the condition filters: "registrations", or "waitlist" (runners waiting for a slot
    # of a sold-out category, most with no registration yet).
    source: str = "registrations"

    @property
    def model(self) -> Any:
        return WaitlistEntry if self.source == "waitlist" else Registration


SEGMENTS: dict[str, Segment] = {}


def register_segment(
    name: str, label: str, condition: Condition, *, arg: str = "", source: str = "registrations"
) -> None:
    """Add a segment (the waiting list and custom-question answers plug in here)."""
    SEGMENTS[name] = Segment(name, label, condition, arg, source)


def _checked_in() -> ColumnElement[bool]:
    return exists().where(CheckIn.registration_id == Registration.id)


def _category(arg: str) -> ColumnElement[bool]:
    if not arg.isdecimal():
        raise InvalidSetting("choose a category")
    return and_(
        Registration.category_id == int(arg), Registration.status.in_(values(ACTIVE_STATUSES))
    )


PAID = Registration.status == RegistrationStatus.PAID.value
register_segment(
    "all", "Everyone registered", lambda _a: Registration.status.in_(values(ACTIVE_STATUSES))
)
register_segment(
    "unpaid", "Not paid yet", lambda _a: Registration.status.in_(values(AWAITING_STATUSES))
)
register_segment("paid", "Paid", lambda _a: PAID)
register_segment("category", "One category", _category, arg="category")
register_segment("checked_in", "Picked up the race pack", lambda _a: and_(PAID, _checked_in()))
register_segment(
    "not_checked_in", "Paid, race pack not picked up", lambda _a: and_(PAID, ~_checked_in())
)


def _waiting(arg: str) -> ColumnElement[bool]:
    """Runners still on a waiting list (waiting or offered a slot); ``arg``: one category, or all."""
    live = WaitlistEntry.status.in_(LIVE)
    return and_(live, WaitlistEntry.category_id == int(arg)) if arg.isdecimal() else live


def _answered(arg: str) -> ColumnElement[bool]:
    """Active registrations whose runner gave ``value`` to custom question ``id``: arg "id=value".

    Compared case-insensitively on the stored text (choice questions store the Indonesian option).
    """
    question, _, value = arg.partition("=")
    if not question.isdecimal() or not value.strip():
        raise InvalidSetting("choose a question and an answer")
    answer = func.lower(Participant.answers[f"q{int(question)}"].as_string())
    return and_(
        Registration.status.in_(values(ACTIVE_STATUSES)),
        Registration.participant_id.in_(
            select(Participant.id).where(answer == value.strip().lower())
        ),
    )


register_segment("waitlist", "On the waiting list", _waiting, source="waitlist")
register_segment("answer", "Gave an answer to a question", _answered, arg="answer")


def _segment(name: str) -> Segment:
    if name not in SEGMENTS:
        raise InvalidSetting("unknown segment")
    return SEGMENTS[name]


def _stopped(model: Any = Registration) -> ColumnElement[bool]:
    """The row's chat said STOP (by chat, or by phone on the other WhatsApp channel)."""
    by_chat = exists().where(
        BroadcastOptOut.channel == model.channel,
        BroadcastOptOut.chat_id == model.chat_id,
    )
    by_phone = and_(
        model.channel.in_(WHATSAPP_CHANNELS),
        exists().where(BroadcastOptOut.phone == model.chat_id),
    )
    return or_(by_chat, by_phone)


def _members(event_id: int, segment: str, arg: str) -> list[ColumnElement[bool]]:
    model = _segment(segment).model
    return [
        model.event_id == event_id,
        model.channel != Channel.EMAIL.value,
        _segment(segment).condition(arg),
    ]


@dataclass(frozen=True, slots=True)
class Reach:
    """How many chats a segment reaches now, and how many of its chats said STOP."""

    chats: int
    stopped: int


def reach(session: Session, *, event_id: int, segment: str, arg: str = "") -> Reach:
    model = _segment(segment).model
    chats = (
        select(model.channel, model.chat_id, _stopped(model).label("stopped"))
        .where(*_members(event_id, segment, arg))
        .distinct()
        .subquery()
    )
    total = session.scalar(select(func.count()).select_from(chats)) or 0
    stopped = session.scalar(select(func.count()).select_from(chats).where(chats.c.stopped)) or 0
    return Reach(chats=total - stopped, stopped=stopped)


def create(
    session: Session,
    *,
    event_id: int,
    segment: str,
    text: str,
    actor: str,
    arg: str = "",
    image_path: str | None = None,
) -> Broadcast:
    """Record a send (the job writes its outbox rows); audited with its reach."""
    text = text.strip()
    if session.get(Event, event_id) is None:
        raise InvalidSetting("choose an event")
    if not text:
        raise InvalidSetting("the message is empty")
    if len(text) > MAX_TEXT:
        raise InvalidSetting(f"the message is longer than {MAX_TEXT} characters")
    now_reach = reach(session, event_id=event_id, segment=segment, arg=arg)
    row = Broadcast(event_id=event_id, segment=segment, segment_arg=arg, text=text,
                    image_path=image_path, created_by=actor)  # fmt: skip
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action="broadcast.sent", subject_type="broadcast",
                 subject_id=row.id, event_id=event_id, segment=segment, arg=arg,
                 chats=now_reach.chats, stopped=now_reach.stopped)  # fmt: skip
    return row


def message_for(broadcast: Broadcast, language: str) -> Reply:
    """The broadcast as one runner reads it: the text, the STOP line in their language, the image."""
    return message_for_text(broadcast.text, broadcast.image_path, language)


def message_for_text(text: str, image_path: str | None, language: str) -> Reply:
    body = f"{text}\n\n{t('broadcast.footer', language)}"
    return Reply(body, image_path=image_path, kind="broadcast")


def outbox_key(broadcast_id: int, channel: str, chat_id: str) -> str:
    # workers' WhatsApp window plan recognises "broadcast:<id>:" (core.messaging.window.KINDS).
    return f"broadcast:{broadcast_id}:{channel}:{chat_id}"


@dataclass(frozen=True, slots=True)
class Batch:
    rows: list[OutboundMessage]  # outbox rows to hand to delivery after commit
    done: bool


def write_batch(session: Session, broadcast_id: int, *, limit: int = BATCH) -> Batch:
    """Write the outbox rows of the next ``limit`` registrations after the cursor, in id order.

    The broadcast row is locked: two deliveries of the job never write the same batch, and a
    retried batch finds its rows by key (one chat, one row, even with several registrations).
    """
    broadcast = session.get(Broadcast, broadcast_id, with_for_update=True)
    if broadcast is None or broadcast.status != "writing":
        return Batch([], True)
    members = _members(broadcast.event_id, broadcast.segment, broadcast.segment_arg)
    model = _segment(broadcast.segment).model
    batch = session.execute(
        select(model, _stopped(model).label("stopped"))
        .where(*members, model.id > broadcast.cursor)
        .order_by(model.id)
        .limit(limit)
    ).all()
    rows: list[OutboundMessage] = []
    stopped_count = 0
    for reg, stopped in batch:
        outcome = _write_one(
            session, broadcast.id, broadcast.text, broadcast.image_path, reg, stopped
        )
        if isinstance(outcome, OutboundMessage):
            rows.append(outcome)
        stopped_count += outcome == STOPPED
    # Counters set once per batch: one UPDATE of the broadcast row, not one per recipient.
    broadcast.written += len(rows)
    broadcast.skipped += stopped_count
    broadcast.updated_at = utcnow()
    if batch:
        broadcast.cursor = batch[-1][0].id
    if len(batch) < limit:
        broadcast.status, broadcast.finished_at = "written", utcnow()
    return Batch(rows, broadcast.status == "written")


def _write_one(
    session: Session,
    broadcast_id: int,
    text: str,
    image: str | None,
    reg: Registration | WaitlistEntry,
    stopped: bool,
) -> OutboundMessage | str | None:
    """One chat's outbox row and recipient row: the new outbox row, STOPPED, or None (written
    already for another registration of the chat). ``reg`` may be a waiting-list entry."""
    registration_id = reg.id if isinstance(reg, Registration) else reg.registration_id
    row = None
    if not stopped:
        # A chat's second registration finds the first one's row by key (nothing new written).
        reply = message_for_text(text, image, reg.language)
        row = outbox.write(
            session, channel=reg.channel, recipient=reg.chat_id, reply=reply,
            idempotency_key=outbox_key(broadcast_id, reg.channel, reg.chat_id),
            priority=outbox.PRIORITY_BROADCAST, registration_id=registration_id,
        )  # fmt: skip
    recipient = {"broadcast_id": broadcast_id, "channel": reg.channel, "chat_id": reg.chat_id,
                 "registration_id": registration_id, "outbound_id": row.id if row else None,
                 "skipped": STOPPED if stopped else None, "created_at": utcnow()}  # fmt: skip
    keys = ["broadcast_id", "channel", "chat_id"]
    if not insert_ignore(session, BroadcastRecipient.__table__, [recipient], keys=keys):
        return None
    return STOPPED if stopped else row


def stalled(session: Session, *, now: datetime, quiet: timedelta = STALL_AFTER) -> list[int]:
    """Broadcasts still being written whose last batch is older than ``quiet`` (job lost)."""
    return list(
        session.scalars(
            select(Broadcast.id).where(
                Broadcast.status == "writing",
                func.coalesce(Broadcast.updated_at, Broadcast.created_at) < now - quiet,
            )
        )
    )


def progress(session: Session, broadcast_id: int) -> dict[str, Any]:
    """Counts for the progress bar: sent, failed, pending (incl. waiting for the runner), stopped."""
    broadcast = session.get(Broadcast, broadcast_id)
    if broadcast is None:
        raise NotFound("no such broadcast")
    counts = dict(
        session.execute(
            select(OutboundMessage.status, func.count())
            .join(BroadcastRecipient, BroadcastRecipient.outbound_id == OutboundMessage.id)
            .where(BroadcastRecipient.broadcast_id == broadcast_id)
            .group_by(OutboundMessage.status)
        ).all()
    )
    sent, failed = counts.get("sent", 0), counts.get("failed", 0)
    return {
        "status": broadcast.status, "written": broadcast.written, "stopped": broadcast.skipped,
        "sent": sent, "failed": failed, "pending": broadcast.written - sent - failed,
        "waiting": counts.get("waiting", 0),
        "done": broadcast.status == "written" and sent + failed == broadcast.written,
    }  # fmt: skip


def recipients(
    session: Session, broadcast_id: int, *, limit: int = 100, offset: int = 0
) -> list[tuple[BroadcastRecipient, OutboundMessage | None, str | None]]:
    """Per-recipient results (recipient, its outbox row, registration number), in written order."""
    rows = session.execute(
        select(BroadcastRecipient, OutboundMessage, Registration.number)
        .outerjoin(OutboundMessage, OutboundMessage.id == BroadcastRecipient.outbound_id)
        .outerjoin(Registration, Registration.id == BroadcastRecipient.registration_id)
        .where(BroadcastRecipient.broadcast_id == broadcast_id)
        .order_by(BroadcastRecipient.id)
        .limit(limit)
        .offset(offset)
    )
    return [(recipient, row, number) for recipient, row, number in rows]


# -- STOP / START ---------------------------------------------------------------------------


def is_opted_out(session: Session, *, channel: str, chat_id: str) -> bool:
    return (
        session.scalar(
            select(BroadcastOptOut.id).where(
                BroadcastOptOut.channel == channel, BroadcastOptOut.chat_id == chat_id
            )
        )
        is not None
    )


def opt_out(session: Session, *, channel: str, chat_id: str, phone: str | None = None) -> bool:
    """The chat said STOP; True when it was not opted out before (audited then)."""
    row = {"channel": channel, "chat_id": chat_id, "phone": phone, "created_at": utcnow()}
    added = insert_ignore(session, BroadcastOptOut.__table__, [row], keys=["channel", "chat_id"])
    if added:
        audit.record(session, actor="runner", action="broadcast.stopped",
                     subject_type="chat", subject_id=channel)  # fmt: skip
    return bool(added)


def opt_in(session: Session, *, channel: str, chat_id: str) -> bool:
    """The chat said START; True when it had said STOP before (audited then)."""
    result = session.execute(
        BroadcastOptOut.__table__.delete().where(
            BroadcastOptOut.channel == channel, BroadcastOptOut.chat_id == chat_id
        )
    )
    if result.rowcount:
        audit.record(session, actor="runner", action="broadcast.started",
                     subject_type="chat", subject_id=channel)  # fmt: skip
    return bool(result.rowcount)
