"""A sell-out rush on PostgreSQL: a thousand runners confirming for the last slots at once.

Each runner confirms in its own unit of work, as the worker does, from a pool of threads sized to
the engine's connection pool. The category lock must hand each of the last slots to exactly one
runner, the jersey lock must never oversell a size, and every loser must get SoldOut, nothing else.
The chat variant drives the same race through the worker's process_conversation.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import pytest
from sqlalchemy import func, select

from core import demo
from core.db import unit_of_work, utcnow
from core.enums import Channel, RegistrationStatus
from core.errors import SoldOut
from core.i18n import t
from core.messages import InboundMessage
from core.messaging import inbox
from core.models import (
    AuditLog,
    Category,
    Conversation,
    InboundUpdate,
    JerseyStock,
    OutboundMessage,
    Registration,
)
from core.payments import amounts
from core.registration import intake
from tests.flows.chat import Chat

RUNNERS = 1000
SLOTS = 25  # the last slots of the category
SCARCE_LEFT = 3  # the last shirts of the scarce size
CATEGORY, SCARCE, PLENTY = "21K", "XS", "M"
THREADS = 30  # the engine's pool: pool_size 10 + max_overflow 20

pytestmark = pytest.mark.usefixtures("committed_db")


def _prepare(*, slots: int, scarce_left: int) -> tuple[int, dict[str, Any]]:
    """Seed the demo event, leave ``slots`` places and ``scarce_left`` XS shirts; return a draft."""
    with unit_of_work() as uow:
        session = uow.session
        event_id = demo.seed(session, admin_password="rush-password-123").event_id
        category = _category(session, event_id)
        category.slots_taken = category.quota - slots
        stock = _stock(session, event_id, SCARCE)
        stock.taken = stock.stock - scarce_left
        # One real chat to the summary, so the drafts below hold exactly what the flow collects.
        chat = Chat(session)
        chat.send("DAFTAR")
        chat.answer_until("confirm", {"category": CATEGORY, "jersey_size": PLENTY})
        template = {k: v for k, v in chat.conversation.answers.items() if not k.startswith("_")}
    return event_id, template


def _category(session: Any, event_id: int) -> Category:
    return session.scalars(
        select(Category).where(Category.event_id == event_id, Category.code == CATEGORY)
    ).one()


def _stock(session: Any, event_id: int, size: str) -> JerseyStock:
    return session.scalars(
        select(JerseyStock).where(JerseyStock.event_id == event_id, JerseyStock.size == size)
    ).one()


def _draft(template: dict[str, Any], n: int) -> dict[str, Any]:
    """Runner ``n``'s answers: own email (and NIK), every other runner wants the scarce size."""
    answers = {**template, "email": f"rush{n}@example.com"}
    if answers.get("nik"):
        answers["nik"] = f"3171{n:012d}"
    answers["jersey_size"] = SCARCE if n % 2 == 0 else PLENTY
    return answers


def _rush(jobs: list[Callable[[], Any]]) -> list[Any]:
    """Run the jobs from THREADS threads, released together; errors come back as values."""
    barrier = threading.Barrier(THREADS)
    started = threading.local()

    def run(job: Callable[[], Any]) -> Any:
        if not getattr(started, "done", False):
            started.done = True
            barrier.wait(timeout=30)  # every thread's first job starts at the same moment
        try:
            return job()
        except BaseException as exc:  # noqa: BLE001  (the test asserts there are none)
            return ("error", repr(exc))

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(run, jobs))


def _confirm(event_id: int, answers: dict[str, Any], n: int) -> tuple[str, Any]:
    """Confirm one draft exactly as flows.completion.submit does, in the runner's own UoW."""
    now = utcnow()
    submission = intake.Submission(
        event_id=event_id,
        category_code=str(answers["category"]),
        answers=answers,
        channel=Channel.WHATSAPP.value,
        chat_id=f"62899{n:08d}",
    )
    with unit_of_work() as uow:
        try:
            with uow.session.begin_nested():
                registration = intake.submit(uow.session, submission=submission, now=now)
                amounts.assign_amount(uow.session, registration=registration, now=now)
        except SoldOut as err:
            return "sold_out", err.params.get("kind")
        return "registered", registration.id


def test_a_thousand_runners_confirming_for_the_last_slots() -> None:
    event_id, template = _prepare(slots=SLOTS, scarce_left=SCARCE_LEFT)
    drafts = [_draft(template, n) for n in range(RUNNERS)]
    jobs = [partial(_confirm, event_id, answers, n) for n, answers in enumerate(drafts)]
    outcomes = _rush(jobs)
    assert [o for o in outcomes if o[0] not in ("registered", "sold_out")] == []
    won = [n for n, o in enumerate(outcomes) if o[0] == "registered"]
    kinds = Counter(o[1] for o in outcomes if o[0] == "sold_out")
    assert len(won) == SLOTS
    assert sum(kinds.values()) == RUNNERS - SLOTS and set(kinds) <= {"category", "jersey"}
    # Only a runner who wanted the scarce size can be told the size ran out.
    assert all(
        drafts[n]["jersey_size"] == SCARCE for n, o in enumerate(outcomes) if o[1] == "jersey"
    )
    _assert_stored(event_id, [o[1] for o in outcomes if o[0] == "registered"])


