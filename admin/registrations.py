"""Registrations list (search, filters, pages) and detail with its actions."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from admin import answers
from admin.audit_words import action_text, changes
from admin.auth import actor_name, csrf_protect, require_roles
from admin.i18n import _, request_language
from admin.media import private_file
from admin.session import flash_redirect
from admin.templating import templates
from core.db import get_sessionmaker
from core.enums import RegistrationStatus, Role
from core.errors import ServiceError
from core.fulfilment import consent
from core.models import (
    AdminUser,
    AuditLog,
    Category,
    CheckIn,
    Event,
    InboundUpdate,
    JerseyStock,
    OutboundMessage,
    Registration,
)
from core.registration import groups, search
from core.registration import manage as regs
from workers.registrations import (
    cancel_registration,
    edit_participant,
    move_registration,
)
from workers.registrations import edit_answer as edit_event_answer
from workers.tickets import NoTicket
from workers.tickets import resend_ticket as resend_ticket_of

router = APIRouter(prefix="/admin/registrations")
verifier = require_roles(Role.VERIFIER)
STATUSES = [s.value for s in RegistrationStatus]


def filters_from(params: Any) -> search.Filters:
    """Read list/export filters from query parameters."""

    def as_int(name: str) -> int | None:
        value = str(params.get(name) or "").strip()
        return int(value) if value.isdecimal() else None

    return search.Filters(
        q=str(params.get("q") or "")[:100],
        event_id=as_int("event_id"),
        category_id=as_int("category_id"),
        status=str(params.get("status") or "") if params.get("status") in STATUSES else "",
        jersey=str(params.get("jersey") or "")[:10],
    )


def filter_query(filters: search.Filters) -> str:
    values = {
        "q": filters.q,
        "event_id": filters.event_id or "",
        "category_id": filters.category_id or "",
        "status": filters.status,
        "jersey": filters.jersey,
    }
    return urlencode({k: v for k, v in values.items() if v})


def jersey_sizes(session: Session, event_id: int | None = None) -> list[str]:
    """Every size on sale in the organisers' stock order (XS S M L XL), not alphabetically."""
    stmt = select(JerseyStock.size, func.min(JerseyStock.sort_order), func.min(JerseyStock.id))
    if event_id:
        stmt = stmt.where(JerseyStock.event_id == event_id)
    rows = session.execute(stmt.group_by(JerseyStock.size))
    return [size for size, *_ in sorted(rows, key=lambda row: (row[1], row[2]))]


def choices(session: Session, event_id: int | None = None) -> dict[str, Any]:
    """Events, categories and jersey sizes for the filter dropdowns."""
    return {
        "events": session.scalars(select(Event).order_by(Event.race_date)).all(),
        "categories": session.scalars(
            select(Category).order_by(Category.event_id, Category.sort_order)
        ).all(),
        "sizes": jersey_sizes(session, event_id),
        "statuses": STATUSES,
    }


@router.get("", response_class=HTMLResponse)
def list_page(request: Request, page: int = 1, _user: AdminUser = Depends(verifier)) -> Response:
    filters = filters_from(request.query_params)
    with get_sessionmaker()() as session:
        result = search.search(session, filters=filters, page=page)
        ctx = {
            "page": result,
            "f": filters,
            "query": filter_query(filters),
            **choices(session, filters.event_id),
        }
        return templates.TemplateResponse(request, "registrations.html", ctx)


def _messages(session: Session, reg: Registration) -> list[dict[str, Any]]:
    """Inbound and outbound chat messages of this registration's chat, oldest first."""
    inbound = session.scalars(
        select(InboundUpdate)
        .where(InboundUpdate.channel == reg.channel, InboundUpdate.chat_id == reg.chat_id)
        .order_by(InboundUpdate.id.desc())
        .limit(100)
    )
    outbound = session.scalars(
        select(OutboundMessage)
        .where(
            or_(
                OutboundMessage.registration_id == reg.id,
                (OutboundMessage.channel == reg.channel)
                & (OutboundMessage.recipient == reg.chat_id),
            )
        )
        .order_by(OutboundMessage.id.desc())
        .limit(100)
    )
    items = [
        {"at": m.received_at, "dir": "in", "text": _inbound_text(m.message), "status": ""}
        for m in inbound
    ] + [
        {
            "at": m.created_at,
            "dir": "out",
            "text": m.text or m.kind,
            "status": m.status,
            "error": m.error,
        }
        for m in outbound
    ]
    return sorted(items, key=lambda item: item["at"])


def _inbound_text(message: dict[str, Any]) -> str:
    text = message.get("text") or message.get("caption") or ""
    if message.get("attachments") or message.get("attachment"):
        text = (text + " [photo]").strip()
    return text or "[" + str(message.get("kind") or "message") + "]"


def _trail(session: Session, reg: Registration) -> list[AuditLog]:
    payment_ids = [str(p.id) for p in reg.payments]
    return list(
        session.scalars(
            select(AuditLog)
            .where(
                or_(
                    (AuditLog.subject_type == "registration")
                    & (AuditLog.subject_id == str(reg.id)),
                    (AuditLog.subject_type == "payment") & AuditLog.subject_id.in_(payment_ids),
                )
            )
            .order_by(AuditLog.id)
        )
    )


RECENT_MESSAGES = 20  # the detail page shows the latest messages; "show all" lists the rest


