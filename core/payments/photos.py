"""Proof-of-payment photos: check, store, attach to the open payment, flag reused screenshots.

Part of the payments area. The image is validated and re-encoded
before any row is locked, so a slow decode never holds the registration lock.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, media
from core.enums import RegistrationStatus
from core.errors import InvalidImage, StorageUnavailable
from core.formatting import format_datetime
from core.i18n import t
from core.messages import Reply
from core.messaging.notify import chat_language
from core.models import Payment, PaymentImage, Registration
from core.payments import screenshots
from core.payments.screenshots import StoredImage
from core.payments.state import lock_open_payment, outstanding
from core.registration.stock import lock_registration

log = logging.getLogger(__name__)

_REFUSALS = {
    RegistrationStatus.PAID.value: "payment.already_paid",
    RegistrationStatus.EXPIRED.value: "payment.expired_photo",
    RegistrationStatus.CANCELLED.value: "payment.cancelled_photo",
}


@dataclass(slots=True)
class PhotoResult:
    """What happened to one proof photo; ``replies`` go back to the runner's chat."""

    ok: bool
    replies: list[Reply]
    payment: Payment | None = None
    duplicate: bool = False
    payments: list[Payment] = field(default_factory=list)  # one per registration (group photos)


def receive_photo(
    session: Session,
    *,
    registration: Registration,
    stored_path: str,
    provider_file_id: str | None,
    now: datetime,
) -> PhotoResult:
    """Check and keep a proof photo for one registration; move it to awaiting verification.

    A bad image returns ``ok=False`` with a reply saying what to send instead, and changes nothing;
    so does a photo that cannot be stored (media disk full): the reply asks for a resend.
    """
    return receive_photo_group(
        session,
        registrations=[registration],
        stored_path=stored_path,
        provider_file_id=provider_file_id,
        now=now,
    )


def discard_inbound_file(stored_path: str) -> None:
    """Delete a downloaded photo that will never be attached (the runner's pick was abandoned)."""
    media.delete(stored_path)


def receive_photo_group(
    session: Session,
    *,
    registrations: Sequence[Registration],
    stored_path: str,
    provider_file_id: str | None,
    now: datetime,
) -> PhotoResult:
    """Attach one proof photo to several registrations of one chat (one transfer paying for all)."""
    language = chat_language(session, registrations[0])
    refusal = _refusal(registrations, language)
    if refusal is not None:
        media.delete(stored_path)
        return refusal
    try:
        image = screenshots.store_payment_image(stored_path)
    except InvalidImage as error:
        log.info("payment photo refused (%s) for registration %s", error.key, registrations[0].id)
        return PhotoResult(ok=False, replies=[Reply(text=t(error.key, language, **error.params))])
    except StorageUnavailable as error:
        # Our disk or bucket failed, not the runner: nothing changes, they are asked to resend.
        log.warning("payment photo not stored for registration %s", registrations[0].id)
        return PhotoResult(ok=False, replies=[Reply(text=t(error.key, language))])
    locked = [lock_registration(session, r.id) for r in sorted(registrations, key=lambda r: r.id)]
    refusal = _refusal(locked, language)  # the status may have changed while we decoded
    if refusal is not None:
        media.delete(image.path)
        return refusal
    group = [r.id for r in locked] if len(locked) > 1 else []
    total = sum(outstanding(r) for r in locked)
    attached = [_attach(session, r, image, provider_file_id, now, group, total) for r in locked]
    duplicate = any(a[1] == "duplicate" for a in attached)
    if all(a[1] == "same" for a in attached):  # nothing new: drop the copy we just made
        media.delete(image.path)
    return PhotoResult(
        ok=True,
        replies=[_acknowledge(locked, attached[0][1], now, language)],
        payment=attached[0][0],
        duplicate=duplicate,
        payments=[a[0] for a in attached],
    )


def _refusal(registrations: Sequence[Registration], language: str) -> PhotoResult | None:
    for registration in registrations:
        key = _REFUSALS.get(registration.status)
        if key is not None:
            text = t(key, language, number=registration.number)
            return PhotoResult(ok=False, replies=[Reply(text=text)])
    return None


def _open_payment(session: Session, registration: Registration, now: datetime) -> Payment:
    """Return the payment still waiting for a verifier, or start a new one."""
    payment = lock_open_payment(session, registration.id)
    if payment is None:
        payment = Payment(registration_id=registration.id, source="photo", submitted_at=now)
        session.add(payment)
        session.flush()
    return payment


