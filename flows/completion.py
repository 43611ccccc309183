"""Confirming a registration: one savepoint around submit + amount, replies for every outcome."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from sqlalchemy.orm import Session

from core.errors import DuplicateParticipant, SoldOut
from core.fulfilment import consent, paid, tickets
from core.i18n import t
from core.messages import Reply
from core.models import Conversation, Registration
from core.payments import amounts
from core.registration import intake
from core.registration.vouchers import VoucherRefused
from flows import context, engine, event_steps, pending, pricing
from flows.registration import REGISTRATION
from flows.spec import Ctx

log = logging.getLogger(__name__)


def submit(
    session: Session, conversation: Conversation, ctx: Ctx, *, now: datetime
) -> tuple[str, dict, list[Reply]]:
    """Submit the draft; return (new state, new answers, replies).

    A sold-out category or jersey size, or a duplicate email/NIK, sends the runner back to that one
    question with every other answer kept; the summary follows once it is answered.
    """
    event = ctx.event
    if event is None:  # closed meanwhile: the draft is kept, as the message says
        return "confirm", dict(ctx.answers), [Reply(t("flow.event_gone", ctx.language))]
    submission = submission_for(conversation, ctx, event_id=event.id)
    try:
        registration = submit_registration(session, submission, now=now)
    except intake.PriceChanged as err:
        text = t("pricing.changed", ctx.language, category=submission.category_code, **err.params)
        return _summary_again(session, conversation, ctx, now, text)
    except VoucherRefused as err:
        reason = t(err.key, ctx.language, **err.params)
        text = t("pricing.refused.at_confirm", ctx.language, reason=reason)
        return _back_to(session, conversation, ctx, now, pricing.KEY, text)
    except SoldOut as err:
        return _back_to(
            session, conversation, ctx, now, _sold_out_step(err), _sold_out_text(err, ctx)
        )
    except DuplicateParticipant as err:
        field = str(err.params.get("field", "email"))
        text = t(f"flow.duplicate_{field}", ctx.language, value=err.params.get("value", ""))
        return _back_to(session, conversation, ctx, now, field, text)
    log.info("registration %s submitted from conversation %s", registration.id, conversation.id)
    return "idle", {}, _submitted(session, registration, ctx.language)


def submission_for(conversation: Conversation, ctx: Ctx, *, event_id: int) -> intake.Submission:
    """The draft's answers as a submission from this chat."""
    return intake.Submission(
        event_id=event_id,
        category_code=str(ctx.answers.get("category")),
        answers={k: v for k, v in ctx.answers.items() if not pending.is_internal(k)},
        channel=conversation.channel,
        chat_id=conversation.chat_id,
        language=ctx.language,
        conversation_id=conversation.id,
        voucher_code=ctx.answers.get(pricing.KEY) or None,
        expected_price=ctx.answers.get(pricing.SHOWN),
    )


def refusal_text(err: Exception, ctx: Ctx) -> str:
    """What the runner reads when a submit is refused (sold out, duplicate, code, price)."""
    if isinstance(err, SoldOut):
        return _sold_out_text(err, ctx)
    if isinstance(err, DuplicateParticipant):
        field = str(err.params.get("field", "email"))
        return t(f"flow.duplicate_{field}", ctx.language, value=err.params.get("value", ""))
    if isinstance(err, VoucherRefused):
        reason = t(err.key, ctx.language, **err.params)
        return t("pricing.refused.at_confirm", ctx.language, reason=reason)
    params = getattr(err, "params", {})
    return t("pricing.changed", ctx.language, category=ctx.answers.get("category"), **params)


def submit_registration(
    session: Session, submission: intake.Submission, *, now: datetime
) -> Registration:
    """The "submit a registration" use case: the draft becomes a registration with its amount.

    Runs inside the caller's transaction (the conversation's, whose runtime refreshed the texts),
    in a savepoint: a refusal (SoldOut, DuplicateParticipant) undoes only the submit, never the
    conversation's own changes. The replies are written to the outbox by the caller.
    """
    with session.begin_nested():
        registration = intake.submit(session, submission=submission, now=now)
        consent.record_submission(session, registration=registration, now=now)
        if registration.price == 0:  # a 100 % voucher: no transfer, straight to BIB and ticket
            actor = f"{submission.channel}:{submission.conversation_id or '-'}"
            paid.mark_paid(session, registration=registration, actor=actor, now=now)
        else:
            amounts.assign_amount(session, registration=registration, now=now)
    return registration


def _submitted(session: Session, registration: Registration, language: str) -> list[Reply]:
    if registration.price == 0 and registration.ticket_token:
        return _free(session, registration, language)
    head = t(
        "flow.submitted",
        language,
        number=registration.number,
        category=registration.category.code,
        name=registration.participant.full_name,
    )
    # One message: confirmation, payment instructions and the "register another" hint together
    # (fewer messages per registration, issue 12); QRIS images still follow as their own photos.
    instructions = amounts.instructions(session, registration=registration, language=language)
    first = joined(Reply(head), instructions[0])
    first = joined(first, Reply(t("flow.another", language)))
    return [first, *instructions[1:]]


def joined(first: Reply, second: Reply) -> Reply:
    """``first`` and ``second`` as one message: both texts, the second's buttons and kind.

    Only a plain text ``first`` joins (no buttons, no image); otherwise both stay separate.
    """
    if first.choices or first.image_path or second.image_path:
        raise ValueError("only text messages join")
    kind = second.kind if second.kind != "reply" else first.kind
    return replace(second, text=f"{first.text}\n\n{second.text}", kind=kind)


def _free(session: Session, registration: Registration, language: str) -> list[Reply]:
    code = registration.participant.answers.get(pricing.KEY, "")
    replies = [Reply(t("pricing.free_done", language, number=registration.number, code=code))]
    ticket = tickets.ticket_reply(session, registration=registration, language=language)
    if ticket is not None:
        replies.append(ticket)
    replies.append(Reply(t("flow.another", language)))
    return replies


def _summary_again(
    session: Session, conversation: Conversation, ctx: Ctx, now: datetime, text: str
) -> tuple[str, dict, list[Reply]]:
    """The price moved: show the new summary (which remembers the new price) and ask again."""
    session.flush()
    session.expire_all()
    fresh = context.build(session, conversation, now=now, answers=dict(ctx.answers))
    summary = engine.prompt(REGISTRATION, "confirm", fresh)
    return "confirm", fresh.answers, [Reply(text), summary]


def _sold_out_step(err: SoldOut) -> str:
    """The question to ask again: the one declared with this SoldOut kind (category by default)."""
    kind = "jersey" if err.params.get("kind") == "jersey" else "category"
    return next(s.key for s in REGISTRATION.questions if s.sold_out == kind)


def _sold_out_text(err: SoldOut, ctx: Ctx) -> str:
    if err.params.get("kind") == "jersey":
        return t(
            "waitlist.jersey_sold_out_at_confirm", ctx.language, size=err.params.get("size", "")
        )
    return t("waitlist.sold_out_at_confirm", ctx.language, category=err.params.get("code", ""))


def _back_to(
    session: Session, conversation: Conversation, ctx: Ctx, now: datetime, key: str, text: str
) -> tuple[str, dict, list[Reply]]:
    # Fresh numbers: the snapshot in ctx predates the locks that just said no. Flush first so that
    # expiring does not discard pending changes to the conversation.
    session.flush()
    session.expire_all()
    fresh = context.build(session, conversation, now=now, answers=dict(ctx.answers))
    result = engine.edit(event_steps.flow_for(fresh), key, fresh)
    return result.state, result.answers, [Reply(text), *result.replies]