def _assert_stored(event_id: int, won_ids: list[int]) -> None:
    with unit_of_work() as uow:
        session = uow.session
        regs = list(session.scalars(select(Registration).where(Registration.event_id == event_id)))
        category = _category(session, event_id)
        scarce, plenty = _stock(session, event_id, SCARCE), _stock(session, event_id, PLENTY)
        audits = session.scalar(
            select(func.count()).where(AuditLog.action == "registration.submitted")
        )
        sizes = Counter(r.participant.jersey_size for r in regs)
    assert sorted(r.id for r in regs) == sorted(won_ids) and len(regs) == SLOTS
    assert category.slots_taken == category.quota
    assert len({r.number for r in regs}) == SLOTS
    pending = [r for r in regs if r.status == RegistrationStatus.PENDING_PAYMENT.value]
    assert len(pending) == SLOTS
    assert len({r.amount_due for r in pending}) == SLOTS, "two pending runners share an amount"
    assert all(r.amount_key == r.amount_due for r in pending)
    # Half the rush wanted XS, so its last shirts go; never one more than there were.
    assert sizes[SCARCE] == SCARCE_LEFT and scarce.taken == scarce.stock
    assert plenty.taken == sizes[PLENTY] and sizes[SCARCE] + sizes[PLENTY] == SLOTS
    assert audits == SLOTS


CHATS, CHAT_SLOTS = 100, 5


def _conversation_at_summary(template: dict[str, Any], n: int) -> tuple[int, dict[str, Any]]:
    """A WhatsApp chat parked at the summary with a complete draft; return its id and draft."""
    chat_id = f"62877{n:08d}"
    draft = {**template, "email": f"chat{n}@example.com", "phone": f"+{chat_id}"}
    with unit_of_work() as uow:
        conversation = Conversation(
            channel=Channel.WHATSAPP.value,
            chat_id=chat_id,
            state="confirm",
            answers=draft,
            phone=f"+{chat_id}",
            last_activity_at=utcnow(),
        )
        uow.session.add(conversation)
        uow.session.flush()
        return conversation.id, draft


def _say_ya(conversation_id: int) -> None:
    """Store the runner's "YA" the way the webhook does (the worker drains it)."""
    with unit_of_work() as uow:
        conversation = uow.session.get(Conversation, conversation_id)
        assert conversation is not None
        message = InboundMessage(
            channel=Channel.WHATSAPP,
            external_id=uuid.uuid4().hex,
            chat_id=conversation.chat_id,
            sender_name="Runner",
            phone=conversation.chat_id,
            text="YA",
            sent_at=utcnow(),
        )
        assert inbox.record_inbound(uow.session, message) is not None


def test_a_hundred_chats_saying_ya_for_the_last_slots(broker: Any) -> None:
    from workers.conversations import process_conversation

    _, template = _prepare(slots=CHAT_SLOTS, scarce_left=SCARCE_LEFT)
    drafts = dict(_conversation_at_summary(template, n) for n in range(CHATS))
    for conversation_id in drafts:
        _say_ya(conversation_id)
    results = _rush([partial(process_conversation.fn, c) for c in drafts])
    assert [r for r in results if r is not None] == []
    with unit_of_work() as uow:
        session = uow.session
        conversations = {c.id: c for c in session.scalars(select(Conversation))}
        replies = _replies_by_conversation(session)
        winners = {r.conversation_id: r.number for r in session.scalars(select(Registration))}
        failed = session.scalar(
            select(func.count()).where(
                (InboundUpdate.processed_at.is_(None)) | (InboundUpdate.error.is_not(None))
            )
        )
    assert failed == 0 and len(winners) == CHAT_SLOTS
    sold_out = t("waitlist.sold_out_at_confirm", "id", category=CATEGORY)
    for conversation_id, draft in drafts.items():
        conversation, text = conversations[conversation_id], replies[conversation_id]
        if conversation_id in winners:
            assert winners[conversation_id] in text and conversation.state == "idle"
            continue
        # Told it sold out, asked for another category, and nothing else they typed is lost.
        assert sold_out in text and conversation.state == "category" and "5K" in text
        kept = {k: conversation.answers.get(k) for k in draft if k != "category"}
        assert kept == {k: v for k, v in draft.items() if k != "category"}


def _replies_by_conversation(session: Any) -> dict[int, str]:
    """Each chat's queued replies as one text, choice labels included."""
    texts: dict[int, list[str]] = {}
    for row in session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)):
        if row.conversation_id is not None:
            labels = [str(c.get("label", "")) for c in row.extra.get("choices", [])]
            texts.setdefault(row.conversation_id, []).extend([row.text, *labels])
    return {k: "\n".join(v) for k, v in texts.items()}


def test_a_slice_of_the_opening_minute_through_the_webhooks(tmp_path: Any) -> None:
    """bench/rush.py in small: 20 runners through `funrun serve` + `funrun worker` processes.

    Counts only, no times (the machine is shared): every runner gets a final answer, the slots go
    to exactly as many runners, nothing is lost or sent twice (the bench's invariants).
    """
    from bench import rush

    opts = rush.Options(runners=20, burst_seconds=2, ramp_seconds=4, think=0.3, slots_ratio=0.6)
    result = rush.run(opts, rush.ROOT, "test")
    assert result["invariants"] == [], result["invariants"]
    assert result["outcomes"] == {"registered": 12, "sold_out": 8}
    # Step by step: 13 each way (greeting + first question, confirmation + payment in one);
    # the one-message form (every third runner): DAFTAR, FORMAT, the filled form, YA.
    assert result["runner_msgs_step"] == 13 and result["bot_msgs_step"] <= 13
    assert result["runner_msgs_form"] == 4 and result["bot_msgs_form"] <= 4
    # What our queues added to each send, against an ideal sender at our ceilings (no times here).
    assert set(result["queue_added"]) == {"telegram", "whatsapp"}