@router.get("/{registration_id}", response_class=HTMLResponse)
def detail(
    request: Request, registration_id: int, messages: str = "", _user: AdminUser = Depends(verifier)
) -> Response:
    with get_sessionmaker()() as session:
        reg = search.get(session, registration_id)
        chat = _messages(session, reg)
        lang = request_language(request)
        trail = _trail(session, reg)
        ctx = {
            "reg": reg,
            "p": reg.participant,
            "answers": answers.rows(reg.participant.answers or {}, lang),
            "payments": reg.payments,
            "messages": chat if messages == "all" else chat[-RECENT_MESSAGES:],
            "message_count": len(chat),
            "trail": [(row, action_text(row.action, lang), changes(row, lang)) for row in trail],
            "categories": session.scalars(
                select(Category)
                .where(Category.event_id == reg.event_id)
                .order_by(Category.sort_order)
            ).all(),
            "sizes": session.scalars(
                select(JerseyStock.size)
                .where(JerseyStock.event_id == reg.event_id)
                .order_by(JerseyStock.sort_order)
            ).all(),
            "editable": regs.EDITABLE,
            "checkin": _checkin(session, reg.id),
            "custom": answers.custom_rows(
                session, reg.event_id, reg.participant.answers or {}, lang
            ),
            "event_questions": answers.editable_questions(session, reg, lang),
            **letter_context(session, reg, f"/admin/registrations/{reg.id}"),
            **_group(session, reg),
        }
        return templates.TemplateResponse(request, "registration_detail.html", ctx)


def _group(session: Any, reg: Any) -> dict[str, Any]:
    """The group the registration was paid with (leader, members, combined amount), if any."""
    group = groups.for_registration(session, reg)
    if group is None:
        return {"group": None, "group_members": []}
    members = groups.members(session, group)
    for member in members:
        _ = member.participant.full_name  # loaded before the template renders
    return {"group": group, "group_members": members}


def letter_context(session: Session, reg: Registration, back: str) -> dict[str, Any]:
    """What _consent_letter.html shows: whether a letter is needed, the newest one, where to return."""
    return {
        "needs_letter": consent.needs_letter(reg),
        "letter": consent.latest(session, reg.id),
        "back": back,
    }


def _checkin(session: Session, registration_id: int) -> CheckIn | None:
    return session.scalar(select(CheckIn).where(CheckIn.registration_id == registration_id))


@router.get("/{registration_id}/checkin-letter")
def checkin_letter(registration_id: int, _user: AdminUser = Depends(verifier)) -> Response:
    """The authorisation-letter photo of a representative's pickup (staff only, never cached)."""
    with get_sessionmaker()() as session:
        done = _checkin(session, registration_id)
        relative = done.authorisation_letter_path if done else None
    return private_file(relative)


def _done(
    request: Request, registration_id: int, message: str, kind: str = "ok", **values: object
) -> Response:
    url = f"/admin/registrations/{registration_id}"
    return flash_redirect(request, url, message, kind, **values)


@router.post("/{registration_id}/cancel", dependencies=[Depends(csrf_protect)])
def cancel(
    request: Request,
    registration_id: int,
    reason: str = Form(""),
    user: AdminUser = Depends(verifier),
) -> Response:
    cancel_registration(registration_id, actor=actor_name(user), reason=reason[:300])
    return _done(request, registration_id, _("Registration cancelled; slot and jersey released."))


@router.post("/{registration_id}/move", dependencies=[Depends(csrf_protect)])
def move(
    request: Request,
    registration_id: int,
    category_id: int = Form(...),
    user: AdminUser = Depends(verifier),
) -> Response:
    try:
        move_registration(registration_id, category_id=category_id, actor=actor_name(user))
    except ServiceError as exc:
        return _done(request, registration_id, _("Not moved: %(why)s"), "error", why=exc)
    return _done(request, registration_id, _("Moved to the new category."))


@router.post("/{registration_id}/edit", dependencies=[Depends(csrf_protect)])
async def edit(
    request: Request, registration_id: int, user: AdminUser = Depends(verifier)
) -> Response:
    form = await request.form()
    changes = {k: str(form[k]) for k in regs.EDITABLE if k in form}
    try:
        diff = edit_participant(registration_id, changes=changes, actor=actor_name(user))
    except (ServiceError, ValueError) as exc:
        return _done(request, registration_id, _("Not saved: %(why)s"), "error", why=exc)
    return _done(request, registration_id, _("Saved (%(n)s field(s) changed)."), n=len(diff))


@router.post("/{registration_id}/answers/{question_id}", dependencies=[Depends(csrf_protect)])
def edit_answer(
    request: Request,
    registration_id: int,
    question_id: int,
    value: str = Form(""),
    user: AdminUser = Depends(verifier),
) -> Response:
    """An event question's answer, checked by the question's own parser (as in the chat)."""
    try:
        edit_event_answer(
            registration_id,
            question_id=question_id,
            text=value[:500],
            actor=actor_name(user),
            language=request_language(request),
        )
    except (ServiceError, ValueError) as exc:
        return _done(request, registration_id, _("Not saved: %(why)s"), "error", why=exc)
    return _done(request, registration_id, _("Answer saved."))


@router.post("/{registration_id}/resend-ticket", dependencies=[Depends(csrf_protect)])
def resend_ticket(
    request: Request, registration_id: int, user: AdminUser = Depends(verifier)
) -> Response:
    try:
        resend_ticket_of(registration_id, actor=actor_name(user))
    except NoTicket as exc:
        return _done(request, registration_id, str(exc), "error")
    return _done(request, registration_id, _("The e-ticket will be sent again in a moment."))
