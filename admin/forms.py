"""Turn HTML form strings into typed values for the services (dates in the event's timezone)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from core.errors import InvalidSetting


def text(form: Any, name: str) -> str:
    return str(form.get(name) or "").strip()


def integer(form: Any, name: str, *, required: bool = True) -> int | None:
    raw = text(form, name).replace(".", "").replace(",", "")
    if not raw:
        if required:
            raise InvalidSetting(f"{name.replace('_', ' ')} is required")
        return None
    try:
        return int(raw)
    except ValueError as exc:
        raise InvalidSetting(f"{name.replace('_', ' ')} must be a whole number") from exc


def number(form: Any, name: str) -> float:
    raw = text(form, name).replace(",", ".") or "0"
    try:
        return float(raw)
    except ValueError as exc:
        raise InvalidSetting(f"{name.replace('_', ' ')} must be a number") from exc


def day(form: Any, name: str) -> date:
    try:
        return date.fromisoformat(text(form, name))
    except ValueError as exc:
        raise InvalidSetting(f"{name.replace('_', ' ')} must be a date") from exc


def moment(form: Any, name: str, tz: str) -> datetime | None:
    """A datetime-local value read in ``tz`` and returned in UTC (None when empty)."""
    raw = text(form, name)
    if not raw:
        return None
    try:
        local = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise InvalidSetting(f"{name.replace('_', ' ')} must be a date and time") from exc
    return local.replace(tzinfo=ZoneInfo(tz)).astimezone(UTC)


def local_input(value: datetime | None, tz: str) -> str:
    """Format for an <input type=datetime-local> in the event's timezone."""
    return value.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%dT%H:%M") if value else ""


def checkbox(form: Any, name: str) -> bool:
    return form.get(name) in ("on", "1", "true")
