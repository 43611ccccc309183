"""The questions page, waiver and minor settings, and the consent letter in the admin (PostgreSQL)."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from core.db import get_sessionmaker, unit_of_work
from core.enums import LetterStatus
from core.events import questions
from core.fulfilment import consent, paid
from core.models import ConsentLetter, Event, EventQuestion
from tests import factories as f
from tests.admin.test_checkin import NOW, page_csrf, scan


def _questions(event_id: int) -> list[EventQuestion]:
    with get_sessionmaker()() as session:
        return questions.for_event(session, event_id)


def test_admin_adds_edits_reorders_and_deletes_questions(client_for, seeded) -> None:
    client, token = client_for("admin")
    base = f"/admin/events/{seeded.event_id}/questions"
    assert "Belum ada pertanyaan tambahan" in client.get(base).text  # Indonesian admin
    client.post(
        f"{base}/0",
        data={"csrf_token": token, "kind": "text", "label": "Komunitas?", "required": "on"},
    )
    r = client.post(
        f"{base}/0",
        data={
            "csrf_token": token, "kind": "choice", "label": "Bus?", "label_en": "Shuttle?",
            "options": "Ya | Yes\nTidak | No", "categories": ["21K"], "show_at_checkin": "on",
        },
    )  # fmt: skip
    assert "Pertanyaan disimpan" in r.text
    bad = client.post(f"{base}/0", data={"csrf_token": token, "kind": "choice", "label": "X"})
    assert "Tidak disimpan" in bad.text and "two options" in bad.text
    club, bus = _questions(seeded.event_id)
    assert bus.options == [{"id": "Ya", "en": "Yes"}, {"id": "Tidak", "en": "No"}]
    assert bus.category_codes == ["21K"] and bus.show_at_checkin and not bus.required
    client.post(f"{base}/{bus.id}/move", data={"csrf_token": token, "direction": "up"})
    assert [q.id for q in _questions(seeded.event_id)] == [bus.id, club.id]
    client.post(
        f"{base}/{club.id}", data={"csrf_token": token, "kind": "number", "label": "Umur klub"}
    )
    client.post(f"{base}/{bus.id}/delete", data={"csrf_token": token})
    [left] = _questions(seeded.event_id)
    assert (left.kind, left.label, left.required) == ("number", "Umur klub", False)
    page = client.get(base).text
    assert "Umur klub" in page and "Tambah pertanyaan" in page
    no_csrf = client.post(f"{base}/0", data={"kind": "text", "label": "X"})
    assert no_csrf.status_code in (400, 403)


def test_event_settings_save_waiver_and_minor_age(client_for, seeded) -> None:
    client, token = client_for("admin")
    page = client.get(f"/admin/events/{seeded.event_id}").text
    assert 'id="waiver_text"' in page and 'id="minor_age"' in page
    form = dict(re.findall(r'<input id="\w+"[^>]* name="(\w+)"[^>]* value="([^"]*)"', page))
    with get_sessionmaker()() as session:
        event = session.get(Event, seeded.event_id)
        assert event is not None
        form |= {"race_date": event.race_date.isoformat(), "name": event.name, "slug": event.slug}
    data = {**form, "csrf_token": token, "waiver_text": "Saya sehat.", "waiver_url": "javascript:x"}
    refused = client.post(f"/admin/events/{seeded.event_id}", data=data)
    assert "https://" in refused.text
    data |= {"waiver_url": "https://example.com/t", "minor_age": "17"}
    client.post(f"/admin/events/{seeded.event_id}", data=data)
    with get_sessionmaker()() as session:
        event = session.get(Event, seeded.event_id)
        assert event is not None
        assert (event.waiver_text, event.waiver_url, event.minor_age) == (
            "Saya sehat.", "https://example.com/t", 17,
        )  # fmt: skip


def _minor_with_letter(event_id: int) -> tuple[int, int, str]:
    with unit_of_work() as uow:
        event = uow.session.get(Event, event_id)
        assert event is not None
        event.minor_age = 17
        bus = questions.add(
            uow.session, event_id=event_id, actor="t",
            data=questions.QuestionInput(kind="yes_no", label="Naik bus?", show_at_checkin=True),
        )  # fmt: skip
        reg = f.make_registration(uow.session, event, code="5K")
        reg.participant.date_of_birth = date(event.race_date.year - 12, 3, 1)
        reg.participant.answers = {
            **reg.participant.answers,
            bus.key: "yes",
            "guardian_name": "Budi",
        }
        reg.waiver_accepted_at = NOW
        path = consent.store_photo(f.inbound(f.encode(f.screenshot())))
        letter = consent._add(uow.session, reg, path, NOW)
        paid.mark_paid(uow.session, registration=reg, actor="t", now=NOW)
        assert reg.ticket_token is None  # no accepted letter yet
        return reg.id, letter.id, reg.number


def test_verifier_sees_and_accepts_the_letter_then_the_ticket_exists(client_for, seeded) -> None:
    reg_id, letter_id, number = _minor_with_letter(seeded.event_id)
    client, token = client_for("verifier")
    page = client.get(f"/admin/registrations/{reg_id}").text
    assert "Naik bus?" in page and "Ya" in page and 'id="waiver-accepted"' in page
    assert f"/admin/media/consent-letters/{letter_id}" in page and "Budi" in page
    photo = client.get(f"/admin/media/consent-letters/{letter_id}")
    assert photo.status_code == 200 and photo.headers["cache-control"] == "private, no-store"
    anonymous = client_for("checkin")[0].get(f"/admin/media/consent-letters/{letter_id}")
    assert anonymous.status_code in (401, 403)
    r = client.post(
        f"/admin/consent-letters/{letter_id}/accept",
        data={"csrf_token": token, "back": f"/admin/registrations/{reg_id}"},
    )
    assert number in r.text
    with get_sessionmaker()() as session:
        letter = session.get(ConsentLetter, letter_id)
        assert letter is not None and letter.status == LetterStatus.ACCEPTED.value
        assert letter.registration_id == reg_id
    again = client.post(f"/admin/consent-letters/{letter_id}/reject", data={"csrf_token": token})
    assert "sudah diputuskan" in again.text


def test_export_and_checkin_show_the_answers(client_for, seeded) -> None:
    reg_id, letter_id, number = _minor_with_letter(seeded.event_id)
    verifier, token = client_for("verifier")
    verifier.post(f"/admin/consent-letters/{letter_id}/accept", data={"csrf_token": token})
    admin, _ = client_for("admin")
    csv = admin.get(f"/admin/exports/participants.csv?event_id={seeded.event_id}").text
    header, *rows = csv.splitlines()
    assert "Naik bus?" in header and any(number in r and "Ya" in r for r in rows)
    desk, _ = client_for("checkin")
    csrf = page_csrf(desk, "/checkin")
    with get_sessionmaker()() as session:
        code = session.scalar(
            select(ConsentLetter.registration_id).where(ConsentLetter.id == letter_id)
        )
        assert code == reg_id
    result = scan(desk, csrf, number, "nonce-q-001", event_id=str(seeded.event_id)).json()
    assert result["outcome"] == "ok" and result["answers"] == [["Naik bus?", "Ya"]]


def test_checkin_refuses_a_minor_without_an_accepted_letter(client_for, seeded) -> None:
    _reg_id, _letter_id, number = _minor_with_letter(seeded.event_id)
    desk, _ = client_for("checkin")
    csrf = page_csrf(desk, "/checkin")
    result = scan(desk, csrf, number, "nonce-q-002", event_id=str(seeded.event_id)).json()
    assert result["outcome"] == "consent_missing" and "SURAT IZIN" in result["message"]
