"""Custom questions per event: add, edit, reorder and delete (admins; every change audited)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from admin import forms
from admin.auth import actor_name, csrf_protect, require_roles
from admin.i18n import gettext, request_language
from admin.session import flash_redirect
from admin.templating import templates
from core.db import get_sessionmaker, unit_of_work
from core.enums import QuestionKind, Role
from core.errors import ServiceError
from core.events import questions
from core.models import AdminUser, Event

router = APIRouter(prefix="/admin/events")
admin_only = require_roles(Role.ADMIN)
KINDS = {
    QuestionKind.TEXT.value: "Text",
    QuestionKind.NUMBER.value: "Number",
    QuestionKind.CHOICE.value: "Choice",
    QuestionKind.YES_NO.value: "Yes / no",
    QuestionKind.DATE.value: "Date",
}


@router.get("/{event_id}/questions", response_class=HTMLResponse)
def questions_page(request: Request, event_id: int, _user: AdminUser = Depends(admin_only)):
    with get_sessionmaker()() as session:
        event = session.get(Event, event_id)
        if event is None:
            raise HTTPException(status_code=404)
        ctx = {
            "event": event,
            "categories": [c.code for c in event.categories],
            "questions": questions.for_event(session, event_id),
            "options_text": questions.options_text,
            "kinds": KINDS,
        }
        return templates.TemplateResponse(request, "event_questions.html", ctx)


def _data(form: Any) -> questions.QuestionInput:
    return questions.QuestionInput(
        kind=forms.text(form, "kind"),
        label=forms.text(form, "label"),
        label_en=forms.text(form, "label_en"),
        options_text=str(form.get("options") or ""),
        required=forms.checkbox(form, "required"),
        category_codes=tuple(str(c) for c in form.getlist("categories")),
        show_at_checkin=forms.checkbox(form, "show_at_checkin"),
        example=forms.text(form, "example"),
    )


def _back(request: Request, event_id: int, message: str, kind: str = "ok") -> Response:
    return flash_redirect(request, f"/admin/events/{event_id}/questions", message, kind)


@router.post("/{event_id}/questions/{question_id}", dependencies=[Depends(csrf_protect)])
async def save_question(
    request: Request, event_id: int, question_id: int, user: AdminUser = Depends(admin_only)
) -> Response:
    """Add (question_id 0) or change a question."""
    lang = request_language(request)
    form = await request.form()
    try:
        with unit_of_work() as uow:
            _save(uow.session, event_id, question_id, _data(form), actor_name(user))
    except ServiceError as exc:
        return _back(request, event_id, gettext("Not saved: %(why)s", lang, why=str(exc)), "error")
    return _back(request, event_id, gettext("Question saved.", lang))


def _save(session: Any, event_id: int, question_id: int, data: Any, actor: str) -> None:
    if session.get(Event, event_id) is None:
        raise HTTPException(status_code=404)
    if not question_id:
        questions.add(session, event_id=event_id, data=data, actor=actor)
        return
    question = questions.get(session, event_id=event_id, question_id=question_id)
    if question is None:
        raise HTTPException(status_code=404)
    questions.update(session, question=question, data=data, actor=actor)


@router.post("/{event_id}/questions/{question_id}/move", dependencies=[Depends(csrf_protect)])
def move_question(
    request: Request,
    event_id: int,
    question_id: int,
    direction: str = Form(...),
    user: AdminUser = Depends(admin_only),
) -> Response:
    with unit_of_work() as uow:
        question = questions.get(uow.session, event_id=event_id, question_id=question_id)
        if question is None:
            raise HTTPException(status_code=404)
        offset = -1 if direction == "up" else 1
        questions.move(uow.session, question=question, offset=offset, actor=actor_name(user))
    return _back(request, event_id, gettext("Order saved.", request_language(request)))


@router.post("/{event_id}/questions/{question_id}/delete", dependencies=[Depends(csrf_protect)])
def delete_question(
    request: Request, event_id: int, question_id: int, user: AdminUser = Depends(admin_only)
) -> Response:
    with unit_of_work() as uow:
        question = questions.get(uow.session, event_id=event_id, question_id=question_id)
        if question is None:
            raise HTTPException(status_code=404)
        questions.delete(uow.session, question=question, actor=actor_name(user))
    lang = request_language(request)
    return _back(request, event_id, gettext("Question deleted; answers given are kept.", lang))
