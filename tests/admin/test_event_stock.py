"""Jersey stock is edited as a table (size / stock / taken), not as SIZE=stock text."""

from __future__ import annotations

from sqlalchemy import select

from core.db import get_sessionmaker
from core.models import JerseyStock


def test_jersey_stock_table_saves_rows_and_skips_empty_ones(client_for, seeded) -> None:
    client, token = client_for("admin")
    r = client.post(
        f"/admin/events/{seeded.event_id}/jersey",
        data={"csrf_token": token, "size": ["m", "XL", ""], "stock": ["1.200", "40", ""]},
    )
    assert r.status_code == 200
    with get_sessionmaker()() as session:
        rows = dict(
            session.execute(
                select(JerseyStock.size, JerseyStock.stock).where(
                    JerseyStock.event_id == seeded.event_id
                )
            ).all()
        )
    assert rows["M"] == 1200 and rows["XL"] == 40
    page = client.get(f"/admin/events/{seeded.event_id}").text
    assert 'id="jersey-stock"' in page and 'name="size" value="XL"' in page
    assert "XL=40" not in page
