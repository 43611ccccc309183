"""Idle drafts: one reminder after 24 hours, dropped after 7 days (the runner is told next time).

Drafts never hold a slot, so dropping one releases nothing; it only forgets the answers.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from core.db import skip_locked
from core.i18n import t
from core.messages import Reply
from core.messaging import outbox
from core.models import Conversation, OutboundMessage
from flows import event_steps, runtime
from flows.registration import REGISTRATION

REMIND_AFTER = timedelta(hours=24)


def sweep_idle(session: Session, *, now: datetime, limit: int = 200) -> list[OutboundMessage]:
    """Drop drafts idle for 7 days, then remind (once) those idle for 24 h; return outbox rows.

    Two separate passes, each over rows it will change: a dropped draft leaves the flow and a
    reminded one gets ``idle_reminded_at``, so neither is selected again and ``limit`` never fills
    up with rows already handled (new drafts would otherwise wait behind them forever).
    """
    for conversation in session.scalars(_idle(session, now - runtime.DRAFT_TTL, limit)):
        runtime.drop_draft(session, conversation)
    stmt = _idle(session, now - REMIND_AFTER, limit).where(
        Conversation.idle_reminded_at.is_(None),
        Conversation.last_activity_at > now - runtime.DRAFT_TTL,
    )
    written = []
    for conversation in session.scalars(stmt):
        last = conversation.last_activity_at
        if last is not None:
            conversation.idle_reminded_at = now
            written.append(_remind(session, conversation, last))
    return written


def _idle(session: Session, since: datetime, limit: int) -> Select[tuple[Conversation]]:
    return (
        select(Conversation)
        .where(
            or_(
                Conversation.state.in_(REGISTRATION.keys),
                Conversation.state.in_(event_steps.FIXED_KEYS),
                Conversation.state.like("q%"),  # an event question "q<id>"
            ),
            Conversation.last_activity_at <= since,
        )
        .order_by(Conversation.last_activity_at, Conversation.id)
        .limit(limit)
        # Several workers may run the job: each conversation is handled by whoever locks it first.
        .with_for_update(**skip_locked(session))
    )


def _remind(session: Session, conversation: Conversation, last: datetime) -> OutboundMessage:
    return outbox.write(
        session,
        channel=conversation.channel,
        recipient=conversation.chat_id,
        reply=Reply(t("flow.draft_reminder", conversation.language), kind="reminder"),
        idempotency_key=f"draft-reminder:{conversation.id}:{last.isoformat()}",
        priority=outbox.PRIORITY_REMINDER,
        conversation_id=conversation.id,
    )
