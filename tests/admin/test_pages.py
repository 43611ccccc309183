"""Every admin page renders; settings, events, exports, audit, operations and /metrics work."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from core.db import get_sessionmaker, unit_of_work
from core.enums import RegistrationStatus
from core.models import AuditLog, Category, Event
from core.staff import accounts
from tests import factories as f


def seed_some(event_id: int) -> int:
    with unit_of_work() as uow:
        event = uow.session.get(Event, event_id)
        reg = f.make_registration(uow.session, event, full_name="=HYPERLINK(1)")
        f.make_payment(uow.session, reg)
        paid = f.make_registration(uow.session, event, status=RegistrationStatus.PAID, code="10K")
        paid.bib = "10001"
        return reg.id


def audit_actions() -> list[str]:
    with get_sessionmaker()() as session:
        return list(session.scalars(select(AuditLog.action)))


@pytest.mark.parametrize(
    "path",
    [
        "/admin/",
        "/admin/queue",
        "/admin/registrations?q=runner&status=paid",
        "/admin/events",
        "/admin/events/0",
        "/admin/settings",
        "/admin/operations",
        "/admin/audit?action=staff",
        "/admin/statements",
        "/admin/account",
    ],
)
def test_admin_pages_render(client_for, seeded, path: str) -> None:
    seed_some(seeded.event_id)
    client, _ = client_for("admin", lang="en")
    r = client.get(path)
    assert r.status_code == 200, r.text[:500]
    title = re.search(r"<title>(.*?)</title>", r.text, re.S)
    assert title and "<" not in title.group(1), "markup inside <title>: a block left open"
    assert "<svg" in client.get("/admin/").text


def test_event_page_and_category_form(client_for, seeded) -> None:
    client, token = client_for("admin", lang="en")
    assert client.get(f"/admin/events/{seeded.event_id}").status_code == 200
    data = {
        "code": "3k", "name": "Kids", "distance_km": "3", "price": "50.000", "quota": "100",
        "bib_start": "1", "bib_end": "500", "bib_prefix": "K", "reg_prefix": "JFR-3K", "csrf_token": token,
    }  # fmt: skip
    r = client.post(f"/admin/events/{seeded.event_id}/categories/0", data=data)
    assert "Category saved." in r.text
    with get_sessionmaker()() as session:
        cat = session.scalars(select(Category).where(Category.code == "3K")).one()
        assert cat.price == 50_000
    r = client.post(
        f"/admin/events/{seeded.event_id}/status", data={"status": "closed", "csrf_token": token}
    )
    assert "Registration is now Closed." in r.text
    assert {"category.created", "event.closed"} <= set(audit_actions())


def test_category_form_refuses_a_category_of_another_event(client_for, seeded) -> None:
    client, token = client_for("admin", lang="en")
    with unit_of_work() as uow:
        other = Event(slug="other-run", name="Other Run", race_date=date(2030, 5, 1))
        uow.session.add(other)
        uow.session.flush()
        other_id = other.id
        theirs = uow.session.scalars(
            select(Category).where(Category.event_id == seeded.event_id)
        ).first()
        theirs_id, name = theirs.id, theirs.name
    data = {
        "code": "10K", "name": "Hijacked", "distance_km": "10", "price": "1", "quota": "1",
        "bib_start": "1", "bib_end": "2", "reg_prefix": "X", "csrf_token": token,
    }  # fmt: skip
    r = client.post(f"/admin/events/{other_id}/categories/{theirs_id}", data=data)
    assert r.status_code == 404
    r = client.post(f"/admin/events/{seeded.event_id}/categories/999999", data=data)
    assert r.status_code == 404
    with get_sessionmaker()() as session:
        assert session.get(Category, theirs_id).name == name
        assert "category.updated" not in audit_actions()


def test_settings_changes_are_audited(client_for, seeded) -> None:
    client, token = client_for("admin", lang="en")
    r = client.post(
        f"/admin/settings/payment/{seeded.event_id}",
        data={"unique_code_mode": "subtract", "payment_deadline_hours": "12", "csrf_token": token},
    )
    assert "Payment rules saved." in r.text
    r = client.post(
        f"/admin/settings/checkin-pin/{seeded.event_id}",
        data={"pin": "135790", "csrf_token": token},
    )
    assert "stored hashed" in r.text
    upload = {"qris": ("q.png", f.png_bytes(), "image/png")}
    r = client.post(
        "/admin/settings/accounts/0",
        data={"bank_name": "QRIS Toko", "kind": "qris", "active": "on", "csrf_token": token},
        files=upload,
    )
    assert "Account saved." in r.text
    with get_sessionmaker()() as session:
        event = session.get(Event, seeded.event_id)
        assert event.unique_code_mode == "subtract" and event.payment_deadline_hours == 12
        assert accounts.verify_password(event.checkin_pin_hash, "135790")
    assert {"settings.payment", "settings.checkin_pin", "settings.qris"} <= set(audit_actions())


def test_participants_export_csv_has_answers_and_is_safe(client_for, seeded) -> None:
    seed_some(seeded.event_id)
    client, _ = client_for("admin")
    r = client.get(
        f"/admin/exports/participants.csv?event_id={seeded.event_id}&status=awaiting_verification"
    )
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    # Readable headers in the admin's language (Indonesian by default), each field once.
    assert rows[0][:3] == ["Nomor pendaftaran", "Status", "Acara"]
    assert len(set(rows[0])) == len(rows[0]) and "Nama lengkap" in rows[0]
    assert len(rows) == 2 and rows[1][rows[0].index("Nama lengkap")] == "'=HYPERLINK(1)"
    assert "export.participants" in audit_actions()


def test_financial_export_xlsx(client_for, seeded) -> None:
    seed_some(seeded.event_id)
    client, token = client_for("admin", lang="en")
    r = client.get(f"/admin/exports/financial.xlsx?event_id={seeded.event_id}")
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.content)).active
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    assert header[:3] == ["Registration number", "Full name", "Category"]
    assert "Unique code" in header and sheet.max_row == 3
    status = [c.value for c in next(sheet.iter_rows(min_row=2, max_row=2))][header.index("Status")]
    assert status == "Waiting for verification", "statuses in words"
    client.post("/admin/language", data={"lang": "id", "csrf_token": token})
    csv_text = client.get(f"/admin/exports/financial.csv?event_id={seeded.event_id}").text
    assert csv_text.lstrip("\ufeff").startswith("Nomor pendaftaran,Nama lengkap,Kategori,Status")


def test_verifier_cannot_export(client_for) -> None:
    client, _ = client_for("verifier", lang="en")
    assert client.get("/admin/exports/financial.csv").status_code == 403


def test_metrics_endpoint(client_for, seeded) -> None:
    seed_some(seeded.event_id)
    client, _ = client_for("admin", lang="en")
    client.post("/webhooks/telegram", json={})
    body = client.get("/metrics").text
    assert 'funrun_registrations{status="paid"} 1.0' in body
    assert "funrun_queue_depth" in body and "funrun_payments_waiting 1.0" in body
    assert 'funrun_webhook_requests_total{channel="telegram"' in body
