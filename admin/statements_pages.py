"""Bank statement upload and matching: exact matches in one click, the rest matched by hand."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from admin.auth import actor_name, csrf_protect, require_roles
from admin.i18n import _, gettext, request_language, status_label
from admin.session import flash_redirect
from admin.templating import templates
from core.db import get_sessionmaker, unit_of_work
from core.enums import RegistrationStatus, Role
from core.errors import Conflict, NotFound, ServiceError
from core.i18n import staff_message
from core.models import AdminUser, AuditLog, Event, PaymentAccount, Registration
from core.payments.statements import approval, bank_csv, credits
from workers import statements as bulk
from workers.verification import approve_statement_line

router = APIRouter(prefix="/admin/statements")
admin_only = require_roles(Role.ADMIN)
MAX_UPLOAD = 10 * 1024 * 1024


# The column-mapping form: a field per mapping key (a header name, ``#N`` for the N-th column,
# alternatives separated by ``|``). "amount" (+ direction, credit markers) or "credit" (+ debit).
MAPPING_FIELDS = (
    "date",
    "description",
    "reference",
    "amount",
    "direction",
    "credit_markers",
    "credit",
    "debit",
    "balance",
)
DELIMITERS = {"comma": ",", "semicolon": ";", "tab": "\t", "pipe": "|"}


@router.get("", response_class=HTMLResponse)
def statements_page(
    request: Request,
    event_id: int | None = None,
    account_id: int | None = None,
    _user: AdminUser = Depends(admin_only),
) -> Response:
    lang = request_language(request)
    with get_sessionmaker()() as session:
        events = session.scalars(select(Event).order_by(Event.race_date.desc())).all()
        event_id = event_id or (events[0].id if events else None)
        accounts = session.scalars(
            select(PaymentAccount)
            .where(PaymentAccount.active.is_(True))
            .order_by(PaymentAccount.id)
        ).all()
        chosen = next(
            (a for a in accounts if a.id == account_id), accounts[0] if accounts else None
        )
        ctx = {
            "events": events,
            "event_id": event_id,
            "accounts": accounts,
            "presets": sorted(bank_csv.PRESETS),
            "mapping_names": {a.id: _mapping_name(a, lang) for a in accounts},
            "preset_labels": {p: _preset_label(p, lang) for p in bank_csv.PRESETS},
            "current_preset": _current_preset(chosen),
            "mapping_account": chosen,
            "mapping": _form_values(credits.mapping_for(chosen)) if chosen else {},
            "mapping_fields": MAPPING_FIELDS,
            "delimiters": DELIMITERS,
            "report": credits.match(session, event_id=event_id) if event_id else None,
            "last_bulk": _last_bulk(session, event_id),
        }
        return templates.TemplateResponse(request, "statements.html", ctx)


def _last_bulk(session: Any, event_id: int | None) -> AuditLog | None:
    """The latest "approve all exact matches" outcome for the event (written by the worker)."""
    if event_id is None:
        return None
    return session.scalar(
        select(AuditLog)
        .where(AuditLog.action == bulk.BULK_ACTION, AuditLog.subject_id == str(event_id))
        .order_by(AuditLog.id.desc())
        .limit(1)
    )


def _preset_label(preset: str, lang: str) -> str:
    """``BCA``, ``Mandiri`` ... as the bank writes its name; ``Any bank (generic)`` for generic."""
    if preset == "generic":
        return gettext("Any bank (generic)", lang)
    return preset.upper() if len(preset) <= 4 else preset.capitalize()


def _current_preset(account: PaymentAccount | None) -> str:
    """The preset the account's exports are read with; '' for columns typed by hand."""
    if account is None:
        return ""
    remembered = account.statement_mapping or {}
    if remembered:
        return str(remembered.get("preset") or "")
    return bank_csv.preset_name(account.bank_name)


