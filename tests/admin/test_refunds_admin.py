"""The Refunds page: what is owed, marking one refunded (admins only, CSRF, audited, the runner
told), the CSV export."""

from __future__ import annotations

from sqlalchemy import select

from core.db import get_sessionmaker, unit_of_work, utcnow
from core.enums import RegistrationStatus
from core.fulfilment import paid
from core.models import AuditLog, Event, OutboundMessage, Refund
from core.registration import manage
from tests import factories as f


def _cancelled_paid(event_id: int) -> tuple[int, int]:
    with unit_of_work() as uow:
        event = uow.session.get(Event, event_id)
        reg = f.make_registration(
            uow.session, event, code="10K", status=RegistrationStatus.PENDING_PAYMENT,
            full_name="Dewi =Lestari",
        )  # fmt: skip
        reg.amount_received = reg.amount_due
        paid.mark_paid(uow.session, registration=reg, actor="t", now=utcnow())
        manage.cancel(uow.session, registration_id=reg.id, actor="a", reason="t", now=utcnow())
        refund = uow.session.scalars(select(Refund).where(Refund.registration_id == reg.id)).one()
        return reg.id, refund.id


def test_refunds_are_listed_marked_once_and_exported(client_for, seeded) -> None:
    reg_id, refund_id = _cancelled_paid(seeded.event_id)
    base = f"/admin/events/{seeded.event_id}/refunds"
    verifier, _token = client_for("verifier", "en")
    assert verifier.get(base).status_code == 403
    client, token = client_for("admin", "en")
    page = client.get(base).text
    assert (
        "Dewi =Lestari" in page and "Cancelled" in page and f"{base}/{refund_id}/refunded" in page
    )
    form = {"amount": "200.000", "reference": "TRF-42", "note": "rule: 80%"}
    assert client.post(f"{base}/{refund_id}/refunded", data=form).status_code == 403  # no CSRF
    done = client.post(f"{base}/{refund_id}/refunded", data={**form, "csrf_token": token}).text
    assert "Marked refunded; the runner has been told" in done and "TRF-42" in done
    again = client.post(f"{base}/{refund_id}/refunded", data={**form, "csrf_token": token}).text
    assert "Already closed." in again
    owed_only = client.get(f"{base}?status=owed").text
    assert "No refunds." in owed_only
    _other, waived_id = _cancelled_paid(seeded.event_id)
    closed = client.post(
        f"{base}/{waived_id}/refunded", data={"waive": "1", "note": "rule", "csrf_token": token}
    ).text
    assert "Closed: no refund due." in closed and "no refund due" in closed
    csv = client.get(f"{base}.csv")
    assert csv.status_code == 200 and "text/csv" in csv.headers["content-type"]
    assert "Dewi =Lestari" in csv.text
    assert "200000" in csv.text and "TRF-42" in csv.text
    with get_sessionmaker()() as session:
        refund = session.get(Refund, refund_id)
        assert (refund.status, refund.refunded_amount) == ("refunded", 200_000)
        told = session.scalars(
            select(OutboundMessage).where(
                OutboundMessage.idempotency_key == f"refund:{refund_id}:sent"
            )
        ).one()
        assert "TRF-42" in told.text
        actions = set(session.scalars(select(AuditLog.action)))
        assert {"refund.owed", "refund.marked", "refund.waived", "export.refunds"} <= actions
        assert session.get(Refund, waived_id).status == "waived"
