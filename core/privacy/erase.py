"""Blanking personal fields of rows; shared by the retention purge and honoured deletion requests.

Each function changes rows in the caller's transaction and returns the file paths it unlinked from
them, for core.privacy.files.remove after the commit.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import CheckIn, Participant, Payment, ScreenshotReading

# Answers keys that hold the sensitive fields the retention purge removes.
SENSITIVE_ANSWERS = ("nik", "medical_notes")
ERASED_NAME = "[deleted]"


def photos(session: Session, registration_ids: Iterable[int]) -> list[str]:
    """Payment screenshots of these registrations: rows kept (amounts, status), files let go."""
    ids = list(registration_ids)
    if not ids:
        return []
    payments = list(session.scalars(select(Payment).where(Payment.registration_id.in_(ids))))
    paths: list[str] = []
    for payment in payments:
        if payment.image_path:
            paths.append(payment.image_path)
            payment.image_path = None
        for image in payment.images:
            if image.path:
                paths.append(image.path)
                image.path = ""
    payment_ids = [p.id for p in payments]
    if payment_ids:
        # What OCR read off a screenshot may hold the sender's name and account.
        readings = select(ScreenshotReading).where(ScreenshotReading.payment_id.in_(payment_ids))
        for reading in session.scalars(readings):
            reading.text, reading.account, reading.boxes = "", None, {}
    return paths


def letters(session: Session, registration_ids: Iterable[int], *, names: bool = False) -> list[str]:
    """Authorisation-letter photos of these registrations' check-ins (``names``: the
    representative's name too)."""
    ids = list(registration_ids)
    if not ids:
        return []
    paths = []
    for checkin in session.scalars(select(CheckIn).where(CheckIn.registration_id.in_(ids))):
        if checkin.authorisation_letter_path:
            paths.append(checkin.authorisation_letter_path)
            checkin.authorisation_letter_path = None
        if names:
            checkin.representative_name = None
    return paths


def sensitive(participant: Participant) -> bool:
    """Drop NIK and medical notes (the retention purge); True when anything was held."""
    answers = dict(participant.answers or {})
    had = bool(participant.nik or participant.medical_notes) or any(
        answers.get(k) for k in SENSITIVE_ANSWERS
    )
    participant.nik, participant.medical_notes = None, None
    for key in SENSITIVE_ANSWERS:
        answers.pop(key, None)
    participant.answers = answers
    return had


def everything(participant: Participant) -> None:
    """Anonymise a participant (an honoured deletion request): every personal field goes."""
    participant.full_name = ERASED_NAME
    # The jersey size stays: it is no one's identity and the race-pack counts need it.
    for name in ("gender", "date_of_birth", "email", "phone", "nik", "emergency_name",
                 "emergency_phone", "blood_type", "medical_notes", "club"):  # fmt: skip
        setattr(participant, name, None)
    participant.answers = {}
