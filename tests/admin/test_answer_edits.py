"""Editing an event question's answer on the registration page: the question's own parser, CSRF,
the category's questions only, audited."""

from __future__ import annotations

from sqlalchemy import select

from core.db import get_sessionmaker, unit_of_work
from core.enums import RegistrationStatus
from core.events import questions
from core.models import AuditLog, Event, Registration
from tests import factories as f


def _setup(event_id: int) -> tuple[int, dict[str, int]]:
    with unit_of_work() as uow:
        session = uow.session

        def add(kind: str, label: str, **fields: object) -> int:
            data = questions.QuestionInput(kind=kind, label=label, **fields)  # type: ignore[arg-type]
            return questions.add(session, event_id=event_id, data=data, actor="t").id

        ids = {
            "choice": add("choice", "Titik jemput?", options_text="Monas\nGBK"),
            "number": add("number", "Berapa kali lari 10K?"),
            "date": add("date", "Tanggal tiba?"),
            "yes_no": add("yes_no", "Maraton pertama?", required=False),
            "other": add("text", "Nama di BIB 21K?", category_codes=("21K",)),
        }
        event = session.get(Event, event_id)
        reg = f.make_registration(session, event, code="10K", status=RegistrationStatus.PAID)
        reg.participant.answers = {f"q{ids['choice']}": "Monas", f"q{ids['date']}": "2026-08-17"}
        return reg.id, ids


def test_an_answer_is_checked_by_its_questions_parser_and_audited(client_for, seeded) -> None:
    reg_id, ids = _setup(seeded.event_id)
    client, token = client_for("verifier", "en")
    base = f"/admin/registrations/{reg_id}"
    page = client.get(base).text
    assert f"{base}/answers/{ids['choice']}" in page and 'value="17-08-2026"' in page
    assert f"answers/{ids['other']}" not in page  # a 21K question: not this 10K runner's

    def post(kind: str, value: str, csrf: str = token) -> str:
        return client.post(
            f"{base}/answers/{ids[kind]}", data={"value": value, "csrf_token": csrf}
        ).text

    assert "Answer saved." in post("choice", "gbk")
    assert "Not saved" in post("number", "often")  # the number parser refuses it
    assert "Answer saved." in post("number", "7")
    assert "Not saved" in post("date", "31-02-2026")
    assert "Answer saved." in post("date", "1 September 2026")
    assert "Answer saved." in post("yes_no", "ya")
    assert "Answer saved." in post("yes_no", "-")  # optional: skipped
    assert client.post(f"{base}/answers/{ids['number']}", data={"value": "9"}).status_code == 403
    with get_sessionmaker()() as session:
        answers = session.get(Registration, reg_id).participant.answers
        assert answers[f"q{ids['choice']}"] == "GBK" and answers[f"q{ids['number']}"] == "7"
        assert answers[f"q{ids['date']}"] == "2026-09-01" and answers[f"q{ids['yes_no']}"] == ""
        edits = session.scalars(
            select(AuditLog).where(
                AuditLog.action == "registration.answer_edited",
                AuditLog.subject_id == str(reg_id),
            )
        ).all()
        assert len(edits) == 5 and edits[0].actor != ""
        assert edits[0].before == {f"q{ids['choice']}": "Monas"}
