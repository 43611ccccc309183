"""The check-in use case: one scan at a desk, with the representative's letter photo if any.

No job is enqueued; it lives here beside the other use cases so every door (the check-in page,
the tests) records a pickup the same way.
"""

from __future__ import annotations

from core.config import get_settings
from core.db import unit_of_work, utcnow
from core.fulfilment import checkin, letters
from core.models import Event


def check_in(
    scan: checkin.Scan, *, letter_jpeg: bytes | None = None
) -> tuple[checkin.ScanResult, str]:
    """Record one scan in one transaction; return its result and the event's timezone.

    The letter photo (already cleaned, to be stored at ``scan.letter_path``) is written only with
    the check-in holding it, and deleted again if that check-in does not commit.
    """
    saved = False
    try:
        with unit_of_work() as uow:
            result = checkin.scan(uow.session, request=scan, now=utcnow())
            if result.letter_recorded and scan.letter_path and letter_jpeg:
                # Written inside the transaction: a failed write rolls the check-in back.
                letters.save_letter(letter_jpeg, scan.letter_path)
                saved = True
            event = uow.session.get(Event, scan.event_id)
            zone = event.timezone if event else get_settings().timezone
    except BaseException:
        if saved and scan.letter_path:
            letters.discard_letter(scan.letter_path)  # the check-in did not commit
        raise
    return result, zone
