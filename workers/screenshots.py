"""Screenshot OCR (queue `default`): read every stored payment photo, off the chat reply path.

Every PaymentImage row is enqueued once its transaction commits (a session listener, so no inbound
path has to remember to), and a periodic sweep picks up any the enqueue missed. OCR never blocks:
a missing engine, a corrupt file or a timeout is stored as a failed reading and the queue simply
shows the photo without checks. With auto-approval on for the event, a screenshot whose amount and
destination agree with exactly one unmatched bank credit is approved from that credit.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import dramatiq
from PIL import Image
from sqlalchemy import event
from sqlalchemy.orm import Session

from core import audit, media
from core.config import get_settings
from core.db import get_sessionmaker, unit_of_work, utcnow
from core.errors import Conflict, NotFound, RangeExhausted
from core.models import Payment, PaymentImage
from core.payments.screenshot_reading import service
from core.payments.screenshot_reading.checks import check_payment
from core.payments.screenshot_reading.engines import get_engine
from core.payments.screenshot_reading.reader import read_image
from core.payments.statements import approval
from workers.broker import broker
from workers.jobs import periodic
from workers.verification import after_verification

log = logging.getLogger(__name__)

_NEW = "funrun.new_payment_images"


@dramatiq.actor(queue_name="default", broker=broker, max_retries=2, time_limit=90_000)
def read_screenshot(image_id: int) -> None:
    """OCR one stored payment image and keep what it says (once per image)."""
    read_once(image_id)


def read_once(image_id: int) -> str | None:
    """Read, store, maybe auto-approve; return the stored status (None: nothing to do)."""
    settings = get_settings()
    with get_sessionmaker()() as session:
        image = session.get(PaymentImage, image_id)
        if image is None or not settings.ocr_enabled:
            return None
        path = media.safe_path(image.path, settings)  # S3: a local copy for Pillow
    reading, status, error, started = None, service.READ, None, time.perf_counter()
    engine = get_engine(settings.ocr_engine, timeout=settings.ocr_timeout_seconds)
    try:
        if path is None:
            raise FileNotFoundError("stored image missing")
        with Image.open(path) as picture:
            reading = read_image(picture, engine)
    except Exception as exc:  # noqa: BLE001 - OCR must never block verification
        status = service.TIMEOUT if "timeout" in str(exc).lower() else service.FAILED
        error = f"{type(exc).__name__}: {exc}"
        log.warning("screenshot %s not read: %s", image_id, type(exc).__name__)
    elapsed = int((time.perf_counter() - started) * 1000)
    with unit_of_work() as uow:
        stored = service.record(
            uow.session, image_id=image_id, reading=reading, status=status,
            engine=engine.name, elapsed_ms=elapsed, error=error,
        )  # fmt: skip
        if stored and status == service.READ:
            _maybe_auto_approve(uow, image_id)
    return status if stored else None


def _maybe_auto_approve(uow, image_id: int) -> None:  # noqa: ANN001
    session = uow.session
    payment = session.get(Payment, session.get(PaymentImage, image_id).payment_id)
    approver = service.auto_approver(session, payment.registration.event_id)
    if approver is None or payment.status != "submitted":
        return
    checks = check_payment(session, payment, now=utcnow())
    line = service.statement_credit(session, payment, checks) if checks else None
    if line is None:
        return
    try:
        with session.begin_nested():  # a conflict leaves the reading stored
            result = approval.approve_line(
                session, line_id=line.id, actor=approver, now=utcnow(),
                registration_id=payment.registration_id,
            )  # fmt: skip
            audit.record(
                session, actor=approver.email, action="payment.auto_approved",
                subject_type="payment", subject_id=payment.id, statement_line=line.id,
                amount=checks.reading.amount,
            )  # fmt: skip
    except (Conflict, NotFound, RangeExhausted) as exc:
        log.info("auto-approve of payment %s skipped: %s", payment.id, exc)
        return
    after_verification(uow, result)


@periodic("screenshot_sweep", 300)
@dramatiq.actor(queue_name="low", broker=broker, max_retries=1)
def sweep_unread() -> None:
    """Periodic: enqueue images of the last day that have no reading (a lost message)."""
    with get_sessionmaker()() as session:
        ids = service.unread_images(session, since=utcnow() - timedelta(days=1))
    for image_id in ids:
        read_screenshot.send(image_id)


@event.listens_for(Session, "after_flush")
def _collect_new_images(session: Session, _context: object) -> None:
    new = [obj.id for obj in session.new if isinstance(obj, PaymentImage)]
    if new:
        session.info.setdefault(_NEW, set()).update(new)


@event.listens_for(Session, "after_commit")
def _enqueue_new_images(session: Session) -> None:
    for image_id in sorted(session.info.pop(_NEW, ())):
        try:
            read_screenshot.send(image_id)
        except Exception:  # noqa: BLE001 - the sweep catches it up; never fail the commit
            log.warning("could not enqueue OCR of image %s", image_id)


@event.listens_for(Session, "after_rollback")
def _forget_new_images(session: Session) -> None:
    session.info.pop(_NEW, None)
