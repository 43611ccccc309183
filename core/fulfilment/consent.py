"""Parental consent letters of minors: kept privately, judged by a verifier, gating the ticket.

A runner younger than the event's minor age on race day sends a photo of the signed letter in the
chat (before the summary); the registration keeps every photo as a ConsentLetter row and the
newest one counts. No ticket token is issued while the newest letter is not accepted
(tickets.issue asks blocks_ticket); accepting it issues the ticket of a paid registration. A
rejected letter asks the runner, in their language, for a new photo, which the chat takes next.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, media
from core.enums import LetterStatus, RegistrationStatus
from core.errors import Conflict, InvalidImage, NotFound, StorageUnavailable
from core.fulfilment import letters, tickets
from core.messaging.notify import notify
from core.models import ConsentLetter, OutboundMessage, Registration

LETTERS_SUBDIR = "consent-letters"
ACTIVE = (
    RegistrationStatus.PENDING_PAYMENT.value,
    RegistrationStatus.AWAITING_VERIFICATION.value,
    RegistrationStatus.PARTIALLY_PAID.value,
    RegistrationStatus.PAID.value,
)


def store_photo(inbound_path: str) -> str:
    """Re-encode a downloaded photo (EXIF dropped) into the private letters folder; return its path.

    The download is deleted either way. Raises InvalidImage for an unreadable or empty photo,
    StorageUnavailable when the clean copy cannot be written (media disk full).
    """
    # With MEDIA_URL=s3://… the download was uploaded by the prefetching process: safe_path
    # fetches it; media.delete removes it wherever it was kept.
    source = media.safe_path(inbound_path) if inbound_path else None
    try:
        data = source.read_bytes() if source is not None and source.is_file() else b""
        jpeg = letters.clean_letter(data)
    finally:
        media.delete(inbound_path)
    relative = letters.new_letter_path().replace(letters.LETTERS_SUBDIR, LETTERS_SUBDIR, 1)
    letters.save_letter(jpeg, relative)
    return relative


def discard(relative: object) -> None:
    """Delete a letter photo that will not be kept (a draft's earlier photo)."""
    if isinstance(relative, str) and relative.startswith(f"{LETTERS_SUBDIR}/"):
        media.delete(relative)


def _age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def needs_letter(registration: Registration) -> bool:
    """Whether the runner is below the event's minor age on race day."""
    minor_age = registration.event.minor_age
    born = registration.participant.date_of_birth
    return bool(minor_age and born and _age_on(born, registration.event.race_date) < minor_age)


def latest(session: Session, registration_id: int) -> ConsentLetter | None:
    """The newest letter photo of a registration (the one that counts)."""
    return session.scalar(
        select(ConsentLetter)
        .where(ConsentLetter.registration_id == registration_id)
        .order_by(ConsentLetter.id.desc())
        .limit(1)
    )


def blocks_ticket(session: Session, registration: Registration) -> bool:
    """No ticket for a minor whose newest consent letter is missing or not accepted."""
    if not needs_letter(registration):
        return False
    letter = latest(session, registration.id)
    return letter is None or letter.status != LetterStatus.ACCEPTED.value


def record_submission(session: Session, *, registration: Registration, now: datetime) -> None:
    """At submit: the waiver's acceptance time, and the letter photo the draft holds."""
    answers = registration.participant.answers or {}
    accepted = answers.get("waiver")
    if accepted and registration.event.waiver_text:
        registration.waiver_accepted_at = datetime.fromisoformat(str(accepted))
    path = answers.get("consent_letter")
    if path and needs_letter(registration):
        _add(session, registration, str(path), now)


def _add(session: Session, registration: Registration, path: str, now: datetime) -> ConsentLetter:
    letter = ConsentLetter(
        registration_id=registration.id,
        path=path,
        status=LetterStatus.SUBMITTED.value,
        received_at=now,
    )
    session.add(letter)
    session.flush()
    audit.record(
        session,
        actor="runner",
        action="consent.letter_received",
        subject_type="registration",
        subject_id=registration.id,
        letter_id=letter.id,
    )
    return letter


def awaiting_new_letter(session: Session, *, channel: str, chat_id: str) -> list[Registration]:
    """This chat's live registrations whose newest letter was rejected (a photo goes there)."""
    rows = session.scalars(
        select(Registration)
        .where(
            Registration.channel == channel,
            Registration.chat_id == chat_id,
            Registration.status.in_(ACTIVE),
        )
        .order_by(Registration.id)
    )
    return [
        r
        for r in rows
        if needs_letter(r)
        and (letter := latest(session, r.id)) is not None
        and letter.status == LetterStatus.REJECTED.value
    ]


def receive_new_letter(
    session: Session, *, registration: Registration, inbound_path: str, now: datetime
) -> str:
    """Keep a replacement letter photo; return the text key to answer with."""
    try:
        path = store_photo(inbound_path)
    except InvalidImage:
        return "questions.letter.invalid"
    except StorageUnavailable as error:  # media disk full: nothing changes, they resend later
        return error.key
    _lock(session, registration.id)
    _add(session, registration, path, now)
    return "questions.letter.received_again"


def _lock(session: Session, registration_id: int) -> Registration:
    registration = session.scalars(
        select(Registration)
        .where(Registration.id == registration_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if registration is None:
        raise NotFound("registration not found")
    return registration


def _letter_for_decision(session: Session, letter_id: int) -> tuple[ConsentLetter, Registration]:
    letter = session.get(ConsentLetter, letter_id)
    if letter is None:
        raise NotFound("consent letter not found")
    registration = _lock(session, letter.registration_id)
    session.refresh(letter)
    newest = latest(session, registration.id)
    if newest is None or newest.id != letter.id or letter.status != LetterStatus.SUBMITTED.value:
        raise Conflict("This letter was already judged or replaced; reload the page.")
    return letter, registration


def accept(
    session: Session, *, letter_id: int, actor: str, now: datetime
) -> tuple[Registration, list[OutboundMessage], bool]:
    """Accept a letter; a paid registration gets its ticket now. Returns (reg, messages, ticket?)."""
    letter, registration = _letter_for_decision(session, letter_id)
    _decide(session, letter, registration, LetterStatus.ACCEPTED, actor, now, "")
    issued = False
    if registration.status == RegistrationStatus.PAID.value and not registration.ticket_token:
        tickets.issue(session, registration=registration, now=now)
        issued = bool(registration.ticket_token)
    message = notify(
        session,
        registration,
        key="questions.letter.accepted",
        idempotency_key=f"consent:{letter.id}:accepted",
    )
    return registration, [message], issued


def reject(
    session: Session, *, letter_id: int, actor: str, note: str, now: datetime
) -> tuple[Registration, list[OutboundMessage]]:
    """Reject a letter: the runner is asked for a new photo, in their language."""
    letter, registration = _letter_for_decision(session, letter_id)
    note = note.strip()[:500]
    _decide(session, letter, registration, LetterStatus.REJECTED, actor, now, note)
    message = notify(
        session,
        registration,
        key="questions.letter.rejected",
        idempotency_key=f"consent:{letter.id}:rejected",
        note=note,
    )
    return registration, [message]


def _decide(
    session: Session,
    letter: ConsentLetter,
    registration: Registration,
    status: LetterStatus,
    actor: str,
    now: datetime,
    note: str,
) -> None:
    before = letter.status
    letter.status = status.value
    letter.note = note
    letter.decided_by = actor
    letter.decided_at = now
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=f"consent.letter_{status.value}",
        subject_type="registration",
        subject_id=registration.id,
        before={"status": before},
        after={"status": letter.status},
        letter_id=letter.id,
    )
