"""Statement pages over HTTP: column mapping remembered per account, clear refusal messages."""

from __future__ import annotations

import html

from sqlalchemy import select

from core.db import get_sessionmaker, unit_of_work, utcnow
from core.enums import RegistrationStatus
from core.fulfilment import paid
from core.models import Event, OutboundMessage, Payment, PaymentAccount, Registration, StatementLine
from tests import factories as f
from tests.channels.helpers import wait_until
from tests.factories import category

CUSTOM = """Laporan mutasi;;;;
Tgl Mutasi;Catatan;Nilai;Arah;No Bukti
01/11/2026;SETORAN BUDI;{amount};K;BK-1
01/11/2026;BIAYA;2.500;D;BK-2
"""
BNI = """Tanggal Transaksi,Uraian Transaksi,Tipe,Nominal,Saldo
28/11/2026,TRF DARI SITI,K,{amount},1.150.123
"""


def _setup(event_id: int, **kwargs: object) -> tuple[int, int, int]:
    with unit_of_work() as uow:
        event = uow.session.get(Event, event_id)
        reg = f.make_registration(
            uow.session, event, status=RegistrationStatus.PENDING_PAYMENT, **kwargs
        )
        account_id = uow.session.scalars(
            select(PaymentAccount.id).order_by(PaymentAccount.id)
        ).first()
        return reg.id, reg.amount_due, account_id


def _upload(client, token, event_id: int, account_id: int, text: str, preset: str = ""):  # noqa: ANN001, ANN202
    return client.post(
        "/admin/statements/upload",
        data={
            "event_id": event_id,
            "account_id": account_id,
            "preset": preset,
            "csrf_token": token,
        },
        files={"file": ("mutasi.csv", text.encode(), "text/csv")},
    )


def test_custom_columns_and_presets_are_remembered_for_the_next_upload(client_for, seeded) -> None:
    _reg, amount, account_id = _setup(seeded.event_id)
    client, token = client_for("admin", lang="en")
    page = client.get(f"/admin/statements?event_id={seeded.event_id}&account_id={account_id}")
    assert 'action="/admin/statements/mapping"' in page.text
    assert "preset BCA (the bank's default)" in html.unescape(page.text)
    # The preset select shows what the text says (A8): BCA chosen, not "Custom columns".
    assert '<option value="bca" selected>BCA</option>' in page.text
    form = {"event_id": seeded.event_id, "account_id": account_id, "preset": ""}
    r = client.post("/admin/statements/mapping", data={**form, "csrf_token": token, "amount": "X"})
    assert "Columns not saved: choose the date column." in html.unescape(r.text)
    r = client.post(
        "/admin/statements/mapping",
        data={
            **form,
            "csrf_token": token,
            "date": "Tgl Mutasi",
            "description": "Catatan",
            "amount": "Nilai",
            "direction": "Arah",
            "credit_markers": "K",
            "reference": "No Bukti",
            "delimiter": "semicolon",
        },
    )
    assert "Columns saved" in r.text and "custom columns" in r.text
    assert 'value="Tgl Mutasi"' in r.text, "the form shows the remembered columns"
    r = _upload(client, token, seeded.event_id, account_id, CUSTOM.format(amount=amount))
    assert "Imported 1 credits (0 known, 1 debits, 0 rows skipped)" in r.text, r.text[:3000]
    assert "Exact matches (1)" in r.text
    # A preset chosen on upload is remembered too: the next upload needs no choice.
    r = _upload(client, token, seeded.event_id, account_id, BNI.format(amount=12_345), "bni")
    assert "Imported 1 credits" in r.text and "preset BNI" in r.text
    assert '<option value="bni" selected>BNI</option>' in r.text
    r = _upload(client, token, seeded.event_id, account_id, BNI.format(amount=23_456))
    assert "Imported 1 credits" in r.text
    with get_sessionmaker()() as session:
        mapping = session.get(PaymentAccount, account_id).statement_mapping
        assert mapping["preset"] == "bni"
        lines = session.scalars(select(StatementLine.amount).order_by(StatementLine.id)).all()
    assert lines == [amount, 12_345, 23_456]


def test_mapping_form_needs_csrf(client_for, seeded) -> None:
    _reg, _amount, account_id = _setup(seeded.event_id)
    client, _token = client_for("admin", lang="en")
    r = client.post(
        "/admin/statements/mapping",
        data={"event_id": seeded.event_id, "account_id": account_id, "preset": "bri"},
    )
    assert r.status_code == 403
    with get_sessionmaker()() as session:
        assert not session.get(PaymentAccount, account_id).statement_mapping


