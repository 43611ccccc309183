"""Files for vendors and race day: BIB printing, the timing vendor's import, the jersey order,
age-group counts. Each is a generator of rows (header first) that admin.exports streams as CSV or
XLSX with its formula-injection escaping; receipts (kwitansi) are PDFs (core.fulfilment.kwitansi).

Fields the registration flow does not ask by default are read from the participant's answers when
an event asks them as custom questions: ``bib_name`` (name printed on the BIB), ``wave``,
``nationality``, ``club`` (also a column).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from core.enums import ACTIVE_STATUSES, RegistrationStatus, values
from core.models import Category, Event, JerseyStock, Participant, Registration

BIB_NAME_MAX = 12  # what fits in large type on a race bib
BAND_YEARS = 10
# The timing vendor's import (RaceResult / MYLAPS style): one row per paid runner, these columns.
TIMING_COLUMNS = (
    "Bib", "FirstName", "LastName", "Gender", "DateOfBirth", "Category", "Club", "Nationality",
)  # fmt: skip
BIB_COLUMNS = ("Name on BIB", "BIB", "Category", "Wave", "Blood type", "Emergency phone",
               "Emergency contact", "Full name")  # fmt: skip
AGE_COLUMNS = ("Category", "Gender", "Age group", "Runners")


def _paid(session: Session, event_id: int, *, batch: int = 500) -> Iterator[Registration]:
    """Paid registrations of the event, by category and BIB (the order bibs are printed in)."""
    stmt = (
        select(Registration)
        .join(Category, Category.id == Registration.category_id)
        .where(
            Registration.event_id == event_id, Registration.status == RegistrationStatus.PAID.value
        )  # fmt: skip
        .options(joinedload(Registration.participant), joinedload(Registration.category))
        .order_by(Category.sort_order, Category.id, Registration.bib_number, Registration.id)
        .execution_options(yield_per=batch)
    )
    yield from session.scalars(stmt)


def _answer(registration: Registration, key: str) -> str:
    value = (registration.participant.answers or {}).get(key)
    return str(value).strip() if value not in (None, "") else ""


def name_on_bib(registration: Registration) -> str:
    """The runner's chosen BIB name, else their first name; upper case, at most BIB_NAME_MAX."""
    chosen = _answer(registration, "bib_name")
    words = registration.participant.full_name.split()
    name = chosen or (words[0] if words else "")
    return name.upper()[:BIB_NAME_MAX]


def bib_print_rows(session: Session, event_id: int) -> Iterator[list[Any]]:
    """The printer's file: one row per paid runner with a BIB."""
    yield list(BIB_COLUMNS)
    for reg in _paid(session, event_id):
        p = reg.participant
        yield [name_on_bib(reg), reg.bib or "", reg.category.code, _answer(reg, "wave"),
               p.blood_type or "", p.emergency_phone or "", p.emergency_name or "",
               p.full_name]  # fmt: skip


def split_name(full_name: str) -> tuple[str, str]:
    """First and last name for a timing system; a one-word name (common in Indonesia) is the
    last name too, as timing systems print the last name in results."""
    words = full_name.split()
    if not words:
        return "", ""
    if len(words) == 1:
        return words[0], words[0]
    return " ".join(words[:-1]), words[-1]


def _nationality(reg: Registration) -> str:
    # A NIK is an Indonesian identity number: its holder is Indonesian.
    return _answer(reg, "nationality").upper() or ("IDN" if reg.participant.nik else "")


def timing_rows(session: Session, event_id: int) -> Iterator[list[Any]]:
    """The timing vendor's participant import (TIMING_COLUMNS; README "Vendor and race files")."""
    yield list(TIMING_COLUMNS)
    for reg in _paid(session, event_id):
        p = reg.participant
        first, last = split_name(p.full_name)
        born = p.date_of_birth.isoformat() if p.date_of_birth else ""
        yield [reg.bib or "", first, last, (p.gender or "").upper(), born, reg.category.code,
               p.club or _answer(reg, "club"), _nationality(reg)]  # fmt: skip


def jersey_rows(session: Session, event_id: int) -> Iterator[list[Any]]:
    """Jerseys per size and category (every registration holding one), against the stock."""
    categories = list(session.scalars(
        select(Category).where(Category.event_id == event_id)
        .order_by(Category.sort_order, Category.id)
    ))  # fmt: skip
    stock = {s.size: s for s in session.scalars(
        select(JerseyStock).where(JerseyStock.event_id == event_id).order_by(JerseyStock.sort_order)
    )}  # fmt: skip
    counts: Counter[tuple[str, int]] = Counter()
    paid: Counter[str] = Counter()
    rows = session.execute(
        select(Registration.category_id, Registration.status, Participant.jersey_size)
        .join(Participant, Participant.id == Registration.participant_id)
        .where(
            Registration.event_id == event_id, Registration.status.in_(values(ACTIVE_STATUSES))
        )  # fmt: skip
    )
    for category_id, status, jersey_size in rows:
        size = jersey_size or "-"
        counts[(size, category_id)] += 1
        paid[size] += status == RegistrationStatus.PAID
    yield ["Size", *(c.code for c in categories), "Total", "Paid", "Stock", "Left over"]
    ordered = list(stock) + sorted({size for size, _c in counts} - set(stock))
    for size in ordered:
        per = [counts[(size, c.id)] for c in categories]
        total = sum(per)
        held = stock[size].stock if size in stock else None
        left = held - total if held is not None else ""
        yield [size, *per, total, paid[size], "" if held is None else held, left]


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def age_band(age: int | None) -> str:
    """ "20-29" style 10-year bands (age on race day); "unknown" without a date of birth."""
    if age is None:
        return "unknown"
    low = age // BAND_YEARS * BAND_YEARS
    return f"{low}-{low + BAND_YEARS - 1}"


def age_group_rows(session: Session, event_id: int) -> Iterator[list[Any]]:
    """Paid runners per category, gender and 10-year age band (age on race day)."""
    event = session.get(Event, event_id)
    yield list(AGE_COLUMNS)
    if event is None:
        return
    # (category order, category id, code, gender, band order, band) -> runners; sorted as keyed.
    counts: Counter[tuple[int, int, str, str, int, str]] = Counter()
    for reg in _paid(session, event_id):
        p = reg.participant
        age = age_on(p.date_of_birth, event.race_date) if p.date_of_birth else None
        c = reg.category
        band_order = age // BAND_YEARS if age is not None else 99  # "unknown" last
        counts[
            (c.sort_order, c.id, c.code, (p.gender or "-").upper(), band_order, age_band(age))
        ] += 1
    for (_order, _id, code, gender, _band_order, band), n in sorted(counts.items()):
        yield [code, gender, band, n]
