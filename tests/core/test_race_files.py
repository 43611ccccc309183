"""Vendor and race files in core: BIB print, timing import, jersey order, age groups, kwitansi."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from core.db import utcnow
from core.enums import RegistrationStatus
from core.errors import InvalidSetting
from core.fulfilment import kwitansi, race_files
from tests import factories as f

PAID = RegistrationStatus.PAID
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "kwitansi"


def _paid(session: Session, event, **fields):  # noqa: ANN001, ANN003, ANN202
    reg = f.make_registration(session, event, status=PAID, amount="none", **fields)
    reg.paid_at = utcnow()
    return reg


@pytest.fixture
def event(session: Session):  # noqa: ANN201
    event = f.demo_event(session, admin_password=f.PASSWORD)
    event.race_date = date(2026, 12, 6)
    return event


def test_bib_print_and_timing_rows(session: Session, event) -> None:  # noqa: ANN001
    reg = _paid(session, event, full_name="Siti Nur Aminah", bib="5001", bib_number=5001)
    p = reg.participant
    p.blood_type, p.emergency_phone, p.emergency_name = "O", "+6281200002222", "Budi"
    p.date_of_birth, p.gender, p.nik, p.club = date(1990, 5, 1), "f", "3171234567890001", "=cmd|x"
    p.answers = {**p.answers, "wave": "A"}
    solo = _paid(session, event, full_name="Sukarno", bib="5002", bib_number=5002)
    solo.participant.answers = {**solo.participant.answers, "bib_name": "Bung Karno Proklamator"}
    f.make_registration(session, event)  # unpaid: in no file
    session.flush()
    bib = list(race_files.bib_print_rows(session, event.id))
    assert bib[0] == list(race_files.BIB_COLUMNS)
    assert bib[1][:6] == ["SITI", "5001", "5K", "A", "O", "+6281200002222"]
    assert bib[2][0] == "BUNG KARNO P"  # the runner's BIB name, cut to what fits
    timing = list(race_files.timing_rows(session, event.id))
    assert timing[0] == list(race_files.TIMING_COLUMNS)
    assert timing[1] == ["5001", "Siti Nur", "Aminah", "F", "1990-05-01", "5K", "=cmd|x", "IDN"]
    assert timing[2][1:3] == ["Sukarno", "Sukarno"]  # one-word names fill both fields


def test_jersey_order_against_stock(session: Session, event) -> None:  # noqa: ANN001
    _paid(session, event, jersey_size="M")
    f.make_registration(session, event, code="10K", jersey_size="M")  # holds a jersey, not paid
    f.make_registration(session, event, status=RegistrationStatus.CANCELLED, jersey_size="M")
    _paid(session, event, jersey_size="XXXL", hold=False)  # a size without stock still shows
    rows = list(race_files.jersey_rows(session, event.id))
    header = rows[0]
    by_size = {r[0]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    m = by_size["M"]
    assert (m["5K"], m["10K"], m["Total"], m["Paid"]) == (1, 1, 2, 1)
    assert m["Left over"] == m["Stock"] - 2
    assert by_size["XXXL"]["Stock"] == "" and by_size["XXXL"]["Total"] == 1


def test_age_groups_count_age_on_race_day(session: Session, event) -> None:  # noqa: ANN001
    for born, gender in (
        (date(1996, 12, 6), "F"),
        (date(1996, 12, 7), "F"),
        (date(1980, 1, 1), "M"),
    ):
        reg = _paid(session, event)
        reg.participant.date_of_birth, reg.participant.gender = born, gender
    _paid(session, event).participant.date_of_birth = None
    session.flush()
    rows = list(race_files.age_group_rows(session, event.id))
    assert rows[0] == list(race_files.AGE_COLUMNS)
    # 30 on race day (birthday that day) and 29 (the day after): two bands.
    assert ["5K", "F", "20-29", 1] in rows and ["5K", "F", "30-39", 1] in rows
    assert ["5K", "M", "40-49", 1] in rows and ["5K", "F", "unknown", 1] in rows


def test_kwitansi_single_and_group(session: Session, event) -> None:  # noqa: ANN001
    one = _paid(session, event, full_name="Siti Aminah", bib="5001", amount_due=250_507)
    two = _paid(session, event, full_name="Budi Santoso", bib="5002", amount_due=250_000)
    receipt = kwitansi.receipt_for([one])
    assert receipt.number == f"KW-{one.number}" and receipt.received_from == "Siti Aminah"
    assert receipt.amount_words == "Dua Ratus Lima Puluh Ribu Lima Ratus Tujuh Rupiah"
    assert receipt.organiser.startswith("Panitia ") and event.name in receipt.purpose[0]
    group = kwitansi.receipt_for([one, two], received_from="PT Maju Jaya")
    assert group.amount == 500_507 and group.received_from == "PT Maju Jaya"
    assert len(group.purpose) == 3 and "Budi Santoso" in group.purpose[2]
    pdf = kwitansi.render_pdf(group)
    assert pdf.startswith(b"%PDF-") and len(pdf) < 200_000
    unpaid = f.make_registration(session, event)
    with pytest.raises(InvalidSetting):
        kwitansi.receipt_for([one, unpaid])
    with pytest.raises(InvalidSetting):
        kwitansi.receipt_for([])
    _look_at(pdf)


def _look_at(pdf: bytes) -> None:
    """Keep the PDF and, where poppler is installed, a PNG of it under test-artifacts/kwitansi."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "group.pdf").write_bytes(pdf)
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-png", "-r", "110", "-singlefile", str(ARTIFACTS / "group.pdf"),
                        str(ARTIFACTS / "group")], check=True, timeout=30)  # fmt: skip
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(ARTIFACTS / "group.pdf"), "-"], check=True,
                              capture_output=True, text=True, timeout=30).stdout  # fmt: skip
        assert "KWITANSI" in text and "Telah terima dari" in text and "PT Maju Jaya" in text