def _attach(
    session: Session,
    registration: Registration,
    image: StoredImage,
    provider_file_id: str | None,
    now: datetime,
    group: list[int],
    total: int,
) -> tuple[Payment, str]:
    """Add the image to the open payment; return it and "first", "added", "same" or "duplicate"."""
    payment = _open_payment(session, registration, now)
    known = session.scalars(select(PaymentImage).where(PaymentImage.payment_id == payment.id)).all()
    if any(_same(i, image, provider_file_id) for i in known):
        return payment, "same"
    row = _add_image(session, payment, image, provider_file_id, now)
    matches = find_reuse(session, registration, image, provider_file_id, exclude=group)
    _flag(payment, matches, group, total)
    before = registration.status
    registration.status = RegistrationStatus.AWAITING_VERIFICATION.value
    session.flush()
    audit.record(
        session,
        actor="runner",
        action="payment.photo_received",
        subject_type="registration",
        subject_id=registration.id,
        before={"status": before},
        after={"status": registration.status},
        payment_id=payment.id,
        image_id=row.id,
        duplicate_of=payment.flags.get("duplicate_of", []),
    )
    if matches:
        return payment, "duplicate"
    return payment, "first" if not known else "added"


def _flag(payment: Payment, matches: list[dict[str, object]], group: list[int], total: int) -> None:
    """Note reuse (for the verifier) and group photos with the total they should cover."""
    flags = dict(payment.flags or {})  # a new dict, so the JSON column is seen as changed
    if group:
        flags["group"] = group
        flags["group_total"] = total  # the verifier compares the photo's amount with this
    if matches:
        flags["duplicates"] = [*flags.get("duplicates", []), *matches]
        ids = {*flags.get("duplicate_of", []), *[m["payment_id"] for m in matches]}
        flags["duplicate_of"] = sorted(ids)
    payment.flags = flags


def _add_image(
    session: Session,
    payment: Payment,
    image: StoredImage,
    provider_file_id: str | None,
    now: datetime,
) -> PaymentImage:
    row = PaymentImage(
        payment_id=payment.id,
        path=image.path,
        sha256=image.sha256,
        phash=image.phash,
        provider_file_id=provider_file_id,
        width=image.width,
        height=image.height,
    )
    session.add(row)
    # The payment shows its latest image (runners often send a better one second).
    payment.image_path, payment.sha256, payment.phash = image.path, image.sha256, image.phash
    payment.provider_file_id = provider_file_id
    payment.submitted_at = now
    return row


def _same(known: PaymentImage, image: StoredImage, provider_file_id: str | None) -> bool:
    return known.sha256 == image.sha256 or bool(
        provider_file_id and known.provider_file_id == provider_file_id
    )


def find_reuse(
    session: Session,
    registration: Registration,
    image: StoredImage,
    provider_file_id: str | None,
    *,
    exclude: Sequence[int] = (),
) -> list[dict[str, object]]:
    """Find screenshots of other registrations in the event that are the same or near-identical."""
    skip = {registration.id, *exclude}
    rows = session.execute(
        select(
            PaymentImage.payment_id,
            Payment.registration_id,
            PaymentImage.sha256,
            PaymentImage.provider_file_id,
            PaymentImage.phash,
        )
        .join(Payment, Payment.id == PaymentImage.payment_id)
        .join(Registration, Registration.id == Payment.registration_id)
        .where(Registration.event_id == registration.event_id)
    ).all()
    matches: dict[int, dict[str, object]] = {}
    for payment_id, registration_id, sha256, file_id, phash in rows:
        if registration_id in skip or payment_id in matches:
            continue
        match = _match_kind(image, provider_file_id, sha256, file_id, phash)
        if match is not None:
            kind, distance = match
            matches[payment_id] = {
                "payment_id": payment_id,
                "registration_id": registration_id,
                "match": kind,
                "distance": distance,
            }
    return list(matches.values())


def _match_kind(
    image: StoredImage,
    file_id: str | None,
    sha256: str,
    other_file_id: str | None,
    phash: str | None,
) -> tuple[str, int] | None:
    if sha256 == image.sha256:
        return "sha256", 0
    if file_id and other_file_id == file_id:
        return "file_id", 0
    if phash:
        distance = int(screenshots.phash_distance(image.phash, phash))
        if distance <= screenshots.PHASH_NEAR:
            return "phash", distance
    return None


def _acknowledge(
    registrations: Sequence[Registration], outcome: str, now: datetime, language: str
) -> Reply:
    first = registrations[0]
    number = ", ".join(r.number for r in registrations)
    if outcome == "same":
        return Reply(text=t("payment.photo_same", language, number=number))
    if outcome == "added":
        return Reply(text=t("payment.photo_added", language, number=number))
    hours = first.event.verification_hours
    verify_by = format_datetime(now + timedelta(hours=hours), language, first.event.timezone)
    text = t("payment.photo_received", language, number=number, hours=hours, verify_by=verify_by)
    return Reply(text=text)
