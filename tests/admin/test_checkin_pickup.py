"""Representative pickup over HTTP (letter photo upload, stored only with its check-in), the
check-in section of the registration page with the staff-only letter photo, and the dashboard's
check-in counts per category."""

from __future__ import annotations

import io
import re
from pathlib import Path

from PIL import Image
from sqlalchemy import select

from core.config import get_settings
from core.db import get_sessionmaker, unit_of_work
from core.enums import RegistrationStatus
from core.fulfilment import letters
from core.models import CheckIn, Event, Registration, ScanLog
from tests.admin.test_checkin import paid_registration, scan
from tests.factories import make_registration


def _letter_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (300, 400), "white").save(buffer, format="JPEG")
    return buffer.getvalue()


def _letters() -> list[Path]:
    folder = Path(get_settings().media_dir) / letters.LETTERS_SUBDIR
    return sorted(folder.glob("*")) if folder.exists() else []


def _require_letter(event_id: int) -> None:
    with unit_of_work() as uow:
        event = uow.session.get(Event, event_id)
        assert event is not None
        event.requires_authorisation_letter = True


def _reg_id(number: str) -> int:
    with get_sessionmaker()() as session:
        return session.scalars(select(Registration.id).where(Registration.number == number)).one()


def _with_letter(client, csrf, code, nonce, event_id, data: bytes, name="Budi Santoso"):  # type: ignore[no-untyped-def]
    return client.post(
        "/checkin/scan",
        data={"code": code, "nonce": nonce, "event_id": str(event_id), "representative_name": name},
        files={"letter": ("surat-kuasa.jpg", data, "image/jpeg")},
        headers={"X-CSRF-Token": csrf, "Accept": "application/json"},
    )


def test_representative_pickup_with_letter_shown_on_the_registration_page(
    client_for, seeded, app
) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    _require_letter(seeded.event_id)
    reg = paid_registration(seeded.event_id, full_name="Siti Aminah")
    before = _letters()
    desk, csrf = client_for("checkin")

    refused = scan(desk, csrf, reg["number"], "rep-nonce-0", event_id=str(seeded.event_id),
                   representative_name="Budi Santoso").json()  # fmt: skip
    assert refused["outcome"] == "letter_required"
    result = _with_letter(desk, csrf, reg["number"], "rep-nonce-1", seeded.event_id, _letter_jpeg())
    body = result.json()
    assert body["outcome"] == "ok" and body["representative_name"] == "Budi Santoso"
    retry = _with_letter(desk, csrf, reg["number"], "rep-nonce-1", seeded.event_id, _letter_jpeg())
    assert retry.json()["outcome"] == "ok"
    again = _with_letter(desk, csrf, reg["number"], "rep-nonce-2", seeded.event_id, _letter_jpeg())
    assert again.json()["outcome"] == "already"
    new_files = [p for p in _letters() if p not in before]
    assert len(new_files) == 1, "a retried or refused scan must not leave a letter file"
    with get_sessionmaker()() as session:
        done = session.scalars(select(CheckIn)).one()
        assert done.authorisation_letter_path == f"{letters.LETTERS_SUBDIR}/{new_files[0].name}"

    reg_id = _reg_id(reg["number"])
    admin, _ = client_for("verifier", lang="en")
    page = admin.get(f"/admin/registrations/{reg_id}").text
    section = page[page.index('id="checkin"') :]
    assert "Representative: Budi Santoso" in section
    assert done.desk in section and re.search(r"\d{2}:\d{2}", section)
    assert f"/admin/registrations/{reg_id}/checkin-letter" in section

    photo = admin.get(f"/admin/registrations/{reg_id}/checkin-letter")
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    assert photo.headers["cache-control"] == "private, no-store"
    assert Image.open(io.BytesIO(photo.content)).size == (300, 400)
    # Not for check-in-only staff: signed in, so the role check refuses (403, no redirect).
    letter = f"/admin/registrations/{reg_id}/checkin-letter"
    refused = desk.get(letter, follow_redirects=False)
    assert refused.status_code == 403 and not refused.content.startswith(b"\xff\xd8")
    # Anonymous browsers (a GET that does not ask for JSON) are sent to the login page and back.
    with TestClient(app) as anonymous:
        r = anonymous.get(letter, follow_redirects=False)
        assert r.status_code == 303 and not r.content.startswith(b"\xff\xd8")
        assert r.headers["location"] == "/admin/login?next=" + letter.replace("/", "%2F")


