"""Accept or reject a minor's parental consent letter (verifiers; from the queue or the detail page)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from admin.auth import actor_name, csrf_protect, require_roles
from admin.i18n import gettext, request_language
from admin.session import flash_redirect
from core.enums import Role
from core.errors import Conflict, NotFound
from core.models import AdminUser
from workers.consent import accept_letter, reject_letter

router = APIRouter(prefix="/admin/consent-letters")
verifier = require_roles(Role.VERIFIER)


def _back(back: str) -> str:
    # Only our own pages: a crafted form must not redirect elsewhere.
    return back if back.startswith("/admin/") and "//" not in back else "/admin/queue"


@router.post("/{letter_id}/accept", dependencies=[Depends(csrf_protect)])
def accept(
    request: Request, letter_id: int, back: str = Form(""), user: AdminUser = Depends(verifier)
) -> Response:
    lang = request_language(request)
    try:
        number = accept_letter(letter_id, actor=actor_name(user))
    except (Conflict, NotFound):
        text = gettext("This letter was already judged or replaced; reload the page.", lang)
        return flash_redirect(request, _back(back), text, "error")
    text = gettext("Consent letter of %(number)s accepted.", lang, number=number)
    return flash_redirect(request, _back(back), text)


@router.post("/{letter_id}/reject", dependencies=[Depends(csrf_protect)])
def reject(
    request: Request,
    letter_id: int,
    note: str = Form(""),
    back: str = Form(""),
    user: AdminUser = Depends(verifier),
) -> Response:
    lang = request_language(request)
    try:
        number = reject_letter(letter_id, actor=actor_name(user), note=note)
    except (Conflict, NotFound):
        text = gettext("This letter was already judged or replaced; reload the page.", lang)
        return flash_redirect(request, _back(back), text, "error")
    text = gettext(
        "Consent letter of %(number)s rejected; the runner was asked for a new one.",
        lang,
        number=number,
    )
    return flash_redirect(request, _back(back), text)
