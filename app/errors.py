"""Out-of-range input the database refuses is the client's error (422), not ours (500).

Found by tests/fuzz/test_openapi.py: any integer path parameter above 2**63-1
(``/admin/media/payment-images/9223372036854775808``) reached PostgreSQL as a bigint and came back
as DataError. The transaction is rolled back by the unit of work, so nothing is half-written.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse
from sqlalchemy.exc import DataError

log = logging.getLogger(__name__)


def install(app: FastAPI) -> None:
    """Register the handler on ``app``."""
    app.add_exception_handler(DataError, _data_error)


async def _data_error(request: Request, exc: Exception) -> PlainTextResponse:
    # The statement and its parameters may hold personal data: log the kind only.
    orig = getattr(exc, "orig", None)
    log.warning("input refused by the database on %s: %s", request.url.path, type(orig).__name__)
    return PlainTextResponse("Invalid value", status_code=422)
