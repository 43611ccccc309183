"""Declarative building blocks of a flow: Ask (one question), Confirm (the summary), Flow."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from core.events.catalog import CatalogEvent, EventCatalog


class Invalid(Exception):  # noqa: N818  (a parse outcome, not a failure of the program)
    """An answer that does not fit; ``key`` names the correction text in the catalogue."""

    # An answer that reads fine but clashes with another answer (a birth date outside the
    # category's ages): kept aside, and used once the other answer changes so that it fits.
    held: Any = None

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


@dataclass(frozen=True)
class Option:
    """One numbered choice of a question; a disabled option is shown but cannot be picked."""

    value: str
    label: str
    detail: str = ""
    enabled: bool = True
    aliases: tuple[str, ...] = ()
    disabled_key: str = "flow.invalid.unavailable"
    short: str = ""  # a button's label ("5K · Rp150.000"): the details stay in the message text


@dataclass
class Ctx:
    """Everything a parser, prompt or `when` may look at; built by the runtime.

    Plain data except ``taken``: a duplicate lookup bound to the session (one SQL query), so the
    email and NIK parsers can refuse a participant already registered for the event.
    """

    language: str
    catalog: EventCatalog
    answers: dict[str, Any]
    today: date
    now: datetime
    known_phone: str | None = None  # the WhatsApp sender or a shared Telegram contact
    shared_phone: str | None = None  # a contact shared with this very message
    previous_emergency: tuple[str, str] | None = None  # (name, phone) from an earlier registration
    taken: Callable[[str, str], bool] = lambda _field, _value: False  # duplicate check (email, nik)
    channel: str = ""  # "telegram" shows buttons; WhatsApp and the simulator read numbered lists
    # A voucher lookup bound to the session: (code, category code, price) -> Applied, or raises
    # VoucherRefused. Read-only; intake.submit redeems under a lock.
    voucher: Callable[[str, str | None, int], Any] = lambda _c, _k, _p: None
    # Reads previous_emergency from the database on first use (one query, only the steps that ask).
    emergency_lookup: Callable[[], tuple[str, str] | None] | None = None

    def emergency_contact(self) -> tuple[str, str] | None:
        """previous_emergency, looked up on first use when the runtime left a lookup."""
        if self.emergency_lookup is not None:
            self.previous_emergency, self.emergency_lookup = self.emergency_lookup(), None
        return self.previous_emergency

    @property
    def event(self) -> CatalogEvent | None:
        """Return the event chosen in the answers (or the only open one)."""
        return self.catalog.find(self.answers.get("event"))


Parser = Callable[[str, Ctx], Any]
Choices = Callable[[Ctx], list[Option]]


@dataclass(frozen=True)
class Answer:
    """A parser result that sets more than its own key (e.g. a reused emergency contact)."""

    value: Any
    extra: Mapping[str, Any] = field(default_factory=dict)
    label: str | None = None  # what the summary shows, when not the value itself


@dataclass(frozen=True)
class Ask:
    """One question, declared once: everything the engine, summary, admin and exports need."""

    key: str
    parse: Parser
    example: str
    choices: Choices | None = None
    when: Callable[[Ctx], bool] | None = None
    recheck: Callable[[Any, Ctx], None] | None = None  # re-validate when an earlier answer changes
    display: Callable[[Any, str], str] | None = None
    prompt_params: Callable[[Ctx], dict[str, Any]] | None = None
    prompt_variant: Callable[[Ctx], str] | None = None  # e.g. "confirm" when the phone is known
    editable: bool = True
    switch_to: str | None = None  # a question the runner may jump back to (keeping every answer)
    yes_variants: tuple[str, ...] = ()  # prompt variants answered "ya" (a lone button on Telegram)
    share_contact: bool = False  # offer the "share my contact" button (the answer is a phone)
    preset: bool = False  # may come from a deep link ("/start 10K"): not progress of its own
    chooses_event: bool = False  # the answer picks the event (asked before any event is known)
    sold_out: str | None = None  # SoldOut kind a confirm may hit here ("category", "jersey")
    # An organiser-written question (flows/event_steps.py) brings its own prompt and label
    # instead of the catalogue's flow.ask.<key> / flow.label.<key>.
    prompt_text: Callable[[Ctx], str] | None = None
    label_text: Callable[[str], str] | None = None

    @property
    def prompt_key(self) -> str:
        return f"flow.ask.{self.key}"

    @property
    def label_key(self) -> str:
        return f"flow.label.{self.key}"

    def applies(self, ctx: Ctx) -> bool:
        """Return whether this question is asked for the current answers."""
        return self.when is None or bool(self.when(ctx))


@dataclass(frozen=True)
class Confirm:
    """The summary step: every answer, numbered edit options, confirm or cancel."""

    key: str = "confirm"
    editable: bool = False
    notes: Callable[[Ctx], list[str]] | None = None  # lines under the answers (price, discount)

    @property
    def prompt_key(self) -> str:
        return "flow.summary.title"

    def applies(self, _ctx: Ctx) -> bool:
        return True


Step = Ask | Confirm


@dataclass(frozen=True)
class Flow:
    """An ordered tuple of steps; the transitions machine is compiled from it."""

    name: str
    steps: tuple[Step, ...]
    max_failures: int = 3

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(step.key for step in self.steps)

    @property
    def questions(self) -> tuple[Ask, ...]:
        return tuple(step for step in self.steps if isinstance(step, Ask))

    def step(self, key: str) -> Step:
        """Return the step named ``key``."""
        for step in self.steps:
            if step.key == key:
                return step
        raise KeyError(key)
