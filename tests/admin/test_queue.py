"""The verification queue over HTTP: approve, reject, double approval, escaping."""

from __future__ import annotations

from sqlalchemy import func, select

from core.db import get_sessionmaker, unit_of_work
from core.models import AuditLog, Event, Payment, Registration
from tests import factories as f

XHR = {"accept": "application/json", "x-requested-with": "XMLHttpRequest"}


def make_waiting(event_id: int, **kwargs: object) -> tuple[int, int]:
    with unit_of_work() as uow:
        event = uow.session.get(Event, event_id)
        reg = f.make_registration(uow.session, event, **kwargs)
        return reg.id, f.make_payment(uow.session, reg).id


def test_queue_shows_oldest_first_with_amount_and_warning(client_for, seeded) -> None:
    _, first = make_waiting(seeded.event_id, unique_code=123)
    other_reg, other = make_waiting(seeded.event_id)
    match = {"payment_id": other, "registration_id": other_reg, "match": "phash", "distance": 2}
    with unit_of_work() as uow:
        uow.session.get(Payment, first).flags = {"duplicate_of": [other], "duplicates": [match]}
        number = uow.session.get(Registration, other_reg).number
    client, _ = client_for("verifier")
    html = client.get("/admin/queue").text
    assert f'data-payment-id="{first}"' in html
    assert '<span class="code" title="Kode unik 123">123</span>' in html
    # How similar and to which registration NUMBER, never a database id.
    assert f"Sangat mirip dengan tangkapan layar {number} (119 dari 121 titik sama)" in html
    assert "2</span> waiting" in html or "2</span> menunggu" in html


def test_approve_then_second_verifier_sees_who_was_first(client_for, seeded, broker) -> None:
    reg_id, payment_id = make_waiting(seeded.event_id)
    one, token_one = client_for("verifier")
    two, token_two = client_for("admin")
    r = one.post(
        f"/admin/payments/{payment_id}/approve", headers={**XHR, "x-csrf-token": token_one}
    )
    assert r.status_code == 200 and r.json()["changed"] is True, r.text
    r = two.post(
        f"/admin/payments/{payment_id}/approve", headers={**XHR, "x-csrf-token": token_two}
    )
    body = r.json()
    assert body["changed"] is False and "Sudah disetujui oleh" in body["message"]
    assert seeded.emails["verifier"] in body["message"]
    with get_sessionmaker()() as session:
        assert session.get(Registration, reg_id).status == "paid"
        approvals = session.scalar(
            select(func.count()).where(AuditLog.action == "payment.approved")
        )
        assert approvals == 1
    assert broker.queues  # the e-ticket message was enqueued after commit


def test_reject_with_preset_reason_and_free_text(client_for, seeded, broker) -> None:
    _, first = make_waiting(seeded.event_id)
    _, second = make_waiting(seeded.event_id)
    client, token = client_for("verifier", lang="en")
    headers = {**XHR, "x-csrf-token": token}
    r = client.post(
        f"/admin/payments/{first}/reject", data={"reason": "unreadable"}, headers=headers
    )
    assert r.json()["ok"] is True, r.text
    r = client.post(
        f"/admin/payments/{second}/reject",
        data={"reason": "other", "note": "Transfer ke rekening lain"},
        headers=headers,
    )
    assert r.json()["ok"] is True
    with get_sessionmaker()() as session:
        assert session.get(Payment, first).reject_reason == "unreadable"
        assert session.get(Payment, second).reject_reason == "Transfer ke rekening lain"
    _, third = make_waiting(seeded.event_id)
    assert client.post(f"/admin/payments/{third}/approve", headers=headers).json()["changed"]
    r = client.post(
        f"/admin/payments/{third}/reject", data={"reason": "unreadable"}, headers=headers
    )
    assert r.status_code == 409 and "Already approved" in r.json()["message"]


def test_next_item_fragment_moves_on(client_for, seeded) -> None:
    _, first = make_waiting(seeded.event_id)
    _, second = make_waiting(seeded.event_id)
    client, _ = client_for("verifier", lang="en")
    html = client.get(f"/admin/queue/item?current={first}&step=next").text
    assert f'data-payment-id="{second}"' in html
    html = client.get(f"/admin/queue/item?current={second}&step=prev").text
    assert f'data-payment-id="{first}"' in html


def test_runner_text_is_escaped(client_for, seeded) -> None:
    reg_id, _ = make_waiting(seeded.event_id, full_name="<script>alert(1)</script>")
    client, _ = client_for("verifier", lang="en")
    for path in ("/admin/queue", f"/admin/registrations/{reg_id}", "/admin/registrations?q=script"):
        html = client.get(path).text
        assert "<script>alert(1)</script>" not in html, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, path


def _group_photo(event_id: int, size: int = 2) -> tuple[list[int], list[int], int]:
    """``size`` registrations paid with one photo (each has a payment flagged with the group)."""
    with unit_of_work() as uow:
        event = uow.session.get(Event, event_id)
        regs = [f.make_registration(uow.session, event) for _ in range(size)]
        group = [r.id for r in regs]
        total = sum(r.amount_due for r in regs)
        flags = {"group": group, "group_total": total}
        payments = [f.make_payment(uow.session, r, flags=dict(flags)).id for r in regs]
        return group, payments, total


def test_a_group_photo_is_one_item_and_one_approval_pays_the_group(client_for, seeded) -> None:
    group, payments, _total = _group_photo(seeded.event_id)
    _single_reg, single = make_waiting(seeded.event_id)
    client, token = client_for("verifier", lang="en")
    page = client.get("/admin/queue").text
    assert '<span id="pending-count">2</span>' in page, "the group counts once"
    assert f'data-payment-id="{payments[0]}"' in page and "whole group" in page
    # Next from the group goes to the single payment, never to the group's second member.
    nxt = client.get(f"/admin/queue/item?current={payments[0]}&step=next").text
    assert f'data-payment-id="{single}"' in nxt
    back = client.get(f"/admin/queue/item?current={single}&step=next").text
    assert f'data-payment-id="{payments[0]}"' in back
    # Opening the second member shows the group's item.
    assert (
        f'data-payment-id="{payments[0]}"' in client.get(f"/admin/queue?payment={payments[1]}").text
    )
    r = client.post(
        f"/admin/payments/{payments[0]}/approve", headers={**XHR, "x-csrf-token": token}
    )
    assert r.json()["ok"] and "2 registrations of this photo approved" in r.json()["message"]
    with get_sessionmaker()() as session:
        statuses = [session.get(Registration, i).status for i in group]
        assert statuses == ["paid", "paid"]


def test_rejecting_a_group_photo_rejects_every_registration_on_it(client_for, seeded) -> None:
    _group, payments, _total = _group_photo(seeded.event_id, size=3)
    client, token = client_for("verifier", lang="en")
    r = client.post(
        f"/admin/payments/{payments[0]}/reject",
        data={"reason": "amount_mismatch", "note": ""},
        headers={**XHR, "x-csrf-token": token},
    )
    assert r.json()["ok"], r.text
    with get_sessionmaker()() as session:
        assert {session.get(Payment, i).status for i in payments} == {"rejected"}
