"""The admin's waiting-list page: admins only, CSRF, reorder, skip (a held slot moves on), offer by hand."""

from __future__ import annotations

from sqlalchemy import select

from core.db import unit_of_work, utcnow
from core.models import AuditLog, Event, OutboundMessage
from core.models.waitlist import WaitlistEntry
from core.registration import waitlist
from tests import factories as f


def _seed(event_id: int, runners: int = 3, free: int = 0) -> list[int]:
    """``runners`` waiting for a full 5K (``free`` slots left); return their entry ids."""
    with unit_of_work() as uow:
        event = uow.session.get(Event, event_id)
        assert event is not None
        cat = f.category(uow.session, event, "5K")
        cat.quota = cat.slots_taken + free
        ids = []
        for n in range(runners):
            chat = {"channel": "telegram", "chat_id": f.random_chat_id(),
                    "conversation_id": None, "language": "id", "name": f"Runner {n}"}  # fmt: skip
            joined = waitlist.join(uow.session, category=cat, jersey_size=None, chat=chat,
                                   answers={"category": "5K"}, now=utcnow())  # fmt: skip
            ids.append(joined.entry.id)
        return ids


def _statuses(ids: list[int]) -> list[tuple[str, int]]:
    with unit_of_work() as uow:
        rows = {e.id: e for e in uow.session.scalars(select(WaitlistEntry))}
        return [(rows[i].status, rows[i].position) for i in ids]


def test_only_admins_see_and_change_the_waiting_list(client_for, seeded) -> None:  # noqa: ANN001
    [entry] = _seed(seeded.event_id, runners=1)
    base = f"/admin/events/{seeded.event_id}/waitlist"
    client, csrf = client_for("verifier")
    assert client.get(base).status_code == 403
    assert client.post(f"{base}/{entry}/skip", data={"csrf_token": csrf}).status_code == 403
    admin, csrf = client_for("admin", lang="en")
    page = admin.get(base)
    assert page.status_code == 200 and "Runner 0" in page.text and "waiting" in page.text
    r = admin.post(f"{base}/{entry}/skip", data={}, follow_redirects=False)
    assert r.status_code in (400, 403)  # no CSRF token: refused
    assert _statuses([entry]) == [("waiting", 1)]


def test_reorder_skip_and_offer_by_hand_are_audited(client_for, seeded) -> None:  # noqa: ANN001
    a, b, c = _seed(seeded.event_id, runners=3, free=1)
    base = f"/admin/events/{seeded.event_id}/waitlist"
    admin, csrf = client_for("admin", lang="id")
    r = admin.post(f"{base}/{c}/up", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    assert _statuses([a, b, c]) == [("waiting", 1), ("waiting", 3), ("waiting", 2)]
    admin.post(f"{base}/{c}/offer", data={"csrf_token": csrf})
    assert _statuses([c])[0][0] == "offered"
    page = admin.post(f"{base}/{a}/offer", data={"csrf_token": csrf}).text  # no slot left
    assert "Tidak ada slot kosong" in page
    admin.post(f"{base}/{c}/skip", data={"csrf_token": csrf})  # its held slot goes to the first
    assert [s for s, _p in _statuses([a, b, c])] == ["offered", "waiting", "skipped"]
    with unit_of_work() as uow:
        actions = {row.action for row in uow.session.scalars(select(AuditLog))}
        offers = uow.session.scalars(select(OutboundMessage)).all()
    assert {"waitlist.moved", "waitlist.offered", "waitlist.skipped"} <= actions
    assert len(offers) == 2  # the hand offer and the automatic one after the skip
    r = admin.post(f"{base}/hold", data={"csrf_token": csrf, "hours": "6"})
    assert "Masa tahan disimpan" in r.text
    with unit_of_work() as uow:
        assert uow.session.get(Event, seeded.event_id).waitlist_hold_hours == 6
