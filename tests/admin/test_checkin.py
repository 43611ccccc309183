"""HTTP tests of /checkin: roles, desks opened with the PIN, scans with CSRF and nonce, exports."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import select

from core.db import get_sessionmaker, unit_of_work
from core.fulfilment import paid
from core.models import CheckIn, Event
from core.staff.accounts import hash_password
from tests.factories import make_registration

NOW = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
PIN = "482916"


def paid_registration(event_id: int, **kwargs: object) -> dict[str, str]:
    with unit_of_work() as uow:
        event = uow.session.get(Event, event_id)
        assert event is not None
        reg = make_registration(uow.session, event, **({"code": "10K"} | kwargs))  # type: ignore[arg-type]
        paid.mark_paid(uow.session, registration=reg, actor="t", now=NOW)
        return {"number": reg.number, "bib": reg.bib or "", "token": reg.ticket_token or ""}


def set_pin(event_id: int) -> None:
    with unit_of_work() as uow:
        event = uow.session.get(Event, event_id)
        assert event is not None
        event.checkin_pin_hash = hash_password(PIN)


def page_csrf(client: TestClient, path: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', client.get(path).text)
    assert match
    return match.group(1)


def scan(client: TestClient, csrf: str, code: str, nonce: str, **fields: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/checkin/scan",
        data={"code": code, "nonce": nonce, **fields},
        headers={"X-CSRF-Token": csrf, "Accept": "application/json"},
    )


def test_checkin_staff_scans_and_sees_already_collected(client_for, seeded) -> None:  # type: ignore[no-untyped-def]
    reg = paid_registration(seeded.event_id, full_name="Siti Aminah", jersey_size="L")
    client, csrf = client_for("checkin")
    page = client.get("/checkin")
    assert page.status_code == 200 and "jsQR.js" in page.text
    event = str(seeded.event_id)

    first = scan(client, csrf, reg["token"], "nonce-0001", event_id=event).json()
    assert first["outcome"] == "ok" and first["ok"] is True
    assert (first["runner_name"], first["bib"], first["jersey_size"]) == (
        "Siti Aminah",
        reg["bib"],
        "L",
    )
    retry = scan(client, csrf, reg["token"], "nonce-0001", event_id=event).json()
    assert retry["outcome"] == "ok"
    again = scan(client, csrf, reg["bib"], "nonce-0002", event_id=event).json()
    assert again["outcome"] == "already" and "SUDAH DIAMBIL" in again["message"]
    bad = scan(client, csrf, "XXXX", "nonce-0003", event_id=event).json()
    assert bad["outcome"] == "invalid"

    exported = client.get(f"/checkin/export/checkins.csv?event={event}")
    assert exported.status_code == 200 and reg["number"] in exported.text
    # The time as the desk's clock showed it: the event's zone, no microseconds or offset.
    with get_sessionmaker()() as session:
        stored = session.scalars(select(CheckIn.created_at)).one()
    local = stored.astimezone(ZoneInfo("Asia/Jakarta")).strftime("%Y-%m-%d %H:%M:%S")
    assert exported.text.splitlines()[1].startswith(local + ",")
    failed = client.get(f"/checkin/export/failed-scans.csv?event={event}").text
    assert "already" in failed and "invalid" in failed


def test_scan_requires_csrf_and_an_operator(client_for, seeded, app) -> None:  # type: ignore[no-untyped-def]
    reg = paid_registration(seeded.event_id)
    client, _csrf = client_for("checkin")
    refused = scan(client, "wrong", reg["number"], "nonce-0001", event_id=str(seeded.event_id))
    assert refused.status_code == 403
    with TestClient(app) as anonymous:
        assert (
            anonymous.get("/checkin", follow_redirects=False).headers["location"] == "/checkin/desk"
        )
        csrf = page_csrf(anonymous, "/checkin/desk")
        assert scan(anonymous, csrf, reg["number"], "nonce-0002").status_code == 401


def test_verifier_cannot_use_checkin(client_for, seeded) -> None:  # type: ignore[no-untyped-def]
    client, csrf = client_for("verifier")
    assert client.get("/checkin", follow_redirects=False).status_code == 303
    assert client.get(f"/checkin/export/checkins.csv?event={seeded.event_id}").status_code == 403


def test_desk_opened_with_pin_scans_and_can_be_revoked(client_for, seeded, app) -> None:  # type: ignore[no-untyped-def]
    set_pin(seeded.event_id)
    reg = paid_registration(seeded.event_id)
    with TestClient(app) as device:
        csrf = page_csrf(device, "/checkin/desk")
        form = {"event_id": str(seeded.event_id), "name": "Desk 2", "csrf_token": csrf}
        wrong = device.post("/checkin/desk", data={**form, "pin": "000000"})
        assert wrong.status_code == 403 and "PIN salah" in wrong.text
        opened = device.post("/checkin/desk", data={**form, "pin": PIN}, follow_redirects=False)
        assert opened.status_code == 303 and "funrun_desk" in opened.headers["set-cookie"]
        assert "Desk 2" in device.get("/checkin").text
        result = scan(device, csrf, reg["number"], "nonce-desk-1").json()
        assert result["outcome"] == "ok"
        # The desk cannot download personal-data exports.
        assert (
            device.get(
                f"/checkin/export/checkins.csv?event={seeded.event_id}", follow_redirects=False
            ).status_code
            == 303
        )

        admin, admin_csrf = client_for("admin")
        desks = admin.get(f"/checkin/desks?event={seeded.event_id}").text
        desk_id = re.search(r"/checkin/desks/(\d+)/revoke", desks).group(1)  # type: ignore[union-attr]
        admin.post(
            f"/checkin/desks/{desk_id}/revoke",
            data={"event": str(seeded.event_id), "csrf_token": admin_csrf},
        )
        assert device.get("/checkin", follow_redirects=False).status_code == 303
        assert scan(device, csrf, reg["bib"], "nonce-desk-2").status_code == 401


def test_pin_guessing_is_throttled(seeded, app) -> None:  # type: ignore[no-untyped-def]
    set_pin(seeded.event_id)
    with TestClient(app) as device:
        csrf = page_csrf(device, "/checkin/desk")
        form = {"event_id": str(seeded.event_id), "name": "X", "csrf_token": csrf}
        codes = [
            device.post("/checkin/desk", data={**form, "pin": f"{n:06d}"}).status_code
            for n in range(6)
        ]
        assert codes == [403] * 5 + [429]
        assert device.post("/checkin/desk", data={**form, "pin": PIN}).status_code == 429
