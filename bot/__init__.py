"""Channel adapters (Telegram, Fonnte/WhatsApp, simulator) and webhook routes.

bot.telegram / bot.fonnte: pure parse/verify plus httpx senders (import core only).
bot.routes: FastAPI webhook routes (import core, the adapters, and workers only to .send()).
"""
