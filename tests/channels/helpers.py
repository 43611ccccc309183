"""Helpers shared by the channel tests (tests/channels, tests/workers)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from sqlalchemy import func, select

from core.config import get_settings
from core.db import get_sessionmaker
from core.models import InboundUpdate, OutboundMessage
from webhooks import fonnte, telegram, whatsapp

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
TG_CHAT = "123456789"


def webhook_app() -> FastAPI:
    """Only the webhook routes (the composition root is tested by the lead's e2e suite)."""
    app = FastAPI()
    app.include_router(telegram.router)
    app.include_router(fonnte.router)
    app.include_router(whatsapp.router)
    return app


def fixture(channel: str, name: str, **overrides: Any) -> dict[str, Any]:
    data = json.loads((FIXTURES / channel / f"{name}.json").read_text())
    data.update(overrides)
    return data


def tg_headers(secret: str | None = None) -> dict[str, str]:
    value = secret if secret is not None else _secret("telegram_webhook_secret")
    return {"X-Telegram-Bot-Api-Secret-Token": value}


def fonnte_path(secret: str | None = None) -> str:
    return f"/webhooks/fonnte/{secret if secret is not None else _secret('fonnte_webhook_secret')}"


def _secret(name: str) -> str:
    value = getattr(get_settings(), name)
    return value.get_secret_value() if value else ""


def tg_text(update_id: int, text: str, chat_id: int = int(TG_CHAT)) -> dict[str, Any]:
    """A private text Update (like tests/fixtures/telegram/text_private.json)."""
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id % 100000,
            "from": {"id": chat_id, "is_bot": False, "first_name": "Budi"},
            "chat": {"id": chat_id, "first_name": "Budi", "type": "private"},
            "date": 1767225600,
            "text": text,
        },
    }


def count(model: Any, *where: Any) -> int:
    with get_sessionmaker()() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def inbound_rows() -> list[InboundUpdate]:
    with get_sessionmaker()() as session:
        return list(session.scalars(select(InboundUpdate).order_by(InboundUpdate.id)))


def outbound_rows(*where: Any) -> list[OutboundMessage]:
    with get_sessionmaker()() as session:
        return list(
            session.scalars(select(OutboundMessage).where(*where).order_by(OutboundMessage.id))
        )


def wait_until(predicate: Callable[[], bool], timeout: float = 20.0, what: str = "") -> None:
    """Poll until ``predicate()`` holds; fail after ``timeout`` (a deadline, not a timing check)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(0.05)


def wa_post(client: Any, payload: Any, *, secret: str | None = None) -> Any:
    """POST a WhatsApp Cloud API webhook body signed like Meta does."""
    from tests.fakes.graph_api import sign

    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    signature = sign(body, secret if secret is not None else _secret("whatsapp_app_secret"))
    headers = {"X-Hub-Signature-256": signature, "Content-Type": "application/json"}
    return client.post("/webhooks/whatsapp", content=body, headers=headers)


def queued_jobs(broker: Any, queue: str, *, besides: tuple[str, ...] = ("read_screenshot",)) -> int:
    """Messages waiting on a Redis broker ``queue``, not counting the actors in ``besides``.

    Every committed payment photo also queues its screenshot read (workers/screenshots.py), so
    tests that count the jobs an action queues leave those reads out.
    """
    raw = broker.client.hvals(f"{broker.namespace}:{queue}.msgs")
    return sum(1 for body in raw if json.loads(body).get("actor_name") not in besides)
