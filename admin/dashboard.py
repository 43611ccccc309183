"""Dashboard and funnel: the organiser's numbers at a glance."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from admin.auth import has_role, require_roles
from admin.charts import bar_chart
from admin.templating import templates
from core import reports
from core.config import get_settings
from core.db import get_sessionmaker
from core.enums import RegistrationStatus, Role
from core.models import AdminUser, Event
from core.payments import review_queue

router = APIRouter(prefix="/admin")
verifier = require_roles(Role.VERIFIER)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes = int(seconds // 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


@router.get("/", response_class=HTMLResponse)
def dashboard(
    request: Request, event_id: int | None = None, user: AdminUser = Depends(verifier)
) -> Response:
    """Counts for every staff member who may verify; money (revenue, outstanding) for admins only."""
    tz = get_settings().timezone
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
            "chart": bar_chart(board.per_day),
            "avg_verification": _duration(board.avg_verification_seconds),
            "funnel": funnel,
            "funnel_totals": _totals(funnel),
            "pending": review_queue.queue_size(session),
            "sizes": sorted({s for c in board.categories for s in c.jersey}),
        }
        return templates.TemplateResponse(request, "dashboard.html", ctx)


def _totals(rows: list[reports.FunnelRow]) -> dict[str, dict[str, int]]:
    """Funnel totals per channel (and 'all'), for the conversion summary."""
    totals: dict[str, dict[str, int]] = {}
    for row in rows:
        for key in (row.channel, "all"):
            t = totals.setdefault(key, {"started": 0, "confirmed": 0, "photos": 0, "paid": 0})
            for stage in t:
                t[stage] += getattr(row, stage)
    return totals
