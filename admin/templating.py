"""The admin's Jinja2 environment (autoescape on): ``templates`` plus formatting filters.

Pages extend ``base.html`` (blocks ``title`` and ``content``, optional ``head`` and ``scripts``) and put
``{{ csrf_field() }}`` inside every POST form.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from markupsafe import Markup, escape

from admin.auth import CSRF_FIELD, csrf_token, current_staff, has_role
from admin.session import pop_flashes
from core.config import get_settings
from core.enums import Role
from core.formatting import rupiah

TEMPLATES_DIR = Path(__file__).parent / "templates"

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))


def local_dt(value: datetime | None, fmt: str = "%d %b %Y %H:%M") -> str:
    """Format an aware datetime in the configured timezone (empty for None)."""
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(get_settings().timezone)).strftime(fmt)


def local_date(value: date | None) -> str:
    return value.strftime("%d %b %Y") if value else ""


def thousands(value: int | float | None) -> str:
    """Format 12345 as ``12.345`` (Indonesian grouping)."""
    if value is None:
        return "-"
    return f"{int(value):,}".replace(",", ".")


@pass_context
def csrf_field(context: Any) -> Markup:
    """The hidden CSRF input for a POST form of the current request."""
    token = csrf_token(context["request"])
    return Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, escape(token))


@pass_context
def staff(context: Any) -> Any:
    return current_staff(context["request"])


@pass_context
def can(context: Any, *roles: str) -> bool:
    """True when the signed-in user holds one of ``roles`` (admins hold all)."""
    user = current_staff(context["request"])
    return user is not None and has_role(user, *(Role(r) for r in roles))


templates.env.filters["rupiah"] = rupiah
templates.env.filters["dt"] = local_dt
templates.env.filters["d"] = local_date
templates.env.filters["num"] = thousands
templates.env.globals["csrf_field"] = csrf_field
templates.env.globals["csrf_token"] = pass_context(lambda ctx: csrf_token(ctx["request"]))
templates.env.globals["current_user"] = staff
templates.env.globals["can"] = can
templates.env.globals["flashes"] = pass_context(lambda ctx: pop_flashes(ctx["request"]))
