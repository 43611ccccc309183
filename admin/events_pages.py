"""Events and categories: create, edit, open and close registration, jersey stock."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from admin import forms, pricing_pages, start_links
from admin.auth import actor_name, csrf_protect, require_roles
from admin.i18n import _, request_language, status_label
from admin.session import flash_redirect
from admin.templating import templates
from core.config import get_settings
from core.db import get_sessionmaker, unit_of_work, utcnow
from core.enums import EventStatus, Role, WhatsAppProvider
from core.errors import NotFound, ServiceError
from core.events import numbers as event_numbers
from core.events import setup
from core.events import whatsapp as event_whatsapp
from core.messaging import outbox
from core.models import AdminUser, Event, JerseyStock

router = APIRouter(prefix="/admin/events")
admin_only = require_roles(Role.ADMIN)


@router.get("", response_class=HTMLResponse)
def list_events(request: Request, _user: AdminUser = Depends(admin_only)) -> Response:
    with get_sessionmaker()() as session:
        rows = session.scalars(select(Event).order_by(Event.race_date.desc())).all()
        return templates.TemplateResponse(request, "events.html", {"events": rows})


@router.get("/{event_id}", response_class=HTMLResponse)
def edit_event(request: Request, event_id: int, _user: AdminUser = Depends(admin_only)) -> Response:
    """The event form (event_id 0: a new event), its categories and jersey stock."""
    with get_sessionmaker()() as session:
        event = session.get(Event, event_id) if event_id else None
        stock = session.scalars(
            select(JerseyStock)
            .where(JerseyStock.event_id == event_id)
            .order_by(JerseyStock.sort_order)
        ).all()
        tz = event.timezone if event else "Asia/Jakarta"
        ctx = {
            "event": event,
            "categories": list(event.categories) if event else [],
            "stock": stock,
            "opens": forms.local_input(event.registration_opens_at if event else None, tz),
            "closes": forms.local_input(event.registration_closes_at if event else None, tz),
            "changes_until": forms.local_input(event.changes_until if event else None, tz),
            "wa_configured": event_whatsapp.configured(get_settings()),
            "tiers": pricing_pages.tiers_for(session, event, utcnow()) if event else {},
            "start_links": start_links.links(event, get_settings()) if event else [],
            "numbers": _numbers_form(session, event) if event else [],
        }
        return templates.TemplateResponse(request, "event_edit.html", ctx)


def _numbers_form(session: Any, event: Event) -> list[dict[str, Any]]:
    """Each configured Fonnte number: whether it serves the event, and its queue right now."""
    settings = get_settings()
    serving = set(event_numbers.of_event(event, settings))
    queued = outbox.pending_by_device(session)
    return [
        {"number": n, "chosen": n in serving, "queued": queued.get(n, 0)}
        for n in event_numbers.configured(settings)
    ]


def _event_data(form: Any) -> dict[str, Any]:
    tz = forms.text(form, "timezone") or "Asia/Jakarta"
    return {
        "slug": forms.text(form, "slug").lower(),
        "name": forms.text(form, "name"),
        "race_date": forms.day(form, "race_date"),
        "race_start_time": forms.text(form, "race_start_time") or None,
        "venue": forms.text(form, "venue"),
        "timezone": tz,
        "registration_opens_at": forms.moment(form, "registration_opens_at", tz),
        "registration_closes_at": forms.moment(form, "registration_closes_at", tz),
        "requires_nik": forms.checkbox(form, "requires_nik"),
        "requires_authorisation_letter": forms.checkbox(form, "requires_authorisation_letter"),
        "pickup_info": forms.text(form, "pickup_info"),
        "venue_en": forms.text(form, "venue_en"),
        "pickup_info_en": forms.text(form, "pickup_info_en"),
        "waiver_text": forms.text(form, "waiver_text"),
        "waiver_text_en": forms.text(form, "waiver_text_en"),
        "waiver_url": forms.text(form, "waiver_url"),
        "minor_age": forms.integer(form, "minor_age", required=False),
        "group_tickets_to_members": forms.checkbox(form, "group_tickets_to_members"),
    }


def _back(
    request: Request, event_id: int, message: str, kind: str = "ok", **values: object
) -> Response:
    return flash_redirect(request, f"/admin/events/{event_id}", message, kind, **values)


@router.post("/{event_id}", dependencies=[Depends(csrf_protect)])
async def save_event(
    request: Request, event_id: int, user: AdminUser = Depends(admin_only)
) -> Response:
    form = await request.form()
    try:
        with unit_of_work() as uow:
            event = setup.save_event(
                uow.session,
                event_id=event_id or None,
                data=_event_data(form),
                actor=actor_name(user),
            )
            saved_id = event.id
    except ServiceError as exc:
        return _back(request, event_id, _("Not saved: %(why)s"), "error", why=exc)
    return _back(request, saved_id, _("Event saved."))


@router.post("/{event_id}/status", dependencies=[Depends(csrf_protect)])
def set_status(
    request: Request, event_id: int, status: str = Form(...), user: AdminUser = Depends(admin_only)
) -> Response:
    try:
        with unit_of_work() as uow:
            setup.set_status(
                uow.session, event_id=event_id, status=EventStatus(status), actor=actor_name(user)
            )
    except (ServiceError, ValueError) as exc:
        return _back(request, event_id, _("Not changed: %(why)s"), "error", why=exc)
    return _back(
        request,
        event_id,
        _("Registration is now %(status)s."),
        status=status_label(status, request_language(request)),
    )


def _category_data(form: Any) -> dict[str, Any]:
    return {
        "code": forms.text(form, "code").upper(),
        "name": forms.text(form, "name"),
        "distance_km": forms.number(form, "distance_km"),
        "price": forms.integer(form, "price"),
        "quota": forms.integer(form, "quota"),
        "min_age": forms.integer(form, "min_age", required=False),
        "max_age": forms.integer(form, "max_age", required=False),
        "bib_start": forms.integer(form, "bib_start"),
        "bib_end": forms.integer(form, "bib_end"),
        "bib_prefix": forms.text(form, "bib_prefix"),
        "reg_prefix": forms.text(form, "reg_prefix"),
        "sort_order": forms.integer(form, "sort_order", required=False) or 0,
    }


@router.post("/{event_id}/categories/{category_id}", dependencies=[Depends(csrf_protect)])
async def save_category(
    request: Request, event_id: int, category_id: int, user: AdminUser = Depends(admin_only)
) -> Response:
    """Create (category_id 0) or update a category."""
    form = await request.form()
    try:
        with unit_of_work() as uow:
            setup.save_category(
                uow.session, event_id=event_id, category_id=category_id or None,
                data=_category_data(form), actor=actor_name(user),
            )  # fmt: skip
    except NotFound as exc:  # unknown category, or one of another event than the URL's
        raise HTTPException(status_code=404) from exc
    except ServiceError as exc:
        return _back(request, event_id, _("Category not saved: %(why)s"), "error", why=exc)
    return _back(request, event_id, _("Category saved."))


def _stock_from_rows(sizes: list[Any], amounts: list[Any]) -> dict[str, int]:
    stock: dict[str, int] = {}
    for size, amount in zip(sizes, amounts, strict=False):
        size, amount = str(size).strip().upper()[:10], str(amount).strip().replace(".", "")
        if size and amount:
            stock[size] = int(amount)  # ValueError: told to the admin, nothing saved
    return stock


@router.post("/{event_id}/jersey", dependencies=[Depends(csrf_protect)])
async def save_jersey(
    request: Request, event_id: int, user: AdminUser = Depends(admin_only)
) -> Response:
    """The stock table: one size and stock field per row (an empty row is skipped)."""
    form = await request.form()
    try:
        stock = _stock_from_rows(form.getlist("size"), form.getlist("stock"))
        with unit_of_work() as uow:
            setup.set_jersey_stock(
                uow.session, event_id=event_id, stock=stock, actor=actor_name(user)
            )
    except (ServiceError, ValueError) as exc:
        return _back(request, event_id, _("Jersey stock not saved: %(why)s"), "error", why=exc)
    return _back(request, event_id, _("Jersey stock saved."))


@router.post("/{event_id}/whatsapp", dependencies=[Depends(csrf_protect)])
def set_whatsapp_provider(
    request: Request,
    event_id: int,
    provider: str = Form(...),
    user: AdminUser = Depends(admin_only),
) -> Response:
    """Choose the event's WhatsApp number: the Fonnte device or the official Cloud API."""
    try:
        with unit_of_work() as uow:
            event_whatsapp.set_provider(
                uow.session, event_id=event_id, provider=WhatsAppProvider(provider),
                actor=actor_name(user), settings=get_settings(),
            )  # fmt: skip
    except (ServiceError, ValueError) as exc:
        return _back(request, event_id, _("WhatsApp number not changed: %(why)s"), "error", why=exc)
    return _back(request, event_id, _("WhatsApp number saved."))


@router.post("/{event_id}/numbers", dependencies=[Depends(csrf_protect)])
async def set_numbers(
    request: Request, event_id: int, user: AdminUser = Depends(admin_only)
) -> Response:
    """Choose which configured Fonnte numbers serve the event (its start link spreads over them)."""
    form = await request.form()
    try:
        with unit_of_work() as uow:
            event_numbers.set_numbers(
                uow.session, event_id=event_id, numbers=[str(n) for n in form.getlist("number")],
                actor=actor_name(user), settings=get_settings(),
            )  # fmt: skip
    except NotFound as exc:
        raise HTTPException(status_code=404) from exc
    except ServiceError as exc:
        return _back(request, event_id, _("Numbers not saved: %(why)s"), "error", why=exc)
    return _back(request, event_id, _("Numbers for this event saved."))
