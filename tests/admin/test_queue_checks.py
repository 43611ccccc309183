"""OCR checks in the queue over HTTP: the checks fragment, corrections, approve all green, settings."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from core.db import get_sessionmaker, unit_of_work, utcnow
from core.models import (
    AuditLog,
    Event,
    Payment,
    PaymentAccount,
    PaymentImage,
    ScreenshotCorrection,
    ScreenshotReading,
)
from core.payments.screenshot_reading import service
from core.payments.screenshot_reading.extract import Reading
from tests import factories as f

XHR = {"accept": "application/json", "x-requested-with": "XMLHttpRequest"}
ACCOUNT = "7771234567"


def waiting_with_reading(event_id: int, *, off_by: int = 0, status: str = service.READ) -> int:
    """A waiting payment whose screenshot reads its amount (plus ``off_by``) into our account."""
    with unit_of_work() as uow:
        session = uow.session
        event = session.get(Event, event_id)
        if not session.scalar(
            select(PaymentAccount.id).where(PaymentAccount.account_number == ACCOUNT)
        ):
            session.add(PaymentAccount(event_id=event.id, bank_name="BCA", account_number=ACCOUNT,
                                       holder_name="FUNRUN"))  # fmt: skip
        event.registration_opens_at = utcnow() - timedelta(days=2)
        event.registration_closes_at = utcnow() + timedelta(days=2)
        registration = f.make_registration(session, event)
        registration.created_at = utcnow() - timedelta(hours=1)
        payment = f.make_payment(session, registration)
        image = session.scalars(
            select(PaymentImage).where(PaymentImage.payment_id == payment.id)
        ).one()
        image.width, image.height = 720, 1480
        local = utcnow().astimezone(ZoneInfo(event.timezone)).replace(tzinfo=None) - timedelta(
            minutes=5
        )
        reading = Reading(amount=registration.amount_due + off_by, when=local, account=ACCOUNT,
                          holder="FUNRUN", status="Berhasil", reference=f"REF{payment.id:09d}",
                          bank="BCA", boxes={"amount": (100, 300, 600, 360)})  # fmt: skip
        service.record(session, image_id=image.id, reading=reading, status=status,
                       engine="tesseract", elapsed_ms=1234, error="boom" if status != "read" else None)  # fmt: skip
        return payment.id


def test_checks_fragment_shows_green_and_difference(client_for, seeded) -> None:
    green = waiting_with_reading(seeded.event_id)
    short = waiting_with_reading(seeded.event_id, off_by=-50_000)
    client, _ = client_for("verifier", lang="en")
    html = client.get(f"/admin/queue/checks/{green}").text
    assert "All checks green" in html and '"boxes"' in html and '"width": 720' in html
    html = client.get(f"/admin/queue/checks/{short}").text
    assert "Needs a look" in html and "short by Rp50.000" in html
    assert 'id="ocr-checks"' in client.get(f"/admin/queue?payment={green}").text


def test_unread_payment_shows_no_checks(client_for, seeded) -> None:
    failed = waiting_with_reading(seeded.event_id, status=service.FAILED)
    client, _ = client_for("verifier", lang="en")
    assert "No screenshot reading" in client.get(f"/admin/queue/checks/{failed}").text


def test_checked_list_puts_green_first_and_batch_approves_only_green(
    client_for, seeded, broker
) -> None:
    short = waiting_with_reading(seeded.event_id, off_by=-1)
    green = [waiting_with_reading(seeded.event_id) for _ in range(2)]
    client, token = client_for("verifier", lang="en")
    html = client.get("/admin/queue/checked").text
    assert html.index(f'data-payment-id="{green[0]}"') < html.index(f'data-payment-id="{short}"')
    assert f'data-ids="{green[0]},{green[1]}"' in html
    headers = {**XHR, "x-csrf-token": token}
    ids = ",".join(str(i) for i in [*green, short])
    refused = client.post("/admin/queue/approve-green", data={"ids": ids}, headers=headers)
    assert refused.status_code == 400
    body = client.post("/admin/queue/approve-green", data={"ids": ids, "confirm": "yes"},
                       headers=headers).json()  # fmt: skip
    assert body["approved"] == green and body["skipped"] == [short]
    with get_sessionmaker()() as session:
        assert session.get(Payment, short).status == "submitted"
        assert {session.get(Payment, i).registration.status for i in green} == {"paid"}
        rows = session.scalars(
            select(AuditLog).where(AuditLog.action == "payment.batch_approved")
        ).all()
        assert sorted(int(r.subject_id) for r in rows) == green
        assert {r.data["batch"] for r in rows} == {body["batch"]}
    again = client.post("/admin/queue/approve-green", data={"ids": ids, "confirm": "yes"},
                        headers=headers).json()  # fmt: skip
    assert again["approved"] == []  # a double click approves nothing twice


def test_batch_needs_csrf(client_for, seeded) -> None:
    green = waiting_with_reading(seeded.event_id)
    client, _ = client_for("verifier", lang="en")
    r = client.post(
        "/admin/queue/approve-green", data={"ids": str(green), "confirm": "yes"}, headers=XHR
    )
    assert r.status_code == 403


def test_correction_is_stored_and_counted(client_for, seeded) -> None:
    payment_id = waiting_with_reading(seeded.event_id, off_by=7)
    with get_sessionmaker()() as session:
        reading = session.scalars(
            select(ScreenshotReading).where(ScreenshotReading.payment_id == payment_id)
        ).one()
        due = session.get(Payment, payment_id).registration.amount_due
    client, token = client_for("verifier", lang="en")
    headers = {**XHR, "x-csrf-token": token}
    url = f"/admin/queue/readings/{reading.id}/correct"
    assert (
        client.post(url, data={"field": "amount", "value": "twelve"}, headers=headers).status_code
        == 400
    )
    r = client.post(
        url, data={"field": "amount", "value": f"Rp{due:,}".replace(",", ".")}, headers=headers
    )
    assert r.json()["ok"] is True
    assert "All checks green" in client.get(f"/admin/queue/checks/{payment_id}").text
    with get_sessionmaker()() as session:
        assert session.scalar(select(func.count()).select_from(ScreenshotCorrection)) == 1
    admin, _ = client_for("admin", lang="en")
    page = admin.get("/admin/operations").text
    assert "Screenshot reading" in page and "amount 1" in page and "median 1234 ms" in page


def test_auto_approve_setting_is_admin_only_and_off_by_default(client_for, seeded) -> None:
    verifier, vtoken = client_for("verifier", lang="en")
    url = f"/admin/events/{seeded.event_id}/ocr-auto-approve"
    assert (
        verifier.post(
            url, data={"enabled": "1"}, headers={**XHR, "x-csrf-token": vtoken}
        ).status_code
        == 403
    )
    admin, token = client_for("admin", lang="en")
    assert "<strong>off</strong>" in admin.get("/admin/queue/checked").text
    assert admin.post(url, data={"enabled": "1"}, headers={**XHR, "x-csrf-token": token}).json()[
        "enabled"
    ]
    assert "<strong>on</strong>" in admin.get("/admin/queue/checked").text
    with get_sessionmaker()() as session:
        assert service.auto_approver(session, seeded.event_id) is not None
        assert (
            session.scalar(select(func.count()).where(AuditLog.action == "ocr.auto_approve_set"))
            == 1
        )
