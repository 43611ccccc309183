"""Webhook routes (Telegram, Fonnte) and the chat simulator."""

from fastapi import APIRouter

from bot.routes import simulator

router = APIRouter()
router.include_router(simulator.router)
