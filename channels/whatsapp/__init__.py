"""WhatsApp Cloud API (Meta's official Business Platform): parse signed webhooks, send via Graph API.

Same shape as channels.telegram / channels.fonnte: inbound (verify + pure parse), outbound (httpx
senders, error classes), setup (the `funrun whatsapp check` read-outs). No business rules here.
"""
