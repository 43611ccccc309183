"""Removing stored personal files (payment photos, authorisation letters) once the rows say so.

Callers collect the MEDIA_DIR-relative paths while blanking the rows and remove the files only
after the transaction commits (UnitOfWork.on_commit): a rolled-back purge leaves every file.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from core import media

log = logging.getLogger(__name__)


def remove(paths: Iterable[str | None]) -> int:
    """Delete the stored files ``paths`` name (local or object storage); return how many."""
    removed = 0
    for relative in {p for p in paths if p}:
        if not media.exists(relative):
            continue  # already gone, or not a stored key
        try:
            media.delete(relative)
            removed += 1
        except OSError as exc:  # the name is random: no personal data in this line
            log.warning("could not remove a personal file: %s", exc.__class__.__name__)
    return removed
