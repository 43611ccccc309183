"""Row values quoted by real PostgreSQL errors never reach log output; constraint names do."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.config import get_settings
from core.logging import RedactPersonalData, configure_logging, protect_logs, redact_data
from core.models.staff import AdminUser

EMAIL = "budi.santoso@example.com"
NAME = "Budi Santoso Wibowo"


@pytest.fixture
def configured() -> Iterator[logging.Handler]:
    """The handler configure_logging installs, writing to a StringIO; root restored afterwards."""
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    configure_logging("INFO", secrets=[])
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(io.StringIO())
    try:
        yield handler
    finally:
        configure_logging(get_settings().log_level)
        root.handlers[:], root.level = saved, level


def _admin(email: str | None = EMAIL, role: str | None = "admin") -> AdminUser:
    return AdminUser(email=email, name=NAME, password_hash="x", role=role)


def _duplicate_email(session: Session) -> IntegrityError:
    session.add(_admin())
    session.flush()
    with pytest.raises(IntegrityError) as caught, session.begin_nested():
        session.add(_admin())
        session.flush()
    return caught.value


def _not_null(session: Session) -> IntegrityError:
    with pytest.raises(IntegrityError) as caught, session.begin_nested():
        session.add(_admin(role=None))
        session.flush()
    return caught.value


def _log_exception(logger: logging.Logger, exc: BaseException) -> None:
    try:
        raise RuntimeError("engine failed") from exc
    except RuntimeError:
        logger.exception("conversation %s: engine failed: %s", 7, exc)


def _output(handler: logging.Handler) -> str:
    stream = handler.stream  # type: ignore[attr-defined]
    return stream.getvalue()


def test_duplicate_key_redacted_from_message_and_traceback(
    session: Session, configured: logging.Handler
) -> None:
    exc = _duplicate_email(session)
    assert EMAIL in str(exc)  # PostgreSQL really quotes the value
    _log_exception(logging.getLogger("workers.conversations"), exc)
    out = _output(configured)
    assert EMAIL not in out and NAME not in out
    assert "uq_admin_users_email" in out  # the constraint name stays for diagnosis
    assert "Key (email)=(***) already exists" in out
    assert "Traceback" in out and "engine failed" in out


def test_failing_row_redacted(session: Session, configured: logging.Handler) -> None:
    exc = _not_null(session)
    assert "Failing row contains" in str(exc) and EMAIL in str(exc)
    _log_exception(logging.getLogger("workers.delivery"), exc)
    out = _output(configured)
    assert EMAIL not in out and NAME not in out
    assert "Failing row contains (***)" in out and '"role"' in out


def test_structlog_exception_redacted(session: Session, configured: logging.Handler) -> None:
    exc = _duplicate_email(session)
    try:
        raise exc
    except IntegrityError:
        structlog.get_logger("funrun.test").exception("insert failed", error=None)
    out = _output(configured)
    assert EMAIL not in out and "uq_admin_users_email" in out


def test_plain_handler_as_in_dramatiq_workers(session: Session) -> None:
    """dramatiq's worker processes log through a plain stdlib handler on the root logger."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        protect_logs([])  # what workers/broker.py does at import
        assert any(isinstance(f, RedactPersonalData) for f in handler.filters)
        exc = _duplicate_email(session)
        try:
            raise exc
        except IntegrityError:
            logging.getLogger("dramatiq.worker.WorkerThread").error(
                "Failed to process message %s with unhandled exception.", "m1", exc_info=True
            )
    finally:
        root.removeHandler(handler)
    out = stream.getvalue()
    assert EMAIL not in out and "uq_admin_users_email" in out and "Traceback" in out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('Key (lower(email::text))=(a(b)c) is not present in table "x".', "=(***) is not present"),
        ('invalid input syntax for type integer: "0812 3456"', 'integer: "***"'),
        ("DETAIL:  Key (a)=(no known ending", "Key (a)=(***)"),
        ("[parameters: {'phone': '0812 3456'}]\n(Background", "[parameters: ***]\n(Background"),
    ],
)
def test_redact_data_variants(text: str, expected: str) -> None:
    redacted = redact_data(text)
    assert expected in redacted and "0812" not in redacted and "a(b)c" not in redacted


def test_transitions_callback_logs_are_quiet() -> None:
    import logging

    from core.config import get_settings
    from core.logging import protect_logs, secret_values

    protect_logs(secret_values(get_settings()))
    assert logging.getLogger("transitions.core").getEffectiveLevel() >= logging.WARNING
