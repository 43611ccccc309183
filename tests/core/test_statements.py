"""Bank mutation exports: presets, import never twice, matching, approving and discarding lines."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.enums import RegistrationStatus
from core.errors import Conflict
from core.models import PaymentAccount, StatementLine
from core.services import statements
from core.services.statement_csv import parse_amount, preset_for
from tests.core.payments_factories import demo_event, later, make_admin, make_registration

BCA = """No. rekening : 1234567890
Nama : YAYASAN LARI JAKARTA
Periode : 01/11/2026 - 30/11/2026
Kode Mata Uang : Rp

Tanggal Transaksi,Keterangan,Cabang,Jumlah,,Saldo
'28/11,'TRSF E-BANKING CR 2811/FTSCY/WS95051 {a} BUDI,'0000,{a}.00,CR,10{a}.00
'28/11,'BIAYA ADM,'0000,10000.00,DB,10000.00
'PEND,'TRSF E-BANKING CR PENDING,'0000,99999.00,CR,0.00
'29/11,'TRSF E-BANKING CR 2911/FTSCY/WS95052 SITI,'0000,{b}.00,CR,20{b}.00
Saldo Awal,,,:,,1000000.00
"""
MANDIRI = """Tanggal,Keterangan,No. Referensi,Debit,Kredit,Saldo
28/11/2026,Transfer dari BUDI,REF001,"0,00","{a},00","1.000.000,00"
28/11/2026,Biaya admin,REF002,"5.000,00","0,00","995.000,00"
"""
BRI = """TGL_TRAN,DESK_TRAN,MUTASI_DEBET,MUTASI_KREDIT,SALDO_AKHIR_MUTASI
2026-11-28 10:01:00,NBMB BUDI TO YAYASAN,0.00,{a}.00,1150000.00
"""
BNI = """Post Date;Value Date;Branch;Journal No.;Description;Debit;Credit;Balance
28/11/2026 10:01;28/11/2026;0001;J-7781;TRF/BUDI;;{a};1.150.123
"""


@pytest.mark.parametrize(
    ("bank", "text", "expected"),
    [
        ("BCA", BCA, [150_123, 150_456]),
        ("Bank Mandiri", MANDIRI, [150_123]),
        ("BRI", BRI, [150_123]),
        ("BNI", BNI, [150_123]),
    ],
)
def test_presets_read_credits_only(bank: str, text: str, expected: list[int]) -> None:
    preview = statements.parse_preview(text.format(a=150_123, b=150_456), preset_for(bank))
    assert [line.amount for line in preview.lines] == expected
    assert preview.debits >= (1 if bank in ("BCA", "Bank Mandiri") else 0)
    assert all(line.reference for line in preview.lines)


def test_bca_pending_rows_are_skipped_and_references_are_stable() -> None:
    first = statements.parse_preview(BCA.format(a=150_123, b=150_456), preset_for("BCA"))
    again = statements.parse_preview(
        BCA.format(a=150_123, b=150_456).encode("cp1252"), preset_for("BCA")
    )
    assert any("not booked" in s for s in first.skipped)
    assert [x.reference for x in first.lines] == [x.reference for x in again.lines]


def test_unknown_layout_is_reported() -> None:
    with pytest.raises(statements.StatementFormatError):
        statements.parse_preview("a,b,c\n1,2,3\n", preset_for("BCA"))


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("150,123.00", 150_123),
        ("150.123,00", 150_123),
        ("Rp150.123", 150_123),
        ("150123", 150_123),
        ("1,500", 1_500),
        ("(5.000)", -5_000),
        ("-2,000.50", -2_000),
        ("150,123.00 CR", 150_123),
        ("", None),
    ],
)
def test_parse_amount(raw: str, value: int | None) -> None:
    assert parse_amount(raw) == value


def _account(session: Session) -> PaymentAccount:
    return session.scalars(select(PaymentAccount).where(PaymentAccount.bank_name == "BCA")).first()  # type: ignore[return-value]


def test_import_match_approve_and_discard(session: Session) -> None:
    event = demo_event(session)
    account = _account(session)
    exact = make_registration(session, event)
    twin_a, twin_b = make_registration(session, event), make_registration(session, event)
    twin_b.amount_due = twin_a.amount_due  # e.g. unique codes switched off: two owe the same
    twin_b.amount_key = None
    text = BCA.format(a=exact.amount_due, b=twin_a.amount_due)
    lines = statements.parse_preview(text, statements.mapping_for(account)).lines
    lines.append(statements.ParsedLine(9, "REF-X", 12_345, "29/11", "unknown transfer"))
    assert statements.import_lines(
        session, account_id=account.id, event_id=event.id, lines=lines, actor="admin"
    ) == (3, 0)
    assert statements.import_lines(
        session, account_id=account.id, event_id=event.id, lines=lines, actor="admin"
    ) == (0, 3), "an uploaded file is never imported twice"
    report = statements.match(session, event_id=event.id)
    assert [m.candidates for m in report.exact] == [[exact]]
    assert {r.id for r in report.ambiguous[0].candidates} == {twin_a.id, twin_b.id}
    assert report.unmatched[0].line.amount == 12_345
    admin = make_admin(session)
    result = statements.approve_line(
        session, line_id=report.exact[0].line.id, actor=admin, now=later(2)
    )
    assert result.paid and exact.status == RegistrationStatus.PAID
    again = statements.approve_line(
        session, line_id=report.exact[0].line.id, actor=admin, now=later(3)
    )
    assert not again.changed
    with pytest.raises(Conflict):
        statements.approve_line(
            session, line_id=report.ambiguous[0].line.id, actor=admin, now=later(3)
        )
    picked = statements.approve_line(
        session,
        line_id=report.ambiguous[0].line.id,
        actor=admin,
        now=later(3),
        registration_id=twin_b.id,
    )
    assert picked.paid and twin_b.status == RegistrationStatus.PAID
    statements.discard_line(session, line_id=report.unmatched[0].line.id, actor="admin")
    after = statements.match(session, event_id=event.id)
    assert not after.exact and not after.ambiguous and not after.unmatched
    stored = session.scalars(select(StatementLine.status).order_by(StatementLine.id)).all()
    assert sorted(stored) == ["approved", "approved", "discarded"]


def test_a_line_cannot_pay_two_registrations(session: Session) -> None:
    event = demo_event(session)
    account = _account(session)
    reg = make_registration(session, event)
    lines = [
        statements.ParsedLine(1, "R1", reg.amount_due, "", ""),
        statements.ParsedLine(2, "R2", reg.amount_due, "", ""),
    ]
    statements.import_lines(
        session, account_id=account.id, event_id=event.id, lines=lines, actor="a"
    )
    report = statements.match(session, event_id=event.id)
    assert len(report.ambiguous) == 2 and not report.exact, "two credits claim one registration"
    admin = make_admin(session)
    first, second = (m.line.id for m in report.ambiguous)
    statements.approve_line(
        session, line_id=first, actor=admin, now=later(1), registration_id=reg.id
    )
    with pytest.raises(Conflict):
        statements.approve_line(
            session, line_id=second, actor=admin, now=later(1), registration_id=reg.id
        )


def test_mapping_is_remembered_per_account(session: Session) -> None:
    demo_event(session)
    account = _account(session)
    assert statements.mapping_for(account)["amount"] == ["Jumlah", "Mutasi"]
    custom = {"date": "Tgl", "amount": "Nominal", "description": "Ket"}
    statements.save_mapping(session, account_id=account.id, mapping=custom, actor="admin")
    assert statements.mapping_for(account) == custom
    preview = statements.parse_preview("Tgl,Ket,Nominal\n1/1,x,150.123\n", custom)
    assert [line.amount for line in preview.lines] == [150_123]
