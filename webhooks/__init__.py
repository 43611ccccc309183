"""Webhook routes (Telegram, Fonnte) and the chat simulator: above the workers, below app."""

from fastapi import APIRouter

from webhooks import fonnte, simulator, telegram

router = APIRouter()
router.include_router(telegram.router)
router.include_router(fonnte.router)
router.include_router(simulator.router)
