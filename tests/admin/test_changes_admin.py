"""Changes after registration in the admin: jersey, category with its price, transfer, the freeze
and its admin override, the event's rules; CSRF and roles; every change audited."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from core.db import get_sessionmaker, unit_of_work, utcnow
from core.enums import RegistrationStatus
from core.fulfilment import paid
from core.models import AuditLog, Event, OutboundMessage, Registration, RevokedTicket
from tests import factories as f
from tests.factories import category


def _paid_registration(event_id: int) -> int:
    with unit_of_work() as uow:
        event = uow.session.get(Event, event_id)
        reg = f.make_registration(
            uow.session, event, code="10K", status=RegistrationStatus.PENDING_PAYMENT
        )
        paid.mark_paid(uow.session, registration=reg, actor="t", now=utcnow())
        return reg.id


def _actions(reg_id: int) -> list[str]:
    with get_sessionmaker()() as session:
        rows = session.scalars(
            select(AuditLog.action).where(AuditLog.subject_id == str(reg_id)).order_by(AuditLog.id)
        )
        return list(rows)


def test_detail_page_offers_the_changes_and_they_are_audited(client_for, seeded) -> None:
    reg_id = _paid_registration(seeded.event_id)
    client, token = client_for("verifier", "en")
    base = f"/admin/registrations/{reg_id}"
    page = client.get(base).text
    assert "Changes after registration" in page and f"{base}/changes/transfer" in page
    r = client.post(f"{base}/changes/jersey", data={"jersey_size": "XL", "csrf_token": token})
    assert "Jersey size changed." in r.text
    with get_sessionmaker()() as session:
        five = category(session, session.get(Event, seeded.event_id), "5K").id
    r = client.post(f"{base}/changes/category", data={"category_id": five, "csrf_token": token})
    assert "a refund is owed" in r.text and "Rp100,000" in r.text  # 250k -> 150k
    person = {
        "full_name": "Rina Wulandari",
        "gender": "F",
        "date_of_birth": "1992-03-04",
        "email": "rina@example.test",
        "phone": "081211112222",
        "csrf_token": token,
    }
    r = client.post(f"{base}/changes/transfer", data=person)
    assert "the old QR no longer admits anyone" in r.text
    with get_sessionmaker()() as session:
        reg = session.get(Registration, reg_id)
        assert reg.participant.full_name == "Rina Wulandari" and reg.refund_owed == 100_000
        assert session.scalar(
            select(RevokedTicket.id).where(RevokedTicket.registration_id == reg_id)
        )
        told = session.scalars(
            select(OutboundMessage.text).where(OutboundMessage.registration_id == reg_id)
        ).all()
        assert any("Rina Wulandari" in text for text in told)  # the old holder is told
    actions = _actions(reg_id)
    for action in ("registration.edited", "registration.repriced", "registration.transferred"):
        assert action in actions
    assert "Transferred to another person" in client.get(base).text  # the trail, in words


def test_the_freeze_refuses_staff_and_an_admin_override_is_audited(client_for, seeded) -> None:
    reg_id = _paid_registration(seeded.event_id)
    with unit_of_work() as uow:
        uow.session.get(Event, seeded.event_id).data_frozen = True
    verifier, token = client_for("verifier", "en")
    base = f"/admin/registrations/{reg_id}"
    data = {"jersey_size": "XL", "override": "on", "csrf_token": token}
    r = verifier.post(f"{base}/changes/jersey", data=data)
    assert "Not changed:" in r.text and "frozen" in r.text  # a verifier's override does not count
    admin, admin_token = client_for("admin", "en")
    r = admin.post(f"{base}/changes/jersey", data={**data, "csrf_token": admin_token})
    assert "Jersey size changed." in r.text
    assert "registration.freeze_overridden" in _actions(reg_id)
    # The plain edit and move forms do not get past the freeze; other fields still may change.
    r = admin.post(f"{base}/edit", data={"full_name": "Someone Else", "csrf_token": admin_token})
    assert "Not saved:" in r.text and "frozen" in r.text
    r = admin.post(f"{base}/edit", data={"club": "Lari Pagi", "csrf_token": admin_token})
    assert "Saved (1 field(s) changed)." in r.text or "Tersimpan" in r.text


def test_changes_need_csrf_and_a_verifier(client_for, seeded) -> None:
    reg_id = _paid_registration(seeded.event_id)
    verifier, _ = client_for("verifier")
    url = f"/admin/registrations/{reg_id}/changes/jersey"
    assert verifier.post(url, data={"jersey_size": "XL"}).status_code == 403
    checkin, token = client_for("checkin")
    assert checkin.post(url, data={"jersey_size": "XL", "csrf_token": token}).status_code == 403
    assert "registration.edited" not in _actions(reg_id)


def test_event_rules_for_changes_are_saved_by_admins_only(client_for, seeded) -> None:
    url = f"/admin/events/{seeded.event_id}/changes"
    form = {
        "changes_until": "2026-12-20T23:59",
        "data_frozen": "on",
        "refund_rule": "Tidak ada pengembalian dana.",
        "refund_rule_en": "No refunds.",
    }
    verifier, token = client_for("verifier")
    assert verifier.post(url, data={**form, "csrf_token": token}).status_code == 403
    admin, token = client_for("admin")
    r = admin.post(url, data={**form, "csrf_token": token})
    assert "Aturan perubahan disimpan." in r.text and 'value="2026-12-20T23:59"' in r.text
    with get_sessionmaker()() as session:
        event = session.get(Event, seeded.event_id)
        assert event.data_frozen and event.refund_rule_en == "No refunds."
        assert event.changes_until == datetime(2026, 12, 20, 16, 59, tzinfo=UTC)  # WIB
        assert session.scalar(select(AuditLog.id).where(AuditLog.action == "event.changes_policy"))
