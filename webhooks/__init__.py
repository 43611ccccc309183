"""Webhook routes (Telegram, Fonnte, WhatsApp Cloud) and the chat simulator: above the workers, below app."""

from fastapi import APIRouter

from webhooks import fonnte, simulator, telegram, whatsapp

router = APIRouter()
router.include_router(telegram.router)
router.include_router(fonnte.router)
router.include_router(whatsapp.router)
router.include_router(simulator.router)
