"""The admin's language switch: Bahasa Indonesia or English, remembered per staff member."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from admin.auth import csrf_protect, current_staff
from admin.i18n import LANG_COOKIE, LANGUAGES
from admin.login import safe_next
from core import audit
from core.db import unit_of_work
from core.models import AdminUser

router = APIRouter(prefix="/admin")
YEAR = 365 * 24 * 3600


@router.post("/language", dependencies=[Depends(csrf_protect)])
def switch_language(request: Request, lang: str = Form(...), next: str = Form("")) -> Response:
    """Set the admin language (the staff member's setting when signed in, a cookie otherwise)."""
    chosen = lang if lang in LANGUAGES else "id"
    user = current_staff(request)
    if user is not None and user.language != chosen:
        with unit_of_work() as uow:
            staff = uow.session.get(AdminUser, user.id)
            if staff is not None:
                before = {"language": staff.language}
                staff.language = chosen
                audit.record(
                    uow.session,
                    actor=staff.email,
                    action="staff.language_changed",
                    subject_type="admin_user",
                    subject_id=str(staff.id),
                    before=before,
                    after={"language": chosen},
                )
    response = RedirectResponse(safe_next(next) if next else "/admin/", status_code=303)
    response.set_cookie(LANG_COOKIE, chosen, max_age=YEAR, httponly=True, samesite="lax")
    return response