def _mapping_name(account: PaymentAccount, lang: str) -> str:
    """How the account's columns are read: its remembered preset, custom, or the bank's preset."""
    preset = _current_preset(account)
    if not preset:
        return gettext("custom columns", lang)
    label = _preset_label(preset, lang)
    if account.statement_mapping:
        return gettext("preset %(name)s", lang, name=label)
    return gettext("preset %(name)s (the bank's default)", lang, name=label)


def _form_values(mapping: dict[str, Any]) -> dict[str, str]:
    """Mapping values as form text: lists of alternatives joined by ``|``."""
    values = {}
    for key in (*MAPPING_FIELDS, "delimiter"):
        value = mapping.get(key)
        values[key] = " | ".join(value) if isinstance(value, list) else str(value or "")
    names = {char: name for name, char in DELIMITERS.items()}
    values["delimiter"] = names.get(str(mapping.get("delimiter") or ""), "")
    return values


def _back(
    request: Request, event_id: int, message: str, kind: str = "ok", **values: object
) -> Response:
    url = f"/admin/statements?event_id={event_id}"
    return flash_redirect(request, url, message, kind, **values)


@router.post("/upload", dependencies=[Depends(csrf_protect)])
async def upload(
    request: Request,
    file: UploadFile,
    event_id: int = Form(...),
    account_id: int = Form(...),
    preset: str = Form(""),
    user: AdminUser = Depends(admin_only),
) -> Response:
    """Parse the bank export, store its credits (never twice), and show the matches."""
    content = await file.read(MAX_UPLOAD + 1)
    if len(content) > MAX_UPLOAD:
        return _back(request, event_id, _("The file is larger than 10 MB."), "error")
    try:
        text = _import(
            user, content, event_id=event_id, account_id=account_id, preset=preset,
            lang=request_language(request),
        )  # fmt: skip
    except (bank_csv.StatementFormatError, ServiceError) as exc:
        why = exc
        return _back(
            request, event_id, _("Could not read the statement: %(why)s"), "error", why=why
        )
    return _back(request, event_id, text)


def _import(
    user: AdminUser, content: bytes, *, event_id: int, account_id: int, preset: str, lang: str
) -> str:
    """Parse with the chosen preset (remembered) or the account's mapping; store new credits."""
    with unit_of_work() as uow:
        account = uow.session.get(PaymentAccount, account_id)
        if account is None:
            raise Conflict("choose an account", key="admin.no_account")
        chosen = preset in bank_csv.PRESETS
        mapping = (
            {**bank_csv.PRESETS[preset], "preset": preset}
            if chosen
            else credits.mapping_for(account)
        )
        preview = credits.parse_preview(content, mapping)
        if chosen:
            credits.save_mapping(
                uow.session, account_id=account.id, mapping=mapping, actor=actor_name(user)
            )
        new, known = credits.import_lines(
            uow.session,
            account_id=account.id,
            event_id=event_id,
            lines=preview.lines,
            actor=actor_name(user),
        )
    return gettext(
        "Imported %(new)s credits (%(known)s known, %(debits)s debits, %(skipped)s rows skipped).",
        lang,
        new=new,
        known=known,
        debits=preview.debits,
        skipped=len(preview.skipped),
    )


@router.post("/mapping", dependencies=[Depends(csrf_protect)])
async def save_mapping(
    request: Request,
    event_id: int = Form(...),
    account_id: int = Form(...),
    preset: str = Form(""),
    user: AdminUser = Depends(admin_only),
) -> Response:
    """Remember how this account's exports are read: a preset, or columns picked by hand."""
    form = await request.form()
    if preset in bank_csv.PRESETS:
        mapping: dict[str, Any] = {**bank_csv.PRESETS[preset], "preset": preset}
    else:
        mapping = _mapping_from_form({k: str(form.get(k) or "") for k in MAPPING_FIELDS})
        delimiter = DELIMITERS.get(str(form.get("delimiter") or ""))
        if delimiter:
            mapping["delimiter"] = delimiter
    back = f"/admin/statements?event_id={event_id}&account_id={account_id}"
    try:
        with unit_of_work() as uow:
            credits.save_mapping(
                uow.session, account_id=account_id, mapping=mapping, actor=actor_name(user)
            )
    except bank_csv.StatementFormatError as exc:
        return flash_redirect(request, back, _("Columns not saved: %(why)s."), "error", why=exc)
    except NotFound:
        return flash_redirect(request, back, _("Choose an account."), "error")
    return flash_redirect(
        request, back, _("Columns saved; the next upload for this account uses them.")
    )


