"""Runner self-service after registration: UBAH JERSEY, GANTI KATEGORI, ALIHKAN, BATALKAN.

A change is a short exchange outside the registration draft: pick the registration (when the chat
has several), give the new value, confirm where it matters. Its progress lives in the answers under
``_change`` while ``pending.kind`` is CHANGE; the rules and the writes are core's use cases.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.enums import ACTIVE_STATUSES
from core.errors import ServiceError
from core.events import pricing
from core.fulfilment import tickets
from core.i18n import t, words
from core.messages import InboundMessage, Reply
from core.models import Category, Conversation, JerseyStock, Registration
from core.payments import category_change
from core.registration import changes, intake
from flows import parsers, pending, starting
from flows.spec import Ctx, Invalid

KEY = "_change"
KINDS = ("jersey", "category", "transfer", "cancel")
PERSON = ("full_name", "gender", "date_of_birth", "email", "phone", "emergency_name")
PERSON += ("emergency_phone",)
# A confirmed change: what YA runs, and the replies once it is done.
Change = Callable[[Session, Conversation, dict[str, Any], Registration, datetime], Any]
Done = Callable[[Session, Conversation, Registration], list[Reply]]
Step = Callable[
    [Session, Conversation, dict[str, Any], Registration, str, datetime], list[Reply] | None
]


def detect(message: InboundMessage, *, drafting: bool) -> tuple[str, str | None] | None:
    """("jersey", "XL") for "UBAH JERSEY XL"; bare BATALKAN outside a draft means the registration."""
    text = parsers.norm(message.choice or message.text or "")
    if not text or len(text) > 40:
        return None
    if text == "batalkan" and not drafting:
        return "cancel", None
    for kind in KINDS:
        for phrase in sorted(words(f"words.change.{kind}"), key=len, reverse=True):
            if text == phrase or text.startswith(phrase + " "):
                arg = text[len(phrase) :].strip() or None
                return (kind, arg) if kind in ("jersey", "category") or arg is None else None
    return None


def start(
    session: Session, conversation: Conversation, kind: str, arg: str | None, *, now: datetime
) -> list[Reply]:
    """Begin a change: ask which registration, or go on with the only one."""
    regs = _changeable(session, conversation)
    language = conversation.language
    if not regs:
        return [Reply(t("changes.none", language))]
    state = {"kind": kind, "ids": [r.id for r in regs], "arg": arg}
    if len(regs) > 1:
        _put(conversation, {**state, "step": "pick"})
        items = [f"{r.number} — {r.participant.full_name} ({r.category.code})" for r in regs]
        return [Reply(t("changes.pick", language, items=items))]
    return _chosen(session, conversation, state, regs[0], now)


def answer(
    session: Session, conversation: Conversation, _message: InboundMessage, text: str, now: datetime
) -> list[Reply] | None:
    """The runtime's handler while a change waits for the runner's reply."""
    state = dict((conversation.answers or {}).get(KEY) or {})
    reg = session.get(Registration, state.get("reg")) if state.get("reg") else None
    step = state.get("step")
    if step == "pick":
        return _pick(session, conversation, state, text, now)
    if reg is None or step not in STEPS:
        _done(conversation)
        return None
    return STEPS[step](session, conversation, state, reg, text, now)


def _changeable(session: Session, conversation: Conversation) -> list[Registration]:
    active = {s.value for s in ACTIVE_STATUSES}
    rows = intake.for_chat(session, channel=conversation.channel, chat_id=conversation.chat_id)
    return [r for r in rows if r.status in active]


def _pick(
    session: Session, conversation: Conversation, state: dict[str, Any], text: str, now: datetime
) -> list[Reply]:
    value = parsers.norm(parsers.unnumbered(text))
    ids = list(state.get("ids") or [])
    if not (value.isdecimal() and 1 <= int(value) <= len(ids)):
        return [Reply(t("changes.invalid_choice", conversation.language))]
    reg = session.get(Registration, ids[int(value) - 1])
    if reg is None:
        _done(conversation)
        return [Reply(t("changes.none", conversation.language))]
    return _chosen(session, conversation, state, reg, now)


def _chosen(
    session: Session,
    conversation: Conversation,
    state: dict[str, Any],
    reg: Registration,
    now: datetime,
) -> list[Reply]:
    """Ask for the value (or use the one typed with the command)."""
    kind, language = state["kind"], conversation.language
    if not changes.self_service_open(reg.event, now):
        _done(conversation)
        return [Reply(t("changes.closed", language))]
    state = {**state, "reg": reg.id, "step": kind}
    _put(conversation, state)
    if state.get("arg"):
        return STEPS[kind](session, conversation, state, reg, state["arg"], now)
    if kind == "jersey":
        sizes = ", ".join(_sizes(session, reg))
        current, name = reg.participant.jersey_size, reg.participant.full_name
        return [Reply(t("changes.ask_jersey", language, name=name, current=current, sizes=sizes))]
    if kind == "category":
        return [Reply(_ask_category(session, reg, language, now))]
    if kind == "transfer":
        return [Reply(t("changes.ask_transfer", language, number=reg.number))]
    rule = reg.event.text_for("refund_rule", language)
    name = reg.participant.full_name
    return [Reply(t("changes.ask_cancel", language, number=reg.number, name=name, rule=rule))]


def _sizes(session: Session, reg: Registration) -> list[str]:
    rows = session.scalars(
        select(JerseyStock)
        .where(JerseyStock.event_id == reg.event_id)
        .order_by(JerseyStock.sort_order, JerseyStock.id)
    )
    return [row.size for row in rows if row.left > 0]


def _ask_category(session: Session, reg: Registration, language: str, now: datetime) -> str:
    items = []
    for cat in _categories(session, reg):
        tiers = pricing.tiers_by_category(session, [cat.id]).get(cat.id, ())
        quote = pricing.current(cat.price, tiers, now=now)
        left = "" if cat.slots_left > 0 else " ✖"
        items.append(
            f"{cat.code} — {cat.name}: {pricing.price_text(quote, language=language, timezone=reg.event.timezone)}{left}"
        )
    name, current = reg.participant.full_name, reg.category.code
    return t("changes.ask_category", language, name=name, current=current, items=items)


def _categories(session: Session, reg: Registration) -> list[Category]:
    stmt = select(Category).where(Category.event_id == reg.event_id, Category.id != reg.category_id)
    return list(session.scalars(stmt.order_by(Category.sort_order, Category.id)))


def _jersey(
    session: Session,
    conversation: Conversation,
    _state: dict[str, Any],
    reg: Registration,
    text: str,
    now: datetime,
) -> list[Reply]:
    size = parsers.norm(text).upper()
    if size not in _sizes(session, reg) and size not in {reg.participant.jersey_size}:
        sizes = ", ".join(_sizes(session, reg))
        return [Reply(t("changes.invalid_choice", conversation.language) + f" ({sizes})")]
    old = reg.participant.jersey_size
    who = _who(conversation)
    failed = _attempt(
        session,
        lambda: changes.change_jersey(session, registration_id=reg.id, size=size, who=who, now=now),
        conversation,
        size=size,
    )
    if failed:
        return failed
    name = reg.participant.full_name
    done = t("changes.jersey_done", conversation.language, name=name, old=old, new=size)
    return [Reply(done)] + tickets_again(session, reg)


def _category(
    session: Session,
    conversation: Conversation,
    _state: dict[str, Any],
    reg: Registration,
    text: str,
    now: datetime,
) -> list[Reply]:
    language = conversation.language
    wanted = parsers.norm(text).upper()
    target = next((c for c in _categories(session, reg) if c.code.upper() == wanted), None)
    if target is None:
        return [Reply(t("changes.invalid_choice", language))]
    result: list[category_change.Repriced] = []
    failed = _attempt(
        session,
        lambda: result.append(
            category_change.change_category(
                session,
                registration_id=reg.id,
                category_id=target.id,
                who=_who(conversation),
                now=now,
            )
        ),
        conversation,
    )
    if failed:
        return failed
    return _settled(session, reg, result[0], target.name, language)


def _settled(
    session: Session, reg: Registration, money: category_change.Repriced, name: str, language: str
) -> list[Reply]:
    """The moved registration's price, what is owed or refunded, and its new ticket."""
    runner = reg.participant.full_name
    done = t("changes.category_done", language, name=runner, category=name, price=money.new_price)
    replies = [Reply(done)]
    if money.to_pay:
        replies.append(Reply(t("changes.category_pay", language, amount=money.to_pay)))
        replies += category_change.pay_difference(
            session, registration=reg, amount=money.to_pay, language=language
        )
    if money.refund:
        replies.append(Reply(t("changes.category_refund", language, amount=money.refund)))
    return replies + tickets_again(session, reg)


