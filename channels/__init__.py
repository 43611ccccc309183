"""Channel adapters, below the workers: parse and verify what a provider sends, send what we write.

channels.telegram / channels.fonnte: pure parse/verify plus httpx senders (import core only).
channels.outbound: one ``deliver`` that picks the adapter for a row. The webhook routes that
receive updates live above the workers, in ``webhooks``.
"""
