"""Operations ("Horizon"): queues, dead letters with retry, failing outbound messages, waiting inbound."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select

from admin.auth import actor_name, csrf_protect, require_roles
from admin.i18n import _
from admin.session import flash
from admin.templating import templates
from core import audit
from core.config import get_settings
from core.db import get_sessionmaker, unit_of_work, utcnow
from core.enums import OutboundStatus, Role
from core.messaging import outbox, window
from core.models import AdminUser, InboundUpdate, OutboundMessage, Registration
from core.payments.screenshot_reading import service as screenshot_service
from workers import broker_ops, number_choice

router = APIRouter(prefix="/admin/operations")
admin_only = require_roles(Role.ADMIN)


def _outbound_problems(session):  # noqa: ANN001, ANN202
    failing = session.scalars(
        select(OutboundMessage)
        .where(
            (OutboundMessage.status == OutboundStatus.FAILED.value)
            | (
                (OutboundMessage.attempts > 0)
                & (OutboundMessage.status != OutboundStatus.SENT.value)
            )
        )
        .order_by(OutboundMessage.id.desc())
        .limit(100)
    ).all()
    per_channel = dict(
        session.execute(
            select(OutboundMessage.channel, func.count())
            .where(OutboundMessage.status == OutboundStatus.FAILED.value)
            .group_by(OutboundMessage.channel)
        ).all()
    )
    pending = session.scalar(
        select(func.count()).where(
            OutboundMessage.status.in_([OutboundStatus.PENDING.value, OutboundStatus.SENDING.value])
        )
    )
    return failing, per_channel, int(pending or 0)


# Channel -> (label, the setting its provider needs): an unset token is named, not a ConnectError.
CHANNEL_SETTINGS = {
    "whatsapp": ("WhatsApp (Fonnte)", "fonnte_token"),
    "telegram": ("Telegram", "telegram_bot_token"),
    "whatsapp_cloud": ("WhatsApp (Cloud API)", "whatsapp_token"),
}


def channel_status() -> dict[str, dict[str, object]]:
    """Per provider channel: its label and whether its token is configured."""
    settings = get_settings()
    return {
        channel: {"label": label, "configured": bool(getattr(settings, field, None))}
        for channel, (label, field) in CHANNEL_SETTINGS.items()
    }


def device_queues(session) -> list[dict[str, object]]:  # noqa: ANN001
    """Each Fonnte number's queue: messages pending from it, and about how long they take."""
    settings = get_settings()
    queued = outbox.pending_by_device(session)
    for number in settings.fonnte_devices:
        queued.setdefault(number, 0)
    rate = max(settings.fonnte_max_per_second, 0.001) * 60
    recent = number_choice.recent_by_number([number for number in queued if number])
    return [
        {
            "number": number,
            "queued": n,
            "minutes": round(n / rate),
            "runners": recent.get(number, (0, 0.0))[0],
            "paused": round(recent.get(number, (0, 0.0))[1]),
        }
        for number, n in sorted(queued.items())
    ]


def _numbers(session, ids: list[int]) -> dict[int, str]:  # noqa: ANN001
    """Registration numbers (JFR-...) instead of database ids."""
    if not ids:
        return {}
    rows = session.execute(
        select(Registration.id, Registration.number).where(Registration.id.in_(ids))
    )
    return dict(rows.all())


@router.get("", response_class=HTMLResponse)
def operations(request: Request, _user: AdminUser = Depends(admin_only)) -> Response:
    now = utcnow()
    with get_sessionmaker()() as session:
        failing, per_channel, outbound_pending = _outbound_problems(session)
        waiting = select(InboundUpdate).where(InboundUpdate.processed_at.is_(None))
        inbound_waiting = session.scalar(select(func.count()).select_from(waiting.subquery())) or 0
        oldest = session.scalar(
            select(func.min(InboundUpdate.received_at)).where(InboundUpdate.processed_at.is_(None))
        )
        stuck = session.scalar(
            select(func.count()).where(
                InboundUpdate.processed_at.is_(None),
                InboundUpdate.received_at < now - timedelta(minutes=1),
            )
        )
        ctx = {
            "queues": broker_ops.queue_stats(),
            "dead": broker_ops.dead_letters(),
            "failing": failing,
            "per_channel": per_channel,
            "outbound_pending": outbound_pending,
            "inbound_waiting": int(inbound_waiting),
            "inbound_oldest": oldest,
            "inbound_stuck": int(stuck or 0),
            "ocr": screenshot_service.operations_stats(session, since=now - timedelta(days=1)),
            # WhatsApp Cloud API: outside the 24 h window without a template, until the runner writes.
            "wa_waiting": window.waiting_by_reason(session),
            "channels": channel_status(),
            "devices": device_queues(session),
            "numbers": _numbers(session, [m.registration_id for m in failing if m.registration_id]),
        }
        return templates.TemplateResponse(request, "operations.html", ctx)


@router.post("/dead-letters/retry", dependencies=[Depends(csrf_protect)])
def retry(
    request: Request,
    queue: str = Form(...),
    message_id: str = Form(...),
    user: AdminUser = Depends(admin_only),
) -> Response:
    ok = broker_ops.retry_dead_letter(queue, message_id)
    with unit_of_work() as uow:
        audit.record(
            uow.session, actor=actor_name(user), action="operations.dead_letter_retried",
            subject_type="job", subject_id=message_id, queue=queue, ok=ok,
        )  # fmt: skip
    flash(
        request,
        _("Job re-enqueued.") if ok else _("That job is gone (already retried?)."),
        "ok" if ok else "error",
    )
    return RedirectResponse("/admin/operations", status_code=303)
