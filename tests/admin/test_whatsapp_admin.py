"""Admin: each event's WhatsApp number (Fonnte or Cloud API) and the waiting messages count."""

from __future__ import annotations

from sqlalchemy import select

from core.db import get_sessionmaker, unit_of_work
from core.enums import Channel, OutboundStatus
from core.events import whatsapp as event_whatsapp
from core.messages import Reply
from core.messaging import outbox
from core.models import AuditLog, Event


def _provider(event_id: int) -> str:
    with get_sessionmaker()() as session:
        return session.get(Event, event_id).whatsapp_provider


def test_each_event_chooses_its_whatsapp_number(client_for, seeded) -> None:
    client, token = client_for("admin", lang="en")
    page = client.get(f"/admin/events/{seeded.event_id}").text
    assert 'name="provider" value="cloud"' in page and _provider(seeded.event_id) == "fonnte"
    r = client.post(
        f"/admin/events/{seeded.event_id}/whatsapp", data={"provider": "cloud", "csrf_token": token}
    )
    assert "WhatsApp number saved." in r.text
    assert _provider(seeded.event_id) == "cloud"
    with unit_of_work() as uow:
        event = uow.session.get(Event, seeded.event_id)
        assert event_whatsapp.channel_of(event) is Channel.WHATSAPP_CLOUD
        actions = uow.session.scalars(select(AuditLog.action)).all()
    assert "event.whatsapp_provider" in actions
    bad = client.post(
        f"/admin/events/{seeded.event_id}/whatsapp",
        data={"provider": "telegram", "csrf_token": token},
    )
    assert "WhatsApp number not changed" in bad.text and _provider(seeded.event_id) == "cloud"


def test_an_unconfigured_provider_is_refused(client_for, seeded, monkeypatch) -> None:
    from core.config import get_settings

    monkeypatch.delenv("WHATSAPP_TOKEN", raising=False)
    monkeypatch.setenv("WHATSAPP_TOKEN", "")
    get_settings.cache_clear()
    client, token = client_for("admin", lang="en")
    r = client.post(
        f"/admin/events/{seeded.event_id}/whatsapp", data={"provider": "cloud", "csrf_token": token}
    )
    assert "cloud is not configured" in r.text and _provider(seeded.event_id) == "fonnte"
    assert "not configured" in client.get(f"/admin/events/{seeded.event_id}").text
    get_settings.cache_clear()


def test_csrf_is_required(client_for, seeded) -> None:
    client, _ = client_for("admin", lang="en")
    r = client.post(f"/admin/events/{seeded.event_id}/whatsapp", data={"provider": "cloud"})
    assert r.status_code in (400, 403) and _provider(seeded.event_id) == "fonnte"


def test_operations_counts_messages_waiting_for_the_runner(client_for, seeded) -> None:
    with unit_of_work() as uow:
        for n in range(2):
            row = outbox.write(
                uow.session, channel=Channel.WHATSAPP_CLOUD.value, recipient=f"62811{n}",
                reply=Reply("Pengingat"), idempotency_key=f"wait:{n}",
            )  # fmt: skip
            row.status = OutboundStatus.WAITING.value
            row.error = "waiting: outside the 24-hour window, no template for payment_reminder"
    client, _ = client_for("admin", lang="en")
    card = client.get("/admin/operations").text.split('id="wa-waiting"', 1)[1][:400]
    assert '<div class="stat">2</div>' in card
    assert "2 × outside the 24-hour window, no template for payment_reminder" in card
