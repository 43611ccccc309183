"""Bank mutation exports: presets, import never twice, matching, approving and discarding lines."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.enums import RegistrationStatus
from core.errors import Conflict, RangeExhausted
from core.fulfilment import paid
from core.models import Payment, PaymentAccount, StatementLine
from core.payments import category_change, photos
from core.payments.state import outstanding
from core.payments.statements import approval, bank_csv, credits
from core.payments.statements.bank_csv import parse_amount, preset_for
from core.registration.changes import Who
from tests.factories import (
    NOW,
    UNPAID,
    category,
    demo_event,
    encode,
    inbound,
    later,
    make_registration,
    make_staff,
    screenshot,
)

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
    preview = credits.parse_preview(text.format(a=150_123, b=150_456), preset_for(bank))
    assert [line.amount for line in preview.lines] == expected
    assert preview.debits >= (1 if bank in ("BCA", "Bank Mandiri") else 0)
    assert all(line.reference for line in preview.lines)


def test_bca_pending_rows_are_skipped_and_references_are_stable() -> None:
    first = credits.parse_preview(BCA.format(a=150_123, b=150_456), preset_for("BCA"))
    again = credits.parse_preview(
        BCA.format(a=150_123, b=150_456).encode("cp1252"), preset_for("BCA")
    )
    assert any("not booked" in s for s in first.skipped)
    assert [x.reference for x in first.lines] == [x.reference for x in again.lines]


def test_unknown_layout_is_reported() -> None:
    with pytest.raises(bank_csv.StatementFormatError):
        credits.parse_preview("a,b,c\n1,2,3\n", preset_for("BCA"))


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
    exact = make_registration(session, event, **UNPAID)
    twin_a, twin_b = (
        make_registration(session, event, **UNPAID),
        make_registration(session, event, **UNPAID),
    )
    twin_b.amount_due = twin_a.amount_due  # e.g. unique codes switched off: two owe the same
    twin_b.amount_key = None
    text = BCA.format(a=exact.amount_due, b=twin_a.amount_due)
    lines = credits.parse_preview(text, credits.mapping_for(account)).lines
    lines.append(bank_csv.ParsedLine(9, "REF-X", 12_345, "29/11", "unknown transfer"))
    assert credits.import_lines(
        session, account_id=account.id, event_id=event.id, lines=lines, actor="admin"
    ) == (3, 0)
    assert credits.import_lines(
        session, account_id=account.id, event_id=event.id, lines=lines, actor="admin"
    ) == (0, 3), "an uploaded file is never imported twice"
    report = credits.match(session, event_id=event.id)
    assert [m.candidates for m in report.exact] == [[exact]]
    assert {r.id for r in report.ambiguous[0].candidates} == {twin_a.id, twin_b.id}
    assert report.unmatched[0].line.amount == 12_345
    admin = make_staff(session)
    result = approval.approve_line(
        session, line_id=report.exact[0].line.id, actor=admin, now=later(2)
    )
    assert result.paid and exact.status == RegistrationStatus.PAID
    again = approval.approve_line(
        session, line_id=report.exact[0].line.id, actor=admin, now=later(3)
    )
    assert not again.changed
    with pytest.raises(Conflict):
        approval.approve_line(
            session, line_id=report.ambiguous[0].line.id, actor=admin, now=later(3)
        )
    picked = approval.approve_line(
        session,
        line_id=report.ambiguous[0].line.id,
        actor=admin,
        now=later(3),
        registration_id=twin_b.id,
    )
    assert picked.paid and twin_b.status == RegistrationStatus.PAID
    approval.discard_line(session, line_id=report.unmatched[0].line.id, actor="admin")
    after = credits.match(session, event_id=event.id)
    assert not after.exact and not after.ambiguous and not after.unmatched
    stored = session.scalars(select(StatementLine.status).order_by(StatementLine.id)).all()
    assert sorted(stored) == ["approved", "approved", "discarded"]


def test_a_line_cannot_pay_two_registrations(session: Session) -> None:
    event = demo_event(session)
    account = _account(session)
    reg = make_registration(session, event, **UNPAID)
    lines = [
        bank_csv.ParsedLine(1, "R1", reg.amount_due, "", ""),
        bank_csv.ParsedLine(2, "R2", reg.amount_due, "", ""),
    ]
    credits.import_lines(session, account_id=account.id, event_id=event.id, lines=lines, actor="a")
    report = credits.match(session, event_id=event.id)
    assert len(report.ambiguous) == 2 and not report.exact, "two credits claim one registration"
    admin = make_staff(session)
    first, second = (m.line.id for m in report.ambiguous)
    approval.approve_line(session, line_id=first, actor=admin, now=later(1), registration_id=reg.id)
    with pytest.raises(Conflict):
        approval.approve_line(
            session, line_id=second, actor=admin, now=later(1), registration_id=reg.id
        )


def test_mapping_is_remembered_per_account(session: Session) -> None:
    demo_event(session)
    account = _account(session)
    assert credits.mapping_for(account)["amount"] == ["Jumlah", "Mutasi"]
    custom = {"date": "Tgl", "amount": "Nominal", "description": "Ket"}
    credits.save_mapping(session, account_id=account.id, mapping=custom, actor="admin")
    assert credits.mapping_for(account) == custom
    preview = credits.parse_preview("Tgl,Ket,Nominal\n1/1,x,150.123\n", custom)
    assert [line.amount for line in preview.lines] == [150_123]


def _import(session: Session, event_id: int, *lines: bank_csv.ParsedLine) -> None:
    credits.import_lines(
        session, account_id=_account(session).id, event_id=event_id, lines=lines, actor="a"
    )


def _open_line(session: Session, reference: str) -> StatementLine:
    return session.scalars(select(StatementLine).where(StatementLine.reference == reference)).one()


def test_part_payment_is_completed_by_a_top_up_credit(session: Session) -> None:
    event = demo_event(session)
    admin = make_staff(session)
    reg = make_registration(session, event, **UNPAID)
    due = reg.amount_due
    _import(session, event.id, bank_csv.ParsedLine(1, "SHORT", due - 50_000, "28/11", "BUDI"))
    assert credits.match(session, event_id=event.id).unmatched, "nobody owes the short amount"
    short = approval.approve_line(
        session,
        line_id=_open_line(session, "SHORT").id,
        actor=admin,
        now=later(2),
        registration_id=reg.id,
    )
    assert reg.status == RegistrationStatus.PARTIALLY_PAID and short.shortfall == 50_000
    told = short.outbound[0].text
    assert "50.000" in told and "WIB" not in told and "sebelum" not in told, "no deadline claim"

    _import(session, event.id, bank_csv.ParsedLine(2, "TOPUP", 50_000, "29/11", "BUDI"))
    report = credits.match(session, event_id=event.id)
    assert [m.candidates for m in report.exact] == [[reg]], "the rest is an exact match"
    topup = approval.approve_line(
        session, line_id=report.exact[0].line.id, actor=admin, now=later(3)
    )
    assert topup.paid and reg.status == RegistrationStatus.PAID
    assert reg.amount_received == due and reg.bib
    again = approval.approve_line(
        session, line_id=report.exact[0].line.id, actor=admin, now=later(4)
    )
    assert not again.changed and again.registration_id == reg.id

    _import(session, event.id, bank_csv.ParsedLine(3, "EXTRA", 50_000, "30/11", "BUDI"))
    extra = _open_line(session, "EXTRA")
    assert credits.match(session, event_id=event.id).unmatched[0].line.id == extra.id
    with pytest.raises(Conflict) as refused:
        approval.approve_line(
            session, line_id=extra.id, actor=admin, now=later(5), registration_id=reg.id
        )
    assert refused.value.key == "payment.statement.registration_has_line"


def _group(session: Session, event: Any) -> list[Any]:
    chat = f"grp-{secrets.token_hex(4)}"
    regs = [make_registration(session, event, chat_id=chat, **UNPAID) for _ in range(3)]
    photo = photos.receive_photo_group(
        session,
        registrations=regs,
        stored_path=inbound(encode(screenshot(sum(r.amount_due for r in regs)), "PNG")),
        provider_file_id=None,
        now=later(1),
    )
    assert photo.payments[0].flags["group_total"] == sum(r.amount_due for r in regs)
    return regs


def test_one_credit_for_a_photo_group_approves_them_together(session: Session) -> None:
    event = demo_event(session)
    regs = _group(session, event)
    single = make_registration(session, event, **UNPAID)
    total = sum(r.amount_due for r in regs)
    _import(
        session,
        event.id,
        bank_csv.ParsedLine(1, "GROUP", total, "28/11", "SITI"),
        bank_csv.ParsedLine(2, "ONE", single.amount_due, "28/11", "ANI"),
    )
    report = credits.match(session, event_id=event.id)
    grouped = [m for m in report.exact if m.group]
    assert [m.candidates for m in grouped] == [regs] and grouped[0].line.amount == total
    result = approval.approve_line(
        session, line_id=grouped[0].line.id, actor=make_staff(session), now=later(2)
    )
    approvals = [result, *result.others]
    assert [a.registration_id for a in approvals] == [r.id for r in regs]
    assert all(a.paid for a in approvals)
    assert all(
        r.status == RegistrationStatus.PAID and r.amount_received == r.amount_due for r in regs
    )
    assert single.status == RegistrationStatus.PENDING_PAYMENT
    assert _open_line(session, "GROUP").registration_id == regs[0].id


def test_a_group_total_does_not_match_once_one_of_them_changed(session: Session) -> None:
    event = demo_event(session)
    regs = _group(session, event)
    total = sum(r.amount_due for r in regs)
    regs[1].status = RegistrationStatus.PAID.value  # approved from the queue meanwhile
    regs[1].amount_key = None
    _import(session, event.id, bank_csv.ParsedLine(1, "GROUP", total, "28/11", "SITI"))
    report = credits.match(session, event_id=event.id)
    assert not report.exact and len(report.unmatched) == 1
    with pytest.raises(Conflict):
        approval.approve_line(
            session, line_id=report.unmatched[0].line.id, actor=make_staff(session), now=later(2)
        )


def test_bib_range_exhausted_leaves_the_line_and_payment_untouched(session: Session) -> None:
    event = demo_event(session)
    reg = make_registration(session, event, **UNPAID)
    cat = category(session, event)
    cat.bib_start = cat.bib_end = 7001
    paid.mark_paid(
        session, registration=make_registration(session, event, **UNPAID), actor="t", now=NOW
    )
    _import(session, event.id, bank_csv.ParsedLine(1, "FULL", reg.amount_due, "28/11", "X"))
    line = _open_line(session, "FULL")
    savepoint = session.begin_nested()  # the admin route's unit of work rolls back the same way
    with pytest.raises(RangeExhausted, match="extend the range"):
        approval.approve_line(session, line_id=line.id, actor=make_staff(session), now=later(2))
    savepoint.rollback()
    session.expire_all()
    assert line.status == "unmatched" and line.registration_id is None
    assert reg.status == RegistrationStatus.PENDING_PAYMENT and not reg.amount_received
    assert not session.scalars(select(Payment).where(Payment.registration_id == reg.id)).all()


# Second layouts of the presets: the same bank exports other headings from other products.
BNI_NOMINAL = """Tanggal Transaksi,Uraian Transaksi,Tipe,Nominal,Saldo
28/11/2026,TRF DARI BUDI,K,"{a}","1.150.123"
28/11/2026,BIAYA ADM,D,"5.000","1.145.123"
"""
BRI_INDONESIAN = """Tanggal Transaksi;Uraian Transaksi;Debet;Kredit;Saldo
28/11/2026;NBMB BUDI TO YAYASAN;0,00;{a},00;1.150.123,00
28/11/2026;BIAYA ADM;6.500,00;0,00;1.143.623,00
"""
MANDIRI_MCM = """Account No,Ccy,Posting Date,Remark,Reference No.,Debit,Credit,Balance
1230001234567,IDR,28/11/2026 10:01,TRF BUDI,FT2611280001,0.00,{a}.00,1150123.00
1230001234567,IDR,28/11/2026 11:00,ADM,FT2611280002,2500.00,0.00,1147623.00
"""


@pytest.mark.parametrize(
    ("bank", "text"),
    [("BNI", BNI_NOMINAL), ("BRI", BRI_INDONESIAN), ("Bank Mandiri", MANDIRI_MCM)],
)
def test_second_layouts_of_presets(bank: str, text: str) -> None:
    preview = credits.parse_preview(
        text.format(a="150.123" if bank == "BNI" else 150_123), preset_for(bank)
    )
    assert [line.amount for line in preview.lines] == [150_123]
    assert preview.debits == 1 and "BUDI" in preview.lines[0].description
    if bank == "Bank Mandiri":
        assert preview.lines[0].reference == "FT2611280001"


def test_a_category_change_difference_is_matched_by_its_own_unique_amount(
    session: Session,
) -> None:
    event = demo_event(session)
    event.changes_until = NOW + timedelta(days=1)
    reg = make_registration(session, event, code="10K", status=RegistrationStatus.PENDING_PAYMENT)
    reg.amount_received = reg.amount_due
    paid.mark_paid(session, registration=reg, actor="t", now=NOW)
    twenty_one = category(session, event, "21K")
    up = category_change.change_category(
        session, registration_id=reg.id, category_id=twenty_one.id, who=Who("a"), now=NOW
    )
    # The difference (not the total) is the amount key: no other awaiting amount can equal it.
    assert reg.amount_key == outstanding(reg) == up.to_pay
    with pytest.raises(IntegrityError), session.begin_nested():
        make_registration(session, event, **UNPAID, amount_key=up.to_pay)
    _import(session, event.id, bank_csv.ParsedLine(1, "DIFF", up.to_pay, "28/11", "BUDI"))
    report = credits.match(session, event_id=event.id)
    assert [m.candidates for m in report.exact] == [[reg]]
    result = approval.approve_line(
        session, line_id=report.exact[0].line.id, actor=make_staff(session), now=later(2)
    )
    assert result.paid and reg.status == RegistrationStatus.PAID and reg.amount_key is None
    assert reg.category_id == twenty_one.id and (reg.bib or "").startswith("21")
    assert reg.amount_received == reg.amount_due
    [told] = result.outbound
    assert told.recipient == reg.chat_id and reg.number in told.text