def test_page_says_not_checked_in_and_letter_route_404(client_for, seeded) -> None:  # type: ignore[no-untyped-def]
    reg = paid_registration(seeded.event_id)
    reg_id = _reg_id(reg["number"])
    admin, _ = client_for("verifier", lang="en")
    assert "Not collected yet." in admin.get(f"/admin/registrations/{reg_id}").text
    assert admin.get(f"/admin/registrations/{reg_id}/checkin-letter").status_code == 404


def test_unreadable_letter_is_refused_logged_and_not_stored(client_for, seeded) -> None:  # type: ignore[no-untyped-def]
    reg = paid_registration(seeded.event_id)
    before = _letters()
    desk, csrf = client_for("checkin")
    body = _with_letter(
        desk, csrf, reg["number"], "bad-letter-1", seeded.event_id, b"not an image"
    ).json()
    assert body["outcome"] == "invalid_letter" and body["ok"] is False
    assert "surat kuasa tidak bisa dibaca" in body["message"]
    with get_sessionmaker()() as session:
        log = session.scalars(select(ScanLog).where(ScanLog.nonce == "bad-letter-1")).one()
        assert log.result == "invalid_letter" and "unreadable" in log.reason
        assert session.scalars(select(CheckIn)).first() is None
    assert _letters() == before
    failed = client_for("admin")[0].get(f"/checkin/export/failed-scans.csv?event={seeded.event_id}")
    assert "invalid_letter" in failed.text


def test_letter_with_a_refused_code_is_not_stored(client_for, seeded) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work() as uow:
        event = uow.session.get(Event, seeded.event_id)
        unpaid = make_registration(
            uow.session, event, status=RegistrationStatus.PENDING_PAYMENT, code="10K"
        )
        number = unpaid.number
    before = _letters()
    desk, csrf = client_for("checkin")
    body = _with_letter(desk, csrf, number, "unpaid-1", seeded.event_id, _letter_jpeg()).json()
    assert body["outcome"] == "not_paid"
    assert _letters() == before


def test_dashboard_counts_check_ins_per_category(client_for, seeded) -> None:  # type: ignore[no-untyped-def]
    ten = [paid_registration(seeded.event_id, code="10K") for _ in range(3)]
    five = [paid_registration(seeded.event_id, code="5K") for _ in range(2)]
    desk, csrf = client_for("checkin")
    for n, reg in enumerate([*ten[:2], five[0]]):
        assert scan(desk, csrf, reg["number"], f"dash-nonce-{n}", event_id=str(seeded.event_id)
                    ).json()["outcome"] == "ok"  # fmt: skip

    admin, _ = client_for("verifier", lang="en")
    html = admin.get(f"/admin/?event_id={seeded.event_id}").text
    table = html[html.index("<th>Category</th>") :]
    headers = re.findall(r"<th[^>]*>(.*?)</th>", table[: table.index("</tr>")])
    column = headers.index("Collected")
    cells = {
        re.sub(r"<[^>]+>", "", row[0]).split(" · ")[0]: re.sub(r"<[^>]+>", "", row[column])
        for row in (
            re.findall(r"<td[^>]*>(.*?)</td>", tr)
            for tr in re.findall(r"<tr><td>.*?</tr>", table[: table.index("</tbody>")])
        )
    }
    assert (cells["10K"], cells["5K"], cells["21K"]) == ("2", "1", "0")

    # The same numbers on the check-in page's per-category counter.
    page = desk.get(f"/checkin?event={seeded.event_id}").text
    assert '<th>10K</th><td class="count">2 / 3</td>' in page
    assert '<th>5K</th><td class="count">1 / 2</td>' in page


def test_letter_that_cannot_be_stored_records_nothing_and_says_so(client_for, seeded) -> None:  # type: ignore[no-untyped-def]
    """The media disk refuses the write (a plain file where the folder should be): no pickup."""
    reg = paid_registration(seeded.event_id)
    folder = Path(get_settings().media_dir) / letters.LETTERS_SUBDIR
    kept = folder.with_name(folder.name + ".kept")
    if folder.exists():
        folder.rename(kept)
    folder.write_bytes(b"")
    try:
        desk, csrf = client_for("checkin")
        answer = _with_letter(desk, csrf, reg["number"], "full-disk-1", seeded.event_id,
                              _letter_jpeg())  # fmt: skip
    finally:
        folder.unlink()
        if kept.exists():
            kept.rename(folder)
    assert answer.status_code == 200
    body = answer.json()
    assert body["outcome"] == "letter_not_stored" and body["ok"] is False
    assert "belum bisa disimpan" in body["message"]
    with get_sessionmaker()() as session:
        assert session.scalars(select(CheckIn)).first() is None
