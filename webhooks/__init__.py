"""Webhook routes (Telegram, Fonnte, WhatsApp Cloud), the chat simulator and the public start
links (/go/...): above the workers, below app."""

from fastapi import APIRouter

from webhooks import fonnte, simulator, start_links, telegram, whatsapp

router = APIRouter()
router.include_router(telegram.router)
router.include_router(fonnte.router)
router.include_router(whatsapp.router)
router.include_router(simulator.router)
router.include_router(start_links.router)
