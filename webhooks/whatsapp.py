"""GET/POST /webhooks/whatsapp: Meta's handshake, signed batches, statuses (WhatsApp Cloud API).

The signature is checked on the raw body before anything is parsed (401 without it). Meta retries
non-2xx deliveries for days, so a signed but malformed body is 200-and-logged; only a database
that could not store the messages answers 503 (and then Meta's retry is what we want).
"""

from __future__ import annotations

import json
import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from channels.whatsapp import inbound
from core.config import get_settings
from core.db import unit_of_work, utcnow
from core.enums import OutboundStatus
from core.messaging import receipts, window
from core.models import OutboundMessage
from webhooks._common import StoreFailed, store_many
from workers.delivery import deliver_after_commit

log = logging.getLogger(__name__)

router = APIRouter()

SIGNATURE_HEADER = "X-Hub-Signature-256"


@router.get("/webhooks/whatsapp", include_in_schema=False)
async def whatsapp_handshake(request: Request) -> Response:
    """Meta's subscription check: echo hub.challenge when the verify token matches."""
    query = request.query_params
    if not inbound.verify_handshake(
        query.get("hub.mode"), query.get("hub.verify_token"), get_settings()
    ):
        return PlainTextResponse("forbidden", status_code=403)
    return PlainTextResponse(query.get("hub.challenge", ""))


@router.post("/webhooks/whatsapp", include_in_schema=False)
async def whatsapp_webhook(request: Request) -> JSONResponse:
    """Receive one batch of messages and statuses from Meta."""
    settings = get_settings()
    body = await request.body()
    if not inbound.verify_signature(body, request.headers.get(SIGNATURE_HEADER), settings):
        return JSONResponse({"ok": False}, status_code=401)
    try:
        batch = inbound.parse(
            json.loads(body),
            received_at=utcnow(),
            phone_number_id=settings.whatsapp_phone_number_id,
        )
    except (ValueError, inbound.MalformedPayload) as exc:
        log.warning("malformed whatsapp webhook ignored: %s", type(exc).__name__)
        return JSONResponse({"ok": True, "ignored": "malformed"})
    try:
        await run_in_threadpool(_store_batch, batch)
    except StoreFailed:
        return JSONResponse({"ok": False}, status_code=503)
    return JSONResponse({"ok": True})


def _store_batch(batch: inbound.Batch) -> None:
    """Each message its own inbox row (deduplicated by wamid), then statuses and waiting rows."""
    results = store_many(batch.messages) if batch.messages else []
    for result in results:
        if isinstance(result, StoreFailed):
            raise result
    senders = [m.chat_id for m, stored in zip(batch.messages, results, strict=True) if stored]
    if batch.statuses or senders:
        try:
            _after_store(batch.statuses, sorted(set(senders)))
        except Exception:  # noqa: BLE001  (messages are stored; statuses are best effort)
            log.exception("whatsapp statuses / waiting release failed")


def _after_store(statuses: list[inbound.Status], senders: list[str]) -> None:
    with unit_of_work() as uow:
        requeued: list[OutboundMessage] = []
        for status in statuses:
            row = receipts.apply_status(
                uow.session,
                message_id=status.message_id,
                status=status.status,
                at=status.at,
                error=status.error,
            )
            if row is None:
                log.info("whatsapp status before its message id: parked")
            elif row.status == OutboundStatus.PENDING:
                requeued.append(row)  # 131047 after acceptance: template or wait
        for chat_id in senders:
            # The runner wrote: the 24-hour window is open again for their waiting messages.
            requeued += window.release(uow.session, chat_id=chat_id)
        deliver_after_commit(uow, requeued)
