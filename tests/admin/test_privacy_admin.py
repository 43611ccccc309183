"""Personal-data lifecycle on PostgreSQL: deletion requests honoured/declined in the admin, the
daily retention purge (workers.privacy), per-event retention and notice settings."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from core.config import get_settings
from core.db import get_sessionmaker, unit_of_work, utcnow
from core.enums import RegistrationStatus
from core.models import (
    AuditLog,
    CheckIn,
    Conversation,
    DeletionRequest,
    Event,
    EventPrivacy,
    OutboundMessage,
    Participant,
    PaymentImage,
    Registration,
)
from core.privacy import requests, retention
from tests import factories as f
from workers import privacy as privacy_jobs

NIK = "3174015208900003"


def _runner(event_id: int, *, chat_id: str, letter: bool = False) -> tuple[int, str]:
    """A paid registration from ``chat_id`` with NIK, notes, a photo (and a letter); ids + path."""
    with unit_of_work() as uow:
        event = uow.session.get(Event, event_id)
        assert event is not None
        reg = f.make_registration(uow.session, event, status=RegistrationStatus.PAID,
                                  chat_id=chat_id)  # fmt: skip
        person = reg.participant
        person.nik, person.medical_notes = NIK, "asma"
        person.answers = {**person.answers, "nik": NIK, "medical_notes": "asma"}
        payment = f.make_payment(uow.session, reg)
        if letter:
            relative = f"checkin-letters/{f.suffix(8)}.jpg"
            target = Path(get_settings().media_dir) / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(f.png_bytes())
            uow.session.add(CheckIn(registration_id=reg.id, event_id=event.id, desk="A",
                                    representative_name="Kakak", authorisation_letter_path=relative))  # fmt: skip
        return reg.id, str(payment.image_path)


def _file(relative: str) -> Path:
    return Path(get_settings().media_dir) / relative


def _request(chat_id: str) -> int:
    with unit_of_work() as uow:
        conversation = Conversation(channel="telegram", chat_id=chat_id, language="en",
                                    sender_name="Siti", phone="+6281234")  # fmt: skip
        uow.session.add(conversation)
        uow.session.flush()
        request, created = requests.open_request(uow.session, conversation)
        assert created
        return request.id


def test_admin_honours_a_deletion_request(client_for, seeded, broker) -> None:  # noqa: ANN001
    chat = f.random_chat_id()
    reg_id, photo = _runner(seeded.event_id, chat_id=chat, letter=True)
    other_id, other_photo = _runner(seeded.event_id, chat_id=f.random_chat_id())
    request_id = _request(chat)
    client, token = client_for("admin")
    page = client.get("/admin/privacy")
    assert page.status_code == 200 and f'id="request-{request_id}"' in page.text
    r = client.post(f"/admin/privacy/requests/{request_id}/honour", data={"csrf_token": token},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    with get_sessionmaker()() as session:
        reg = session.get(Registration, reg_id)
        assert reg is not None and reg.participant.full_name == "[deleted]"
        assert reg.participant.nik is None and reg.participant.email is None
        assert reg.participant.answers == {} and reg.ticket_token is None
        assert reg.number and reg.amount_due and reg.status == "paid", "the books keep these"
        assert session.scalar(select(PaymentImage.path).join(PaymentImage.payment)
                              .where(PaymentImage.payment.has(registration_id=reg_id))) == ""  # fmt: skip
        checkin = session.scalars(select(CheckIn).where(CheckIn.registration_id == reg_id)).one()
        assert checkin.authorisation_letter_path is None and checkin.representative_name is None
        other = session.get(Registration, other_id)
        assert other is not None and other.participant.nik == NIK, "another runner untouched"
        notice = session.scalars(
            select(OutboundMessage).where(OutboundMessage.recipient == chat)
        ).one()
        assert "has been deleted" in notice.text, "told in their chat, in English"
        assert session.get(DeletionRequest, request_id).status == "honoured"  # type: ignore[union-attr]
        actions = set(session.scalars(select(AuditLog.action)))
    assert not _file(photo).exists() and _file(other_photo).exists()
    assert {"privacy.deletion_requested", "privacy.deletion_honoured"} <= actions
    again = client.post(f"/admin/privacy/requests/{request_id}/honour", data={"csrf_token": token})
    assert again.status_code == 200  # flashed "already decided" on the page it redirected to


def test_admin_declines_a_deletion_request(client_for, seeded, broker) -> None:  # noqa: ANN001
    chat = f.random_chat_id()
    reg_id, photo = _runner(seeded.event_id, chat_id=chat)
    request_id = _request(chat)
    client, token = client_for("admin")
    client.post(f"/admin/privacy/requests/{request_id}/decline", data={"csrf_token": token})
    with get_sessionmaker()() as session:
        assert session.get(DeletionRequest, request_id).status == "declined"  # type: ignore[union-attr]
        assert session.get(Registration, reg_id).participant.nik == NIK  # type: ignore[union-attr]
        assert session.scalar(select(func.count()).select_from(OutboundMessage)
                              .where(OutboundMessage.recipient == chat)) == 1  # fmt: skip
    assert _file(photo).exists()


def test_verifiers_cannot_open_the_privacy_page(client_for) -> None:  # noqa: ANN001
    client, _token = client_for("verifier")
    assert client.get("/admin/privacy", follow_redirects=False).status_code == 403


def test_retention_settings_and_notice_are_saved_and_audited(client_for, seeded) -> None:  # noqa: ANN001
    client, token = client_for("admin")
    data = {"retention_days": "30", "notice": "Diolah PT Lari.", "notice_en": "By PT Lari.",
            "csrf_token": token}  # fmt: skip
    client.post(f"/admin/privacy/events/{seeded.event_id}", data=data)
    bad = {**data, "retention_days": "99999"}
    client.post(f"/admin/privacy/events/{seeded.event_id}", data=bad)
    with get_sessionmaker()() as session:
        row = session.get(EventPrivacy, seeded.event_id)
        assert row is not None and row.retention_days == 30 and row.notice_en == "By PT Lari."
        actions = set(session.scalars(select(AuditLog.action)))
    assert {"privacy.retention_changed", "privacy.notice_changed"} <= actions


def _race_day(event_id: int, day: date) -> None:
    with unit_of_work() as uow:
        event = uow.session.get(Event, event_id)
        assert event is not None
        event.race_date = day


def test_retention_job_blanks_sensitive_data_after_race_day_once(seeded) -> None:  # noqa: ANN001
    reg_id, photo = _runner(seeded.event_id, chat_id=f.random_chat_id(), letter=True)
    today = utcnow().astimezone(ZoneInfo(get_settings().timezone)).date()  # the event's day
    _race_day(seeded.event_id, today - timedelta(days=89))
    assert privacy_jobs.retention_once().events == 0, "day 89 of 90: not yet"
    assert _file(photo).exists()
    _race_day(seeded.event_id, today - timedelta(days=91))
    run = privacy_jobs.retention_once()
    assert (run.events, run.photos, run.letters, run.participants) == (1, 2, 1, 1)
    with get_sessionmaker()() as session:
        reg = session.get(Registration, reg_id)
        assert (
            reg is not None
            and reg.participant.nik is None
            and reg.participant.medical_notes is None
        )
        assert "nik" not in reg.participant.answers and reg.participant.full_name, "the row stays"
        assert session.scalar(select(func.count()).select_from(Participant)) >= 1
        [audit_row] = session.scalars(
            select(AuditLog).where(AuditLog.action == "privacy.retention_purged")
        )
        assert audit_row.data == {"photos": 2, "letters": 1, "participants": 1}
    assert not _file(photo).exists()
    assert privacy_jobs.retention_once().events == 0, "purged once"


def test_retention_follows_the_events_setting(seeded) -> None:  # noqa: ANN001
    _runner(seeded.event_id, chat_id=f.random_chat_id())
    with unit_of_work() as uow:
        retention.set_retention(uow.session, event_id=seeded.event_id, days=7, actor="test")
    _race_day(seeded.event_id, utcnow().date() - timedelta(days=9))
    assert privacy_jobs.retention_once().events == 1


def test_the_retention_job_is_scheduled_daily_on_the_low_queue() -> None:
    from workers.jobs import PERIODIC

    actor, interval = PERIODIC["retention"]
    assert interval == 24 * 3600 and actor.queue_name == "low"