def test_bib_range_exhausted_is_explained_and_nothing_is_half_done(
    client_for, seeded, worker
) -> None:
    reg_id, amount, account_id = _setup(seeded.event_id)
    with unit_of_work() as uow:
        event = uow.session.get(Event, seeded.event_id)
        cat = category(uow.session, event, "5K")
        cat.bib_start = cat.bib_end = 9001
        other = f.make_registration(uow.session, event, status=RegistrationStatus.PENDING_PAYMENT)
        paid.mark_paid(uow.session, registration=other, actor="t", now=utcnow())
    client, token = client_for("admin", lang="en")
    r = _upload(
        client,
        token,
        seeded.event_id,
        account_id,
        "Tanggal,Keterangan,Referensi,Debit,Kredit,Saldo\n"
        f"01/11/2026,TRSF SITI,REF9,,{amount},1000000\n",
        "generic",
    )
    assert "Exact matches (1)" in r.text
    with get_sessionmaker()() as session:
        line_id = session.scalars(select(StatementLine.id)).one()
    r = client.post(
        f"/admin/statements/lines/{line_id}/approve",
        data={"event_id": seeded.event_id, "csrf_token": token},
    )
    text = html.unescape(r.text)
    assert "Not approved: BIB range of category 5K (9001-9001) is used up" in text
    assert "extend the range" in text and "error.bib_range_exhausted" not in text
    r = client.post(
        "/admin/statements/approve-exact", data={"event_id": seeded.event_id, "csrf_token": token}
    )
    assert "Approving 1 exact matches in the background" in r.text
    page = f"/admin/statements?event_id={seeded.event_id}"
    wait_until(lambda: "0 approved, 1 failed" in client.get(page).text, what="bulk outcome")
    assert "(first: BIB range of category 5K" in html.unescape(client.get(page).text)
    with get_sessionmaker()() as session:
        reg = session.get(Registration, reg_id)
        assert reg.status == RegistrationStatus.PENDING_PAYMENT and not reg.amount_received
        assert session.get(StatementLine, line_id).status == "unmatched"
        assert not session.scalars(select(Payment).where(Payment.registration_id == reg_id)).all()
        assert not session.scalars(
            select(OutboundMessage).where(OutboundMessage.registration_id == reg_id)
        ).all()


def test_queue_shows_the_total_a_group_photo_should_cover(client_for, seeded) -> None:
    with unit_of_work() as uow:
        event = uow.session.get(Event, seeded.event_id)
        a, b = (f.make_registration(uow.session, event) for _ in range(2))
        total = a.amount_due + b.amount_due
        payment = f.make_payment(
            uow.session, a, flags={"group": [a.id, b.id], "group_total": total}
        )
        payment_id = payment.id
    client, _ = client_for("verifier")
    page = client.get(f"/admin/queue?payment={payment_id}").text
    shown = f"Rp{total:,}".replace(",", ".")
    with get_sessionmaker()() as session:
        numbers = [session.get(Registration, i).number for i in (a.id, b.id)]
    assert f"Satu foto untuk 2 pendaftaran: {numbers[0]}, {numbers[1]}." in page and shown in page
    assert "group total" not in page, "not repeated as a raw flag"


def test_credit_of_a_photo_approved_registration_is_already_paid_not_unmatched(
    client_for, seeded
) -> None:
    reg_id, amount, account_id = _setup(seeded.event_id)
    with unit_of_work() as uow:
        reg = uow.session.get(Registration, reg_id)
        reg.status = RegistrationStatus.PAID  # approved from its transfer photo earlier
        number = reg.number
    client, token = client_for("admin")
    r = _upload(client, token, seeded.event_id, account_id, BNI.format(amount=amount), "bni")
    page = html.unescape(r.text)
    assert "Sudah lunas (foto disetujui) (1)" in page and number in page
    with get_sessionmaker()() as session:
        line_id = session.scalars(select(StatementLine.id)).one()
    r = client.post(
        f"/admin/statements/lines/{line_id}/approve",
        data={"event_id": seeded.event_id, "registration": number, "csrf_token": token},
    )
    assert r.status_code in (200, 303), r.text[:500]
    page = html.unescape(client.get(f"/admin/statements?event_id={seeded.event_id}").text)
    if "Dana masuk dicatat" not in page:
        page = html.unescape(r.text)
    assert "pendaftaran ini sudah lunas (foto disetujui)" in page
    assert "Baris disetujui" not in page


def test_a_registration_groups_credit_is_shown_as_the_group(client_for, seeded) -> None:
    """DAFTAR GRUP: the leader's one credit equals the combined amount, before any photo."""
    from core.payments import group_payment
    from core.registration import groups, intake

    with unit_of_work() as uow:
        event = uow.session.get(Event, seeded.event_id)
        group = groups.start(uow.session, event_id=event.id, channel="telegram",
                             chat_id=f.random_chat_id(), leader_name="Coach Andi")  # fmt: skip
        for n in range(2):
            answers = {"full_name": f"Club Runner {n}", "gender": "M", "jersey_size": "M",
                       "email": f"club{n}-{f.suffix()}@example.test", "phone": f.random_phone()}  # fmt: skip
            sub = intake.Submission(event_id=event.id, category_code="5K", answers=answers,
                                    channel="telegram", chat_id=group.chat_id)  # fmt: skip
            groups.add_member(uow.session, group, sub, now=utcnow())
        amount = group_payment.assign_group_amount(uow.session, group=group, now=utcnow())
        account_id = uow.session.scalars(
            select(PaymentAccount.id).order_by(PaymentAccount.id)
        ).first()
    client, token = client_for("admin")
    r = _upload(client, token, seeded.event_id, account_id, BNI.format(amount=amount), "bni")
    page = html.unescape(r.text)
    assert "Grup 2 pelari (ketua: Coach Andi)" in page and "Club Runner 1" in page
