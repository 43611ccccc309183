"""POST /webhooks/fonnte/{secret}: path secret check, parse JSON or form, store, then 200.

Fonnte retries a non-200 every minute, 15 times, so every body that reaches us with the right secret
gets a 200 (malformed ones are logged), except when the database could not store it.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from channels import wire
from channels.fonnte import inbound as fonnte_inbound
from core.config import get_settings
from core.db import utcnow
from webhooks._common import StoreFailed, store_delivery

log = logging.getLogger(__name__)

router = APIRouter()


async def _payload(request: Request) -> Any:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        try:
            form = await request.form()
        except HTTPException as exc:  # Starlette's 400 for a form it cannot parse; Fonnte wants 200
            raise fonnte_inbound.MalformedPayload("form") from exc
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        wire.check(fields)
        return fields
    return wire.loads(await request.body())


@router.post("/webhooks/fonnte/{secret}", include_in_schema=False)
async def fonnte_webhook(secret: str, request: Request) -> JSONResponse:
    """Receive one WhatsApp message from Fonnte."""
    if not fonnte_inbound.verify(secret, get_settings()):
        return JSONResponse({"detail": "Not Found"}, status_code=404)
    try:
        payload = await _payload(request)
        message = fonnte_inbound.parse(payload, received_at=utcnow())
    except (ValueError, fonnte_inbound.MalformedPayload) as exc:
        log.warning("malformed fonnte webhook ignored: %s", type(exc).__name__)
        return JSONResponse({"status": True, "ignored": "malformed"})
    if message is None:
        return JSONResponse({"status": True, "ignored": True})
    try:
        await store_delivery(message)
    except StoreFailed:
        return JSONResponse({"status": False}, status_code=503)
    return JSONResponse({"status": True})
