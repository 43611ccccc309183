"""Webhook routes (Telegram, Fonnte, WhatsApp Cloud), the chat simulator and the public start
links (/go/...): above the workers, below app."""

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from webhooks import fonnte, simulator, start_links, telegram, whatsapp

router = APIRouter()
router.include_router(telegram.router)
router.include_router(fonnte.router)
router.include_router(whatsapp.router)
router.include_router(simulator.router)
router.include_router(start_links.router)

Endpoint = Callable[..., Awaitable[Response]]

_FONNTE = "/webhooks/fonnte/"
_DIRECT: dict[str, Endpoint] = {
    "/webhooks/telegram": telegram.telegram_webhook,
    "/webhooks/whatsapp": whatsapp.whatsapp_webhook,
}


def direct_route(method: str, path: str) -> tuple[Endpoint, dict[str, Any]] | None:
    """The provider POST endpoint for ``path`` and its path parameters, or None for any other request.

    The same endpoints and paths as ``router`` declares, for app.main's direct dispatch (no router
    walk, no per-route FastAPI machinery); each endpoint takes ``request=`` and its path parameters
    as keywords and returns a Response.
    """
    if method != "POST":
        return None
    endpoint = _DIRECT.get(path)
    if endpoint is not None:
        return endpoint, {}
    if path.startswith(_FONNTE):
        secret = path[len(_FONNTE) :]
        if secret and "/" not in secret:  # the route's {secret}: one non-empty segment
            return fonnte.fonnte_webhook, {"secret": secret}
    return None
