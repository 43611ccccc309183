"""Fixtures for the fake channel servers (Telegram Bot API, Fonnte) on loopback."""
