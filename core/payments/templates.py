"""WhatsApp Cloud API template parameters: what each message kind's approved template is filled with.

Outside the 24-hour window (core.messaging.window) a payment message goes out as its template; the
README lists each template's text with these parameters in this order.
"""

from __future__ import annotations

from core.formatting import rupiah
from core.models import Registration
from core.payments.state import deadline_text, outstanding


def params(kind: str, registration: Registration, text: str = "") -> list[str]:
    """The body parameters {{1}}, {{2}}, ... of ``kind``'s template."""
    name = registration.participant.full_name
    if kind == "payment_reminder":
        return [
            name,
            registration.number,
            rupiah(outstanding(registration)),
            deadline_text(registration),
        ]
    if kind == "ticket":
        return [name, registration.event.name, registration.bib or "-", registration.number]
    if kind == "broadcast":
        # Meta refuses line breaks in a parameter: the announcement goes in as one line.
        return [name, registration.event.name, " ".join(text.split())[:1000] or "-"]
    if kind == "payment_rejected":
        return [name, registration.number]
    return [name, registration.number, registration.event.name]
