"""Dashboard and funnel: the organiser's numbers at a glance."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from admin.auth import has_role, require_roles
from admin.charts import bar_chart
from admin.i18n import gettext, request_language
from admin.templating import templates
from core import reports
from core.config import get_settings
from core.db import get_sessionmaker
from core.enums import RegistrationStatus, Role
from core.models import AdminUser, Event, JerseyStock
from core.payments import review_queue

router = APIRouter(prefix="/admin")
verifier = require_roles(Role.VERIFIER)


def _duration(seconds: float | None, lang: str = "en") -> str:
    if seconds is None:
        return "-"
    minutes = int(seconds // 60)
    hours = gettext("%(h)s h %(m)s min", lang, h=minutes // 60, m=minutes % 60)
    return hours if minutes >= 60 else gettext("%(m)s min", lang, m=minutes)


@router.get("/", response_class=HTMLResponse)
def dashboard(
    request: Request, event_id: int | None = None, user: AdminUser = Depends(verifier)
) -> Response:
    """Counts for every staff member who may verify; money (revenue, outstanding) for admins only."""
    tz = get_settings().timezone
    lang = request_language(request)
    with get_sessionmaker()() as session:
        events = session.scalars(select(Event).order_by(Event.race_date)).all()
        board = reports.dashboard(session, event_id=event_id, tz=tz)
        funnel = reports.funnel(session, event_id=event_id, tz=tz)
        ctx = {
            "events": events,
            "event_id": event_id,
            "board": board,
            "show_money": has_role(user, Role.ADMIN),
            "statuses": [s.value for s in RegistrationStatus],
            "chart": bar_chart(
                board.per_day, lang=lang, empty=gettext("No registrations yet.", lang)
            ),
            "avg_verification": _duration(board.avg_verification_seconds, lang),
            "funnel": funnel,
            "funnel_totals": _totals(funnel),
            "pending": review_queue.queue_size(session),
            "sizes": _sizes(session, event_id),
        }
        return templates.TemplateResponse(request, "dashboard.html", ctx)


def _sizes(session: Session, event_id: int | None) -> list[str]:
    """Every jersey size on sale, in the organiser's order (not only the sizes already taken)."""
    stmt = select(JerseyStock.size, func.min(JerseyStock.sort_order)).group_by(JerseyStock.size)
    if event_id:
        stmt = stmt.where(JerseyStock.event_id == event_id)
    return [size for size, _ in sorted(session.execute(stmt), key=lambda row: row[1])]


def _totals(rows: list[reports.FunnelRow]) -> dict[str, dict[str, int]]:
    """Funnel totals per channel (and 'all'), for the conversion summary."""
    totals: dict[str, dict[str, int]] = {}
    for row in rows:
        for key in (row.channel, "all"):
            t = totals.setdefault(key, {"started": 0, "confirmed": 0, "photos": 0, "paid": 0})
            for stage in t:
                t[stage] += getattr(row, stage)
    return totals
