"""The chat simulator page (filled in by the conversation-flow issue)."""

from fastapi import APIRouter

router = APIRouter()