def _transfer(
    session: Session,
    conversation: Conversation,
    state: dict[str, Any],
    reg: Registration,
    text: str,
    now: datetime,
) -> list[Reply] | None:
    language = conversation.language
    if "\n" not in text.strip():
        # One line is no answer to a seven-line form ("transfer" also means "I paid by transfer"):
        # forget the change and treat the message as usual.
        _done(conversation)
        return None
    try:
        person = _person(text, _ctx(session, conversation, reg, now))
    except Invalid as exc:
        reason = t(exc.key, language, **exc.params)
        return [Reply(t("changes.transfer_invalid", language, reason=reason))]
    _put(conversation, {**state, "step": "transfer_confirm", "person": person})
    name = person["full_name"]
    return [Reply(t("changes.transfer_confirm", language, number=reg.number, name=name))]


def _ctx(session: Session, conversation: Conversation, reg: Registration, now: datetime) -> Ctx:
    from flows import context  # noqa: PLC0415 - context imports the catalogue; only transfers need it

    answers = {"event": reg.event.slug, "category": reg.category.code}
    return context.build(session, conversation, now=now, answers=answers)


def _person(text: str, ctx: Ctx) -> dict[str, str]:
    """Seven labelled-or-not lines, read by the registration flow's own parsers."""
    lines = [line.split(":", 1)[-1].strip() for line in text.splitlines() if line.strip()]
    if len(lines) != len(PERSON):
        raise Invalid("changes.lines", count=len(PERSON))
    ctx.known_phone = ctx.shared_phone = None
    values = dict(zip(PERSON, lines, strict=True))
    person = {
        "full_name": parsers.person_name(values["full_name"], ctx),
        "gender": parsers.gender(values["gender"], ctx),
        "date_of_birth": parsers.date_of_birth(values["date_of_birth"], ctx),
        "email": parsers.email(values["email"], ctx),
        "phone": parsers.phone(values["phone"], ctx),
        "emergency_name": parsers.person_name(values["emergency_name"], ctx),
    }
    ctx.answers = {**ctx.answers, "phone": person["phone"]}
    person["emergency_phone"] = parsers.emergency_phone(values["emergency_phone"], ctx)
    return person


