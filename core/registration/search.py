"""Finding registrations: the organiser's filters, paged search, one by id (read only)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, joinedload

from core.errors import NotFound
from core.models import Participant, Registration


@dataclass(frozen=True)
class Filters:
    """The registrations list filters (also used by the participants export)."""

    q: str = ""
    event_id: int | None = None
    category_id: int | None = None
    status: str = ""
    jersey: str = ""


@dataclass(frozen=True)
class Page:
    rows: list[Registration]
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def filtered(filters: Filters) -> Select[tuple[Registration]]:
    """Build the SELECT of registrations matching ``filters`` (joined with participant)."""
    stmt = select(Registration).join(Participant, Registration.participant_id == Participant.id)
    if filters.event_id:
        stmt = stmt.where(Registration.event_id == filters.event_id)
    if filters.category_id:
        stmt = stmt.where(Registration.category_id == filters.category_id)
    if filters.status:
        stmt = stmt.where(Registration.status == filters.status)
    if filters.jersey:
        stmt = stmt.where(Participant.jersey_size == filters.jersey)
    term = filters.q.strip()
    if term:
        like = f"%{term.lower()}%"
        digits = "".join(ch for ch in term if ch.isdecimal())
        conditions = [
            func.lower(Participant.full_name).like(like),
            func.lower(Registration.number).like(like),
            func.lower(Participant.email).like(like),
            func.lower(Registration.bib).like(like),
        ]
        if len(digits) >= 4:  # Participant.phone is +62812... (core.phones); match the typed tail
            tail = digits[1:] if digits.startswith("0") else digits
            conditions.append(Participant.phone.like(f"%{tail}%"))
        stmt = stmt.where(or_(*conditions))
    return stmt


def search(session: Session, *, filters: Filters, page: int = 1, per_page: int = 50) -> Page:
    """Return one page of registrations, newest first."""
    stmt = filtered(filters)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    number = max(1, min(page, max(1, math.ceil(total / per_page))))
    rows = session.scalars(
        stmt.options(joinedload(Registration.participant), joinedload(Registration.category))
        .order_by(Registration.id.desc())
        .limit(per_page)
        .offset((number - 1) * per_page)
    ).all()
    return Page(rows=list(rows), number=number, per_page=per_page, total=int(total))


def get(session: Session, registration_id: int) -> Registration:
    """Return a registration or raise NotFound."""
    registration = session.get(Registration, registration_id)
    if registration is None:
        raise NotFound(f"registration {registration_id}")
    return registration
