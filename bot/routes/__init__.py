"""Webhook routes (Telegram, Fonnte) and the chat simulator."""

from fastapi import APIRouter

router = APIRouter()
