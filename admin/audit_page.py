"""The audit log page: every staff action and state change, filterable."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select

from admin import audit_words
from admin.auth import require_roles
from admin.i18n import gettext, request_language
from admin.templating import templates
from core.db import get_sessionmaker
from core.enums import Role
from core.models import AdminUser, AuditLog, Payment, Registration
from core.registration.search import Page

router = APIRouter(prefix="/admin")
PER_PAGE = 100


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    actor: str = "",
    action: str = "",
    subject_type: str = "",
    subject_id: str = "",
    page: int = 1,
    _user: AdminUser = Depends(require_roles(Role.ADMIN)),
) -> Response:
    stmt = _filtered(actor, action, subject_type, subject_id)
    with get_sessionmaker()() as session:
        total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        number = max(1, page)
        rows = session.scalars(
            stmt.order_by(AuditLog.id.desc()).limit(PER_PAGE).offset((number - 1) * PER_PAGE)
        ).all()
        actions = session.scalars(
            select(AuditLog.action).distinct().order_by(AuditLog.action)
        ).all()
        lang = request_language(request)
        shown = _in_words(session, list(rows), lang)
    filters = {
        "actor": actor,
        "action": action,
        "subject_type": subject_type,
        "subject_id": subject_id,
    }
    query = urlencode({k: v for k, v in filters.items() if v})
    ctx = {
        "rows": shown,
        "action_labels": {a: audit_words.action_text(a, lang) for a in actions},
        "page": Page(rows=list(rows), number=number, per_page=PER_PAGE, total=int(total)),
        "query": query,
        "actions": actions,
        "f": {
            "actor": actor,
            "action": action,
            "subject_type": subject_type,
            "subject_id": subject_id,
        },
    }
    return templates.TemplateResponse(request, "audit.html", ctx)


def _filtered(actor: str, action: str, subject_type: str, subject_id: str) -> Any:
    stmt = select(AuditLog)
    if actor:
        stmt = stmt.where(func.lower(AuditLog.actor).like(f"%{actor.lower()}%"))
    if action:
        stmt = stmt.where(AuditLog.action.like(f"{action}%"))
    if subject_type:
        stmt = stmt.where(AuditLog.subject_type == subject_type)
    if subject_id:
        stmt = stmt.where(AuditLog.subject_id == subject_id)
    return stmt


def _in_words(session: Any, rows: list[AuditLog], lang: str) -> list[dict[str, Any]]:
    """Each row as an organiser reads it: the action in words, the registration's number, the
    changed fields as "field: before → after" and the extra data as "key: value"."""
    numbers = _registration_numbers(session, rows)
    out = []
    for row in rows:
        data = {k: v for k, v in (row.data or {}).items() if k not in audit_words.HIDDEN_FIELDS}
        out.append(
            {
                "row": row,
                "what": audit_words.action_text(row.action, lang),
                "subject": _subject(row, numbers, lang),
                "changes": audit_words.changes(row, lang),
                "data": [(gettext(k.replace("_", " ").capitalize(), lang), _plain(k, v, lang))
                         for k, v in data.items()],
            }
        )  # fmt: skip
    return out


def _registration_numbers(session: Any, rows: list[AuditLog]) -> dict[tuple[str, str], tuple]:
    """(subject type, id) -> (registration id, JFR number) for registration and payment rows."""
    reg_ids = {int(r.subject_id) for r in rows if r.subject_type == "registration" and _num(r)}
    pay_ids = {int(r.subject_id) for r in rows if r.subject_type == "payment" and _num(r)}
    by_payment = dict(
        session.execute(
            select(Payment.id, Payment.registration_id).where(Payment.id.in_(pay_ids))
        ).all()
    ) if pay_ids else {}  # fmt: skip
    wanted = reg_ids | set(by_payment.values())
    number = dict(
        session.execute(
            select(Registration.id, Registration.number).where(Registration.id.in_(wanted))
        ).all()
    ) if wanted else {}  # fmt: skip
    found = {("registration", str(i)): (i, number[i]) for i in reg_ids if i in number}
    for pay, reg in by_payment.items():
        if reg in number:
            found[("payment", str(pay))] = (reg, number[reg])
    return found


def _num(row: AuditLog) -> bool:
    return str(row.subject_id or "").isdecimal()


def _subject(row: AuditLog, numbers: dict[tuple[str, str], tuple], lang: str) -> dict[str, Any]:
    """What the row is about: a link to the registration (by its JFR number) when there is one."""
    kind = gettext(str(row.subject_type or "").replace("_", " ").capitalize(), lang)
    hit = numbers.get((str(row.subject_type), str(row.subject_id)))
    if hit is None:
        return {"text": f"{kind} {row.subject_id or ''}".strip(), "href": None}
    label = hit[1] if row.subject_type == "registration" else f"{kind} #{row.subject_id} · {hit[1]}"
    return {"text": label, "href": f"/admin/registrations/{hit[0]}"}


def _plain(key: str, value: Any, lang: str) -> str:
    if key == "role" and isinstance(value, str):
        return gettext(value.capitalize(), lang)
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    return "—" if value in (None, "") else str(value)
