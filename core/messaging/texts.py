"""Organiser overrides of catalogue texts: checked when saved, loaded into core.i18n's process cache.

core.i18n renders them but never touches the database; this module reads the
notification_templates table for it, at most once per ``max_age`` in each process, at the start of
the places that render runner texts: ``texts_unit_of_work()`` for every use case that opens its own
transaction (workers/ and the admin actions), and the conversation runtime, which renders inside its
caller's transaction. The process that saves an override calls ``i18n.invalidate_overrides`` after
its commit, so its next refresh reloads at once; other processes follow within ``max_age``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from jinja2 import TemplateSyntaxError
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, i18n
from core.db import UnitOfWork, unit_of_work, utcnow
from core.errors import ServiceError
from core.models import NotificationTemplate

log = logging.getLogger(__name__)

MAX_AGE = timedelta(seconds=30)


class InvalidTemplate(ServiceError):
    """An override that would not render; the message says where and why (shown to the admin)."""

    key = "admin.invalid_template"


def validate(key: str, body: str) -> None:
    """Raise InvalidTemplate unless ``body`` compiles and uses only the text's own placeholders."""
    try:
        template = i18n.compile_text(body)
    except TemplateSyntaxError as exc:
        raise InvalidTemplate(f"template error on line {exc.lineno}: {exc.message}") from exc
    allowed = i18n.placeholders(key) | {"lang"}
    unknown = sorted(i18n.text_variables(body) - allowed - set(template.globals))
    if unknown:
        names = ", ".join(f"{{{{ {n} }}}}" for n in sorted(allowed)) or "none"
        raise InvalidTemplate(
            f"unknown placeholder {', '.join(unknown)}; this message can use: {names}"
        )


def refresh_overrides(session: Session, *, now: datetime, max_age: timedelta = MAX_AGE) -> bool:
    """Reload every override into core.i18n when the cached set is stale; return whether it did.

    Costs one query per ``max_age`` per process (none while fresh), so callers can run it before
    every batch of texts they render.
    """
    loaded = i18n.overrides_loaded_at()
    if loaded is not None and timedelta(0) <= now - loaded < max_age:
        return False
    rows = session.execute(
        select(NotificationTemplate.key, NotificationTemplate.language, NotificationTemplate.body)
    ).all()
    skipped = i18n.set_overrides({(k, lang): body for k, lang, body in rows}, loaded_at=now)
    for key, lang in skipped:
        log.warning("text override %s/%s does not compile; using the catalogue text", key, lang)
    return True


def set_template(session: Session, *, key: str, language: str, body: str, actor: str) -> None:
    """Override a catalogue text for one language; an empty body restores the default.

    Raises InvalidTemplate when the text would not render (checked before any change).
    """
    if body.strip():
        validate(key, body)
    row = session.scalar(
        select(NotificationTemplate)
        .where(NotificationTemplate.key == key, NotificationTemplate.language == language)
        .with_for_update()
    )
    before = {"body": row.body if row else None}
    if not body.strip():
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(NotificationTemplate(key=key, language=language, body=body))
    else:
        row.body = body
    session.flush()
    audit.record(
        session, actor=actor, action="settings.template", subject_type="template",
        subject_id=f"{language}:{key}", before=before, after={"body": body or None},
    )  # fmt: skip
@contextmanager
def texts_unit_of_work(**kwargs: str) -> Iterator[UnitOfWork]:
    """``core.db.unit_of_work`` with the organiser's text overrides refreshed first.

    Every use case that renders runner or staff texts in its own transaction opens it here, so
    none can forget the refresh and send a stale text (``kwargs`` go to ``unit_of_work``).
    """
    with unit_of_work(**kwargs) as uow:
        refresh_overrides(uow.session, now=utcnow())
        yield uow
