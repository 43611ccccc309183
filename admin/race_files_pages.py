"""The exports page and the vendor / race files: BIB print, timing import, jersey order, age groups
(CSV and XLSX through admin.exports, with its formula-injection escaping), and kwitansi PDFs.
Admin role only; every download is audited."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from admin import exports
from admin.auth import require_roles
from admin.i18n import gettext, request_language
from admin.session import flash_redirect
from admin.templating import templates
from core.db import get_sessionmaker
from core.enums import Role
from core.errors import InvalidSetting, ServiceError
from core.fulfilment import kwitansi, race_files
from core.models import AdminUser, Event, Registration
from core.registration import groups

router = APIRouter(prefix="/admin/exports")
admin_only = require_roles(Role.ADMIN)


def _(text: str) -> str:
    return text  # marks a string for the translation catalogue (scripts/admin_po.py)


# name -> (English title, what it holds, rows(session, event_id))
FILES: dict[str, tuple[str, str, Callable[[Session, int], Iterator[list[Any]]]]] = {
    "bib-print": (_("BIB print file"), _("Name on BIB, BIB, category, wave, blood type and emergency phone of every paid runner."), race_files.bib_print_rows),
    "timing": (_("Timing vendor import"), _("RaceResult / MYLAPS style: Bib, FirstName, LastName, Gender, DateOfBirth, Category, Club, Nationality."), race_files.timing_rows),
    "jersey-order": (_("Jersey order"), _("Jerseys per size and category against the stock (every registration holding one)."), race_files.jersey_rows),
    "age-groups": (_("Age groups"), _("Paid runners per category, gender and 10-year age band (age on race day)."), race_files.age_group_rows),
}  # fmt: skip


@router.get("", response_class=HTMLResponse)
def page(
    request: Request, event_id: int | None = None, _u: AdminUser = Depends(admin_only)
) -> Response:
    with get_sessionmaker()() as session:
        events = list(session.scalars(select(Event).order_by(Event.id.desc())))
    chosen = event_id or (events[0].id if events else None)
    files = [(name, title, about) for name, (title, about, _rows) in FILES.items()]
    ctx = {"events": events, "event_id": chosen, "files": files}
    return templates.TemplateResponse(request, "exports.html", ctx)


def _download(name: str, fmt: str, event_id: int, user: AdminUser) -> Response:
    rows = FILES[name][2]
    exports._audit(user, name.replace("-", "_"), fmt, event_id=event_id)  # noqa: SLF001
    return exports._respond(lambda session: rows(session, event_id), name, fmt)  # noqa: SLF001


@router.get("/bib-print.{fmt}")
def bib_print(fmt: str, event_id: int, user: AdminUser = Depends(admin_only)) -> Response:
    return _download("bib-print", fmt, event_id, user)


@router.get("/timing.{fmt}")
def timing(fmt: str, event_id: int, user: AdminUser = Depends(admin_only)) -> Response:
    return _download("timing", fmt, event_id, user)


@router.get("/jersey-order.{fmt}")
def jersey_order(fmt: str, event_id: int, user: AdminUser = Depends(admin_only)) -> Response:
    return _download("jersey-order", fmt, event_id, user)


@router.get("/age-groups.{fmt}")
def age_groups(fmt: str, event_id: int, user: AdminUser = Depends(admin_only)) -> Response:
    return _download("age-groups", fmt, event_id, user)


def _registrations(session: Session, numbers: list[str]) -> list[Registration]:
    found = {
        r.number: r
        for r in session.scalars(
            select(Registration)
            .where(Registration.number.in_(numbers))
            .options(
                joinedload(Registration.participant),
                joinedload(Registration.category),
                joinedload(Registration.event),
            )  # fmt: skip
        )
    }
    missing = [n for n in numbers if n not in found]
    if missing:
        raise InvalidSetting(f"no registration numbered {', '.join(missing[:5])}")
    return [found[n] for n in numbers]


def _whole_group(session: Session, regs: list[Registration]) -> tuple[list[Registration], str]:
    """One number of a group registered together: the receipt covers the group, from its leader."""
    group = groups.for_registration(session, regs[0]) if len(regs) == 1 else None
    if group is None:
        return regs, ""
    members = _registrations(session, [m.number for m in groups.members(session, group)])
    return members, group.leader_name


@router.get("/kwitansi.pdf")
def receipt(
    request: Request, numbers: str = "", received_from: str = "",
    user: AdminUser = Depends(admin_only),
) -> Response:  # fmt: skip
    """One receipt for one registration number, or for several (a group paid together)."""
    wanted = list(dict.fromkeys(n.upper() for n in re.split(r"[\s,;]+", numbers) if n))
    try:
        with get_sessionmaker()() as session:
            regs, leader = _whole_group(
                session, _registrations(session, wanted[: kwitansi.MAX_GROUP + 1])
            )
            shown = kwitansi.receipt_for(regs, received_from=received_from[:200] or leader)
        pdf = kwitansi.render_pdf(shown)
    except ServiceError as exc:
        message = gettext("Receipt not made: %(why)s", request_language(request), why=str(exc))
        return flash_redirect(request, "/admin/exports#kwitansi", message, "error")
    exports._audit(user, "kwitansi", "pdf", number=shown.number, registrations=len(wanted))  # noqa: SLF001
    headers = {"Content-Disposition": f'attachment; filename="{shown.number}.pdf"',
               "Cache-Control": "private, no-store"}  # fmt: skip
    return Response(pdf, media_type="application/pdf", headers=headers)
