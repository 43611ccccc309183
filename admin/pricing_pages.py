"""Price tiers (on the category form) and an event's vouchers: list with uses, create, generate,
export, disable, delete. Admins only; every change is audited by the use cases it calls.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from admin import forms
from admin.auth import actor_name, csrf_protect, require_roles
from admin.exports import _respond
from admin.i18n import gettext, request_language
from admin.session import flash_redirect
from admin.templating import templates
from core.db import get_sessionmaker, unit_of_work
from core.enums import Role
from core.errors import NotFound, ServiceError
from core.events import pricing
from core.models import AdminUser, Category, Event
from core.registration import voucher_codes
from core.registration.voucher_codes import Terms

router = APIRouter(prefix="/admin/events")
admin_only = require_roles(Role.ADMIN)
LIST_LIMIT = 200


def _(text: str) -> str:
    """Marks an English source string for admin/locale/id.po (translated when shown)."""
    return text


# The use cases' refusals, in English source text (their ServiceError keys).
MESSAGES = (
    _("Choose a fixed amount or a percentage"), _("A percentage is between 0 and 100"),
    _("A voucher gives a discount or a place beyond the quota"),
    _("Uses must be at least 1 (or empty for no limit)"),
    _("The end of validity must come after its start"), _("Unknown category"),
    _("A code is 1-40 letters and digits"), _("This code already exists in the event"),
    _("Generate between 1 and 5000 codes at a time"),
    _("A redeemed code cannot be deleted; disable it"),
    _("A tier needs a name (up to 100 characters)"), _("A tier needs a price of 0 or more"),
    _("The number sold must be at least 1 (or empty)"), _("A date is written YYYY-MM-DD"),
)  # fmt: skip


def _say(request: Request, url: str, message: str, kind: str = "ok", **values: object) -> Response:
    return flash_redirect(request, url, gettext(message, request_language(request), **values), kind)


def _refusal(request: Request, url: str, exc: Exception) -> Response:
    key = exc.key if isinstance(exc, ServiceError) and exc.key in MESSAGES else str(exc)
    return _say(
        request, url, _("Not saved: %(v)s"), "error", v=gettext(key, request_language(request))
    )


# --- tiers -------------------------------------------------------------------------------------


def _end_of(day: str, tz: str) -> datetime | None:
    """A tier's last day (inclusive) -> the moment it ends: the next midnight in the event's zone."""
    if not day:
        return None
    try:
        last = date.fromisoformat(day)
    except ValueError as exc:
        raise ServiceError("date", key=_("A date is written YYYY-MM-DD")) from exc
    return datetime.combine(last + timedelta(days=1), time(0), ZoneInfo(tz)).astimezone(UTC)


def tier_rows(form: Any, tz: str) -> list[pricing.TierInput]:
    """The tier table's rows; an empty new row is skipped."""
    fields = ("tier_id", "name", "name_en", "price", "last_day", "max_sold")
    columns = {f: form.getlist(f) for f in fields}
    removed = set(form.getlist("remove"))
    rows = []
    for n, tier_id in enumerate(columns["tier_id"]):
        cell = {f: str(columns[f][n] if n < len(columns[f]) else "").strip() for f in fields}
        if not tier_id and not cell["name"] and not cell["price"]:
            continue
        rows.append(
            pricing.TierInput(
                tier_id=int(tier_id) if tier_id else None,
                name=cell["name"],
                name_en=cell["name_en"],
                price=forms.integer(cell, "price", required=False),
                ends_at=_end_of(cell["last_day"], tz),
                max_sold=forms.integer(cell, "max_sold", required=False),
                remove=bool(tier_id) and tier_id in removed,
            )
        )
    return rows


@router.post("/{event_id}/categories/{category_id}/tiers", dependencies=[Depends(csrf_protect)])
async def save_tiers(
    request: Request, event_id: int, category_id: int, user: AdminUser = Depends(admin_only)
) -> Response:
    form = await request.form()
    url = f"/admin/events/{event_id}#tiers-{category_id}"
    try:
        with unit_of_work() as uow:
            category = uow.session.get(Category, category_id)
            if category is None or category.event_id != event_id:
                raise HTTPException(status_code=404)
            rows = tier_rows(form, category.event.timezone)
            pricing.save_tiers(
                uow.session, category_id=category_id, rows=rows, actor=actor_name(user)
            )
    except (ServiceError, ValueError) as exc:
        return _refusal(request, url, exc)
    return _say(request, url, _("Price tiers saved."))


def tiers_for(session: Any, event: Event, now: datetime) -> dict[int, list[dict[str, Any]]]:
    """Per category id: its tiers for the form, with sold count, last day and the current one."""
    by_category = pricing.tiers_by_category(session, [c.id for c in event.categories])
    view: dict[int, list[dict[str, Any]]] = {}
    for category in event.categories:
        tiers = by_category.get(category.id, ())
        current = pricing.current(category.price, tiers, now=now).tier
        view[category.id] = [
            {
                "tier": tier,
                "last_day": pricing.last_day(tier.ends_at, event.timezone).date().isoformat()
                if tier.ends_at
                else "",
                "current": current is not None and current.id == tier.id,
            }
            for tier in tiers
        ]
    return view