def _confirm(run: Change, done: Done) -> Step:
    """A yes/no step: TIDAK keeps the registration as it is; YA runs the change in a savepoint
    (a refusal is told, nothing half-done) and answers with ``done``. Other text: not ours."""

    def step(
        session: Session,
        conversation: Conversation,
        state: dict[str, Any],
        reg: Registration,
        text: str,
        now: datetime,
    ) -> list[Reply] | None:
        value = starting.yes_no(text)
        if value is None:
            return None
        if value is False:
            _done(conversation)
            return [Reply(t("changes.kept", conversation.language))]
        action = lambda: run(session, conversation, state, reg, now)  # noqa: E731
        return _attempt(session, action, conversation) or done(session, conversation, reg)

    return step


def _run_transfer(
    session: Session, conversation: Conversation, state: dict[str, Any], reg: Registration,
    now: datetime,
) -> None:  # fmt: skip
    person = dict(state.get("person") or {})
    stored = {**person, "date_of_birth": _date(person.get("date_of_birth"))}
    changes.transfer(
        session, registration_id=reg.id, person=stored, who=_who(conversation), now=now
    )


def _transferred(session: Session, conversation: Conversation, reg: Registration) -> list[Reply]:
    name = reg.participant.full_name
    done = [Reply(t("changes.transfer_done", conversation.language, number=reg.number, name=name))]
    changes.tell_holders(session, reg, tell_old=False)
    return done


def _date(value: Any) -> Any:
    from datetime import date  # noqa: PLC0415

    return date.fromisoformat(value) if isinstance(value, str) and value else None


def _run_cancel(
    session: Session, conversation: Conversation, _state: dict[str, Any], reg: Registration,
    now: datetime,
) -> None:  # fmt: skip
    changes.cancel(session, registration_id=reg.id, who=_who(conversation), now=now)


def _cancelled(_session: Session, conversation: Conversation, reg: Registration) -> list[Reply]:
    return [Reply(t("changes.cancel_done", conversation.language, number=reg.number))]


def tickets_again(session: Session, reg: Registration) -> list[Reply]:
    """A changed paid registration's new ticket, in this chat."""
    reply = tickets.ticket_reply(session, registration=reg, language=reg.language)
    return [reply] if reply is not None else []


def _attempt(
    session: Session, action: Any, conversation: Conversation, **params: Any
) -> list[Reply] | None:
    """Run a change in a savepoint; a refusal is told, the change forgotten, nothing half-done."""
    session_error: ServiceError | None = None
    try:
        with session.begin_nested():
            action()
    except ServiceError as exc:
        session_error = exc
    _done(conversation)
    if session_error is None:
        return None
    text = t(session_error.key, conversation.language, **{**params, **session_error.params})
    return [Reply(text)]


def _who(conversation: Conversation) -> changes.Who:
    return changes.Who(f"{conversation.channel}:{conversation.id}", by_runner=True)


def _put(conversation: Conversation, state: dict[str, Any]) -> None:
    conversation.answers = {**(conversation.answers or {}), KEY: state}
    pending.put(conversation, pending.of(conversation).awaiting(pending.CHANGE))


def _done(conversation: Conversation) -> None:
    answers = dict(conversation.answers or {})
    answers.pop(KEY, None)
    conversation.answers = answers
    pending.put(conversation, pending.of(conversation).awaiting(None))


STEPS = {
    "jersey": _jersey,
    "category": _category,
    "transfer": _transfer,
    "transfer_confirm": _confirm(_run_transfer, _transferred),
    "cancel": _confirm(_run_cancel, _cancelled),
}
