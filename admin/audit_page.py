"""The audit log page: every staff action and state change, filterable."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select

from admin.auth import require_roles
from admin.templating import templates
from core.db import get_sessionmaker
from core.enums import Role
from core.models import AdminUser, AuditLog
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
    filters = {
        "actor": actor,
        "action": action,
        "subject_type": subject_type,
        "subject_id": subject_id,
    }
    query = urlencode({k: v for k, v in filters.items() if v})
    ctx = {
        "rows": rows,
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