# --- vouchers ----------------------------------------------------------------------------------


def _event(session: Any, event_id: int) -> Event:
    event = session.get(Event, event_id)
    if event is None:
        raise HTTPException(status_code=404)
    return event


@router.get("/{event_id}/vouchers", response_class=HTMLResponse)
def vouchers_page(
    request: Request, event_id: int, q: str = "", _user: AdminUser = Depends(admin_only)
) -> Response:
    with get_sessionmaker()() as session:
        event = _event(session, event_id)
        rows = voucher_codes.listing(session, event_id=event_id, search=q, limit=LIST_LIMIT)
        context = {
            "event": event,
            "rows": rows,
            "q": q,
            "limit": LIST_LIMIT,
            "categories": [c.code for c in event.categories],
        }
        return templates.TemplateResponse(request, "vouchers.html", context)


def _terms(form: Any, event: Event) -> Terms:
    tz = event.timezone
    kind = forms.text(form, "kind") or "amount"
    return Terms(
        kind=kind,
        value=forms.integer(form, "value", required=False) or 0,
        beyond_quota=forms.checkbox(form, "beyond_quota"),
        max_uses=forms.integer(form, "max_uses", required=False),
        valid_from=forms.moment(form, "valid_from", tz),
        valid_until=forms.moment(form, "valid_until", tz),
        categories=tuple(c for c in form.getlist("categories") if c),
        note=forms.text(form, "note"),
    )


@router.post("/{event_id}/vouchers", dependencies=[Depends(csrf_protect)])
async def create_voucher(
    request: Request, event_id: int, user: AdminUser = Depends(admin_only)
) -> Response:
    form = await request.form()
    url = f"/admin/events/{event_id}/vouchers"
    try:
        with unit_of_work() as uow:
            event = _event(uow.session, event_id)
            voucher = voucher_codes.create(
                uow.session, event_id=event_id, code=forms.text(form, "code"),
                terms=_terms(form, event), actor=actor_name(user),
            )  # fmt: skip
            code = voucher.code
    except (ServiceError, ValueError) as exc:
        return _refusal(request, url, exc)
    return _say(request, url, _("Code %(v)s created."), v=code)


@router.post("/{event_id}/vouchers/generate", dependencies=[Depends(csrf_protect)])
async def generate_vouchers(
    request: Request, event_id: int, user: AdminUser = Depends(admin_only)
) -> Response:
    form = await request.form()
    url = f"/admin/events/{event_id}/vouchers"
    try:
        with unit_of_work() as uow:
            event = _event(uow.session, event_id)
            rows = voucher_codes.generate(
                uow.session, event_id=event_id, prefix=forms.text(form, "prefix"),
                count=forms.integer(form, "count") or 0, terms=_terms(form, event),
                actor=actor_name(user),
            )  # fmt: skip
            batch, count = rows[0].batch, len(rows)
    except (ServiceError, ValueError) as exc:
        return _refusal(request, url, exc)
    return _say(
        request, f"{url}?q={batch}", _("%(n)s codes generated (batch %(v)s)."), n=count, v=batch
    )


@router.post("/{event_id}/vouchers/{voucher_id}/active", dependencies=[Depends(csrf_protect)])
async def set_active(
    request: Request, event_id: int, voucher_id: int, user: AdminUser = Depends(admin_only)
) -> Response:
    form = await request.form()
    active = forms.text(form, "active") == "1"
    try:
        with unit_of_work() as uow:
            voucher_codes.set_active(
                uow.session, event_id=event_id, voucher_id=voucher_id, active=active,
                actor=actor_name(user),
            )  # fmt: skip
    except NotFound as exc:
        raise HTTPException(status_code=404) from exc
    message = _("Code enabled.") if active else _("Code disabled.")
    return _say(request, f"/admin/events/{event_id}/vouchers", message)


@router.post("/{event_id}/vouchers/{voucher_id}/delete", dependencies=[Depends(csrf_protect)])
def delete_voucher(
    request: Request, event_id: int, voucher_id: int, user: AdminUser = Depends(admin_only)
) -> Response:
    url = f"/admin/events/{event_id}/vouchers"
    try:
        with unit_of_work() as uow:
            voucher_codes.delete(
                uow.session, event_id=event_id, voucher_id=voucher_id, actor=actor_name(user)
            )
    except NotFound as exc:
        raise HTTPException(status_code=404) from exc
    except ServiceError as exc:
        return _refusal(request, url, exc)
    return _say(request, url, _("Code deleted."))


@router.get("/{event_id}/vouchers/export.{fmt}")
def export_vouchers(
    event_id: int, fmt: str, batch: str = "", _user: AdminUser = Depends(admin_only)
) -> Response:
    """Every code of the event (or of one batch) with its uses, as CSV or XLSX (formula-safe)."""

    def rows(session: Any) -> Any:
        return voucher_codes.export_rows(session, event_id=event_id, batch=batch or None)

    return _respond(rows, f"vouchers-{event_id}", fmt)
