"""Broadcast admin pages: admin only, CSRF, preview escapes runner-facing text, bad input refused."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.db import get_sessionmaker
from core.models import AuditLog, Broadcast

JSON = {"accept": "application/json"}


def _form(seeded: Any, token: str, **extra: str) -> dict[str, str]:
    return {"csrf_token": token, "event_id": str(seeded.event_id), "segment": "all",
            "text": "Hi *all*", **extra}  # fmt: skip


def test_only_admins_reach_broadcasts(client_for: Any, seeded: Any) -> None:
    verifier, token = client_for("verifier")
    assert verifier.get("/admin/broadcasts", follow_redirects=False).status_code in (302, 303, 403)
    r = verifier.post("/admin/broadcasts", data=_form(seeded, token), follow_redirects=False)
    assert r.status_code in (302, 303, 403)
    admin, _token = client_for("admin")
    page = admin.get("/admin/broadcasts")
    assert page.status_code == 200 and 'name="segment"' in page.text


def test_send_needs_the_csrf_token(client_for: Any, seeded: Any, broker: Any) -> None:
    admin, _token = client_for("admin")
    r = admin.post("/admin/broadcasts", data=_form(seeded, "wrong"), follow_redirects=False)
    assert r.status_code == 403
    with get_sessionmaker()() as session:
        assert session.scalars(select(Broadcast)).first() is None


def test_preview_renders_both_channels_escaped(client_for: Any, seeded: Any) -> None:
    admin, token = client_for("admin", lang="en")
    form = _form(seeded, token, text="<script>x</script> *bold* _it_")
    shown = admin.post("/admin/broadcasts/preview", data=form, headers=JSON).json()
    assert shown["chats"] == 0 and "<script>" not in shown["html"]
    assert "<b>bold</b>" in shown["html"] and "STOP" in shown["html"]
    page = admin.post("/admin/broadcasts/preview", data=form)  # no JavaScript: the page again
    assert page.status_code == 200 and "&lt;script&gt;" in page.text


def test_bad_input_is_refused_without_a_crash(client_for: Any, seeded: Any, broker: Any) -> None:
    admin, token = client_for("admin", lang="en")
    for extra in ({"text": "  "}, {"segment": "nope"}, {"segment": "category", "category_id": ""},
                  {"event_id": ""}, {"event_id": "abc"}, {"event_id": "999999"}):  # fmt: skip
        r = admin.post("/admin/broadcasts", data=_form(seeded, token, **extra))
        assert r.status_code == 200 and "Broadcast not sent" in r.text, extra
        bad = admin.post(
            "/admin/broadcasts/preview", data=_form(seeded, token, **extra), headers=JSON
        )
        assert bad.status_code in (200, 400), extra
    assert admin.get("/admin/broadcasts/999999").status_code == 404
    assert admin.get("/admin/broadcasts/999999/progress.json").status_code == 404


def test_a_send_is_audited_and_shows_its_progress(
    client_for: Any, seeded: Any, broker: Any
) -> None:
    admin, token = client_for("admin", lang="en")
    r = admin.post("/admin/broadcasts", data=_form(seeded, token), follow_redirects=False)
    assert r.status_code == 303
    detail = admin.get(r.headers["location"])
    assert detail.status_code == 200 and "Progress" in detail.text
    state = admin.get(r.headers["location"] + "/progress.json").json()
    assert state["status"] == "writing" and state["sent"] == 0
    with get_sessionmaker()() as session:
        entry = session.scalars(select(AuditLog).where(AuditLog.action == "broadcast.sent")).one()
        assert entry.actor == "admin@funrun.local" and entry.data["segment"] == "all"


def test_compose_offers_the_waiting_list_and_an_answer(client_for: Any, seeded: Any) -> None:
    admin, token = client_for("admin", lang="id")
    page = admin.get("/admin/broadcasts")
    assert 'value="waitlist"' in page.text and 'value="answer"' in page.text
    assert "Di daftar tunggu" in page.text and 'name="question_id"' in page.text
    for extra in (
        {"segment": "waitlist"},
        {"segment": "answer", "question_id": "1", "answer": "Ya"},
    ):
        shown = admin.post("/admin/broadcasts/preview", data=_form(seeded, token, **extra),
                           headers=JSON)  # fmt: skip
        assert shown.status_code == 200 and shown.json()["chats"] == 0
    bad = _form(seeded, token, segment="answer", question_id="", answer="")
    refused = admin.post("/admin/broadcasts/preview", data=bad, headers=JSON)
    assert refused.status_code == 400
