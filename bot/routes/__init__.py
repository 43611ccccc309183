"""Webhook routes (Telegram, Fonnte) and the chat simulator."""

from fastapi import APIRouter

from bot.routes import fonnte, simulator, telegram

router = APIRouter()
router.include_router(telegram.router)
router.include_router(fonnte.router)
router.include_router(simulator.router)
