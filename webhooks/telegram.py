"""POST /webhooks/telegram: secret header check, parse, store, 200 only after the commit."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from channels import wire
from channels.telegram import inbound as telegram_inbound
from core.config import get_settings
from core.db import utcnow
from webhooks._common import StoreFailed, store_delivery

log = logging.getLogger(__name__)

router = APIRouter()

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@router.post("/webhooks/telegram", include_in_schema=False)
async def telegram_webhook(request: Request) -> JSONResponse:
    """Receive one Update from Telegram."""
    if not telegram_inbound.verify(request.headers.get(SECRET_HEADER), get_settings()):
        return JSONResponse({"ok": False}, status_code=401)
    body = await request.body()
    try:
        payload = wire.loads(body)
        message = telegram_inbound.parse(payload, received_at=utcnow())
    except (ValueError, telegram_inbound.MalformedUpdate) as exc:
        log.warning("malformed telegram update rejected: %s", type(exc).__name__)
        return JSONResponse({"ok": False, "error": "malformed update"}, status_code=400)
    if message is None:
        return JSONResponse({"ok": True, "ignored": True})
    try:
        await store_delivery(message)
    except StoreFailed:
        # Not stored: a non-2xx makes Telegram deliver the update again.
        return JSONResponse({"ok": False}, status_code=503)
    return JSONResponse({"ok": True})
