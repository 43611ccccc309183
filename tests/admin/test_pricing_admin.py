"""The admin's price tiers (on the category form) and vouchers page: admins only, audited, exports."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from core.db import unit_of_work
from core.models import AuditLog, Category, PriceTier, Voucher
from core.registration import intake
from tests.core.test_pricing import submission
from tests.factories import NOW


def _category_id(event_id: int, code: str = "10K") -> int:
    with unit_of_work() as uow:
        return uow.session.scalars(
            select(Category.id).where(Category.event_id == event_id, Category.code == code)
        ).one()


def test_tiers_are_saved_on_the_category_form_and_edited_in_place(client_for, seeded) -> None:  # noqa: ANN001
    client, csrf = client_for("admin", lang="en")
    cat = _category_id(seeded.event_id)
    url = f"/admin/events/{seeded.event_id}/categories/{cat}/tiers"
    form = {
        "csrf_token": csrf,
        "tier_id": ["", ""],
        "name": ["early bird", "normal"],
        "name_en": ["", ""],
        "price": ["180.000", "220000"],
        "last_day": ["2027-01-15", ""],
        "max_sold": ["500", ""],
    }
    r = client.post(url, data=form, follow_redirects=False)
    assert r.status_code == 303
    with unit_of_work() as uow:
        tiers = uow.session.scalars(select(PriceTier).order_by(PriceTier.sort_order)).all()
        assert [(t.name, t.price, t.max_sold) for t in tiers] == [
            ("early bird", 180_000, 500),
            ("normal", 220_000, None),
        ]
        assert tiers[0].ends_at.isoformat() == "2027-01-15T17:00:00+00:00"  # 16 Jan 00:00 WIB
        early_id = tiers[0].id
    page = client.get(f"/admin/events/{seeded.event_id}").text
    assert "Price tiers" in page and 'value="2027-01-15"' in page
    # Edit the early bird in place (same id), remove "normal".
    normal_id = early_id + 1
    form |= {"tier_id": [str(early_id), str(normal_id)], "max_sold": ["300", ""]}
    form["remove"] = [str(normal_id)]
    client.post(url, data=form)
    with unit_of_work() as uow:
        [tier] = uow.session.scalars(select(PriceTier)).all()
        assert tier.id == early_id and tier.max_sold == 300
        saved = uow.session.scalar(
            select(func.count()).where(AuditLog.action == "category.tiers_saved")
        )
        assert saved == 2
    bad = client.post(url, data=form | {"price": ["-5", ""]}, follow_redirects=True)
    assert "A tier needs a price of 0 or more" in bad.text, re.findall(
        r"flash[^>]*>([^<]*)", bad.text
    )


def test_vouchers_page_creates_generates_exports_disables_and_keeps_redeemed_codes(
    client_for,  # noqa: ANN001
    seeded,  # noqa: ANN001
) -> None:
    client, csrf = client_for("admin")
    base = f"/admin/events/{seeded.event_id}/vouchers"
    terms = {"kind": "amount", "value": "50000", "max_uses": "10", "csrf_token": csrf}
    r = client.post(base, data=terms | {"code": "laripagi", "note": "=HYPERLINK(1)"})
    assert "Kode LARIPAGI dibuat." in r.text  # Indonesian by default
    r = client.post(
        f"{base}/generate",
        data=terms | {"prefix": "club", "count": "25", "categories": ["10K"], "max_uses": "1"},
    )
    assert "25 kode dibuat" in r.text
    with unit_of_work() as uow:
        codes = uow.session.scalars(select(Voucher).order_by(Voucher.id)).all()
        assert len(codes) == 26 and codes[1].categories == ["10K"]
        one = codes[0]
        intake.submit(
            uow.session, submission=submission(seeded.event_id, voucher_code="LARIPAGI"), now=NOW
        )
    page = client.get(base).text
    assert "LARIPAGI" in page and "Rp50.000" in page
    csv = client.get(f"{base}/export.csv").text
    assert csv.count("\n") == 27 and "'=HYPERLINK(1)" in csv
    assert client.get(f"{base}/export.xlsx").status_code == 200
    r = client.post(f"{base}/{one.id}/delete", data={"csrf_token": csrf})
    assert "tidak bisa dihapus" in r.text
    client.post(f"{base}/{one.id}/active", data={"csrf_token": csrf, "active": "0"})
    with unit_of_work() as uow:
        assert uow.session.get(Voucher, one.id).active is False
        actions = set(uow.session.scalars(select(AuditLog.action)))
    assert {"voucher.created", "voucher.generated", "voucher.disabled"} <= actions


def test_only_admins_see_or_change_prices_and_codes(client_for, seeded) -> None:  # noqa: ANN001
    client, csrf = client_for("verifier")
    base = f"/admin/events/{seeded.event_id}"
    assert client.get(f"{base}/vouchers").status_code == 403
    r = client.post(f"{base}/vouchers", data={"csrf_token": csrf, "code": "X", "value": "1"})
    assert r.status_code == 403
    cat = _category_id(seeded.event_id)
    r = client.post(f"{base}/categories/{cat}/tiers", data={"csrf_token": csrf})
    assert r.status_code == 403
    with unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Voucher)) == 0
