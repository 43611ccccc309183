"""E-tickets: the unguessable QR token, the rendered PNG, and the outbox rows that deliver it.

The QR holds only a random token (32 characters from an alphabet without look-alikes, ~160 bits),
never the registration number or BIB. Cancelling or moving a ticket replaces the token, so an old,
edited or forged code matches no registration and is refused at check-in.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, media
from core.config import get_settings
from core.db import utcnow
from core.enums import Channel, RegistrationStatus
from core.formatting import format_date
from core.fulfilment import consent
from core.fulfilment.ticket_image import TicketData, render_png
from core.i18n import t
from core.messages import Reply
from core.messaging import outbox
from core.messaging.notify import chat_language
from core.models import OutboundMessage, Registration

# No 0/O, 1/I/L: a token read aloud or typed from a blurry screen is still unambiguous.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
TOKEN_LENGTH = 32
TICKETS_SUBDIR = "tickets"


def new_token() -> str:
    """Return a fresh random ticket token."""
    return "".join(secrets.choice(ALPHABET) for _ in range(TOKEN_LENGTH))


def normalise_token(code: str) -> str | None:
    """Return ``code`` as a canonical token, or None when it cannot be one."""
    cleaned = "".join(code.split()).upper()
    if len(cleaned) != TOKEN_LENGTH or any(ch not in ALPHABET for ch in cleaned):
        return None
    return cleaned


def find_by_token(session: Session, code: str) -> Registration | None:
    """Return the registration whose current ticket token is ``code`` (old tokens match nothing)."""
    token = normalise_token(code)
    if token is None:
        return None
    return session.scalar(select(Registration).where(Registration.ticket_token == token))


def issue(session: Session, *, registration: Registration, now: datetime | None = None) -> None:
    """Give a paid registration its ticket token (kept if it already has one).

    A minor without an accepted consent letter gets none yet (consent.accept issues it later).
    """
    if registration.ticket_token or consent.blocks_ticket(session, registration):
        return
    registration.ticket_token = new_token()
    registration.ticket_version = (registration.ticket_version or 0) + 1
    registration.ticket_issued_at = now or utcnow()
    session.flush()


def reissue(session: Session, *, registration: Registration, actor: str) -> None:
    """Revoke the current ticket; paid registrations get a new token (cancelled ones none).

    Call after a cancellation or a category move, then queue_ticket() to send the new one.
    """
    before = {"ticket_version": registration.ticket_version}
    paid = registration.status == RegistrationStatus.PAID.value
    paid = paid and not consent.blocks_ticket(session, registration)
    registration.ticket_token = new_token() if paid else None
    registration.ticket_version = (registration.ticket_version or 0) + 1
    registration.ticket_issued_at = utcnow() if paid else None
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="ticket.reissued" if paid else "ticket.revoked",
        subject_type="registration",
        subject_id=registration.id,
        before=before,
        after={"ticket_version": registration.ticket_version},
    )


def ticket_data(registration: Registration, language: str) -> TicketData:
    """Collect and translate what the ticket shows."""
    event, category = registration.event, registration.category
    when = format_date(event.race_date, language)
    if event.race_start_time:
        when = f"{when} · {event.race_start_time}"
    labels = {
        key: t(f"ticket.image.{key}", language)
        for key in ("bib", "number", "jersey", "pickup", "hint")
    }
    return TicketData(
        event_name=event.name,
        event_date=when,
        venue=event.text_for("venue", language),
        runner_name=registration.participant.full_name,
        category=category.name,
        bib=registration.bib or "-",
        number=registration.number,
        jersey_size=registration.participant.jersey_size or "-",
        pickup_info=event.text_for("pickup_info", language),
        token=registration.ticket_token or "",
        labels=labels,
    )


def render_ticket_png(registration: Registration, language: str) -> bytes:
    """Render the ticket of ``registration`` as PNG bytes."""
    return render_png(ticket_data(registration, language))


def ticket_file(registration: Registration, language: str) -> str:
    """Render the ticket once per version and language; return its path relative to MEDIA_DIR.

    The name carries a digest of the token, so a reissued ticket never reuses an old file.
    """
    digest = hashlib.sha256((registration.ticket_token or "").encode()).hexdigest()[:16]
    relative = (
        f"{TICKETS_SUBDIR}/{registration.id}-v{registration.ticket_version}-{language}-{digest}.png"
    )
    if not media.exists(relative):
        # Atomic put: a concurrent reader never sees half a PNG; two renders write equal bytes.
        media.save(relative, render_ticket_png(registration, language))
    return relative


def ticket_reply(
    session: Session, *, registration: Registration, language: str, resend: bool = False
) -> Reply | None:
    """Return the e-ticket as a chat photo with caption, or None when there is no valid ticket.

    ``resend``: a copy asked for (TIKET, admin resend), captioned as such, not "Payment verified!".
    """
    if registration.status != RegistrationStatus.PAID.value or not registration.ticket_token:
        return None
    # A category move changes category_id; reload relationships so the ticket shows the new one.
    session.flush()
    session.expire(registration, ["event", "category", "participant"])
    caption = t(
        "ticket.caption_resend" if resend else "ticket.caption",
        language,
        name=registration.participant.full_name,
        event=registration.event.name,
        category=registration.category.name,
        bib=registration.bib,
        number=registration.number,
        date=registration.event.race_date,
        pickup=registration.event.text_for("pickup_info", language),
    )
    return Reply(text=caption, image_path=ticket_file(registration, language), kind="ticket")


def queue_ticket(
    session: Session, *, registration: Registration, key_suffix: str = ""
) -> list[OutboundMessage]:
    """Write the ticket photo to the outbox, once per ticket version (``key_suffix`` for resends)."""
    reply = ticket_reply(
        session,
        registration=registration,
        language=chat_language(session, registration),
        resend=bool(key_suffix),
    )
    if reply is None:
        return []
    row = outbox.write(
        session,
        channel=registration.channel,
        recipient=registration.chat_id,
        reply=reply,
        idempotency_key=f"ticket:{registration.id}:{registration.ticket_version}{key_suffix}",
        priority=outbox.PRIORITY_NOTIFICATION,
        conversation_id=registration.conversation_id,
        registration_id=registration.id,
    )
    return [row]


def write_ticket_email(
    session: Session, *, registration: Registration, key_suffix: str = ""
) -> OutboundMessage | None:
    """Write the ticket email to the outbox when the runner gave an email and SMTP is set up."""
    email = registration.participant.email
    if not email or not get_settings().smtp_url:
        return None
    reply = ticket_reply(
        session, registration=registration, language=chat_language(session, registration)
    )
    if reply is None:
        return None
    key = f"ticket-email:{registration.id}:{registration.ticket_version}{key_suffix}"
    existing = session.scalar(select(OutboundMessage).where(OutboundMessage.idempotency_key == key))
    if existing is not None:
        return existing
    language = chat_language(session, registration)
    params = {
        "name": registration.participant.full_name,
        "event": registration.event.name,
        "bib": registration.bib,
        "number": registration.number,
        "pickup": registration.event.text_for("pickup_info", language),
    }
    row = OutboundMessage(
        channel=Channel.EMAIL.value,
        recipient=email,
        kind="ticket",
        priority=outbox.PRIORITY_NOTIFICATION,
        text=t("ticket.email.body", language, **params),
        media_path=reply.image_path,
        extra={"subject": t("ticket.email.subject", language, **params)},
        idempotency_key=key,
        registration_id=registration.id,
    )
    session.add(row)
    session.flush()
    return row