def _mapping_from_form(values: dict[str, str]) -> dict[str, Any]:
    """Turn the form's text fields into a mapping: ``a | b`` lists alternatives."""
    mapping: dict[str, Any] = {}
    for key, raw in values.items():
        names = [part.strip() for part in raw.split("|") if part.strip()]
        if names:
            mapping[key] = names if len(names) > 1 or key == "credit_markers" else names[0]
    if "amount" in mapping and "credit" in mapping:
        mapping.pop("amount")  # separate credit/debit columns win over a signed amount column
    return mapping


@router.post("/lines/{line_id}/approve", dependencies=[Depends(csrf_protect)])
def approve_line(
    request: Request,
    line_id: int,
    event_id: int = Form(...),
    registration: str = Form(""),
    user: AdminUser = Depends(admin_only),
) -> Response:
    """Approve the exact match, or the registration picked by id or typed by number."""
    lang = request_language(request)
    try:
        registration_id = _registration_id(registration.strip())
        was_paid = _is_paid(registration_id)
        status = approve_statement_line(user.id, line_id, registration_id)
    except ServiceError as exc:
        return _back(request, event_id, _("Not approved: %(why)s"), "error", why=staff_message(exc))
    if was_paid:  # approved from its photo before: the credit is recorded, nothing became paid
        text = gettext(
            "Credit recorded; this registration was already paid (photo approved).", lang
        )
        return _back(request, event_id, text)
    text = gettext(
        "Line approved; registration is now %(status)s.", lang, status=status_label(status, lang)
    )
    return _back(request, event_id, text)


def _is_paid(registration_id: int | None) -> bool:
    if registration_id is None:
        return False
    with get_sessionmaker()() as session:
        found = session.get(Registration, registration_id)
        return found is not None and found.status == RegistrationStatus.PAID.value


def _registration_id(value: str) -> int | None:
    if not value:
        return None
    if value.isdecimal():
        return int(value)
    with get_sessionmaker()() as session:
        found = session.scalar(select(Registration.id).where(Registration.number == value.upper()))
    if found is None:
        raise Conflict(f"no registration numbered {value}", key="admin.no_such_registration")
    return found


@router.post("/approve-exact", dependencies=[Depends(csrf_protect)])
def approve_exact(
    request: Request, event_id: int = Form(...), user: AdminUser = Depends(admin_only)
) -> Response:
    """Approve every exact match in the background (queue `high`), one transaction per line."""
    count = bulk.approve_all_exact(event_id, staff_id=user.id)
    if not count:
        return _back(request, event_id, _("No exact matches to approve."))
    return _back(
        request,
        event_id,
        _("Approving %(n)s exact matches in the background; reload the page in a moment."),
        n=count,
    )


@router.post("/lines/{line_id}/discard", dependencies=[Depends(csrf_protect)])
def discard_line(
    request: Request, line_id: int, event_id: int = Form(...), user: AdminUser = Depends(admin_only)
) -> Response:
    try:
        with unit_of_work() as uow:
            approval.discard_line(uow.session, line_id=line_id, actor=actor_name(user))
    except ServiceError as exc:
        return _back(
            request, event_id, _("Not discarded: %(why)s"), "error", why=staff_message(exc)
        )
    return _back(request, event_id, _("Line discarded."))
