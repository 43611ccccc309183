"""The exports page and vendor files over HTTP: admin only, audited, CSV escaped, XLSX typed, PDF."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select

from core.db import get_sessionmaker, unit_of_work, utcnow
from core.enums import RegistrationStatus
from core.models import AuditLog, Event
from tests import factories as f

FILES = ("bib-print", "timing", "jersey-order", "age-groups")


def _paid_runner(event_id: int, bib: int = 5001, **participant: Any) -> str:
    with unit_of_work() as uow:
        event = uow.session.get(Event, event_id)
        reg = f.make_registration(uow.session, event, status=RegistrationStatus.PAID, bib=str(bib),
                                  bib_number=bib, full_name="Siti Aminah")  # fmt: skip
        reg.paid_at = utcnow()
        for key, value in participant.items():
            setattr(reg.participant, key, value)
        return reg.number


def test_exports_page_lists_every_file_for_admins_only(client_for: Any, seeded: Any) -> None:
    admin, _ = client_for("admin", lang="en")
    page = admin.get(f"/admin/exports?event_id={seeded.event_id}")
    assert page.status_code == 200
    for name in FILES:
        assert f"/admin/exports/{name}.csv?event_id={seeded.event_id}" in page.text
    assert "kwitansi.pdf" in page.text
    verifier, _ = client_for("verifier")
    for path in ("/admin/exports", f"/admin/exports/timing.csv?event_id={seeded.event_id}",
                 "/admin/exports/kwitansi.pdf?numbers=X"):  # fmt: skip
        assert verifier.get(path, follow_redirects=False).status_code in (302, 303, 403), path


def test_files_download_escaped_and_audited(client_for: Any, seeded: Any) -> None:
    _paid_runner(seeded.event_id, club='=HYPERLINK("http://x")', blood_type="AB")
    admin, _ = client_for("admin", lang="en")
    for name in FILES:
        csv = admin.get(f"/admin/exports/{name}.csv?event_id={seeded.event_id}")
        assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv"), name
        xlsx = admin.get(f"/admin/exports/{name}.xlsx?event_id={seeded.event_id}")
        sheet = load_workbook(io.BytesIO(xlsx.content)).active
        assert sheet.max_row >= 2, name
    timing = admin.get(f"/admin/exports/timing.csv?event_id={seeded.event_id}").text
    assert timing.lstrip("\ufeff").startswith("Bib,FirstName,LastName,Gender,DateOfBirth")
    assert "'=HYPERLINK" in timing  # a formula typed by a runner is neutralised
    xlsx = admin.get(f"/admin/exports/timing.xlsx?event_id={seeded.event_id}")
    club = load_workbook(io.BytesIO(xlsx.content)).active.cell(row=2, column=7)
    assert club.data_type == "s" and club.value.startswith("=HYPERLINK")  # text, never a formula
    assert admin.get(f"/admin/exports/timing.pdf?event_id={seeded.event_id}").status_code == 404
    with get_sessionmaker()() as session:
        actions = set(session.scalars(select(AuditLog.action)))
    assert {
        "export.bib_print",
        "export.timing",
        "export.jersey_order",
        "export.age_groups",
    } <= actions


def test_kwitansi_single_group_and_refusals(client_for: Any, seeded: Any) -> None:
    one, two = _paid_runner(seeded.event_id), _paid_runner(seeded.event_id, 5002)
    admin, _ = client_for("admin", lang="en")
    pdf = admin.get(f"/admin/exports/kwitansi.pdf?numbers={one}")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert f"KW-{one}" in pdf.headers["content-disposition"]
    group = admin.get("/admin/exports/kwitansi.pdf", params={"numbers": f"{one}\n{two.lower()}",
                                                             "received_from": "PT Maju"})  # fmt: skip
    assert group.status_code == 200 and "-G2" in group.headers["content-disposition"]
    for numbers in ("", "NO-SUCH-1", f"{one},NO-SUCH-2"):
        refused = admin.get("/admin/exports/kwitansi.pdf", params={"numbers": numbers})
        assert refused.status_code == 200 and "Receipt not made" in refused.text, numbers
    with get_sessionmaker()() as session:
        assert session.scalars(select(AuditLog).where(AuditLog.action == "export.kwitansi")).all()


def test_a_paid_registration_links_its_kwitansi(client_for: Any, seeded: Any) -> None:
    number = _paid_runner(seeded.event_id)
    admin, _ = client_for("admin", lang="en")
    with get_sessionmaker()() as session:
        from core.models import Registration

        reg_id = session.scalars(select(Registration.id).where(Registration.number == number)).one()
    page = admin.get(f"/admin/registrations/{reg_id}").text
    assert 'action="/admin/exports/kwitansi.pdf"' in page and f'value="{number}"' in page
