"""MEDIA_URL=s3://...: a Telegram photo lands in the bucket, the admin streams it, the ticket too.

The real app over HTTP, the real worker, PostgreSQL and Redis, the fake Telegram, and moto's S3
server on loopback. MEDIA_DIR is an empty scratch folder: nothing durable may be written there.
"""

from __future__ import annotations

from contextlib import closing
from typing import Any

import httpx
from sqlalchemy import select

from core.db import get_sessionmaker
from core.enums import Role
from core.models import PaymentImage
from tests.e2e.conftest import staff_login
from tests.e2e.test_full_journey import (
    PASSWORD,
    TelegramRunner,
    approve_in_admin,
    make_staff,
    pay,
    receive_ticket,
    register,
)
from tests.qr import decode_qr
from tests.storage.conftest import BUCKET, bucket_keys, s3_endpoint, s3_media  # noqa: F401


def _durable_local_files(media_dir: Any) -> list[str]:
    """Files under MEDIA_DIR other than the disposable read cache."""
    return [
        str(p.relative_to(media_dir))
        for p in media_dir.rglob("*")
        if p.is_file() and ".s3-cache" not in p.parts
    ]


def test_photo_and_ticket_live_in_the_bucket(
    s3_media: Any,  # noqa: F811  (the fixture imported above)
    live_server: str,
    fake_telegram: Any,
) -> None:
    from core.config import get_settings

    media_dir = get_settings().media_dir
    with httpx.Client(base_url=live_server, timeout=15) as http:
        runner = TelegramRunner(http, fake_telegram)
        reg = register(runner)
        pay(runner, reg)

    [photo_key] = bucket_keys(s3_media, "payments/")
    assert bucket_keys(s3_media, "inbound/") == []  # the raw download was checked and dropped
    assert _durable_local_files(media_dir) == []
    with get_sessionmaker()() as session:
        image = session.scalars(select(PaymentImage)).one()
    assert photo_key == f"media/{image.path}"

    stored = s3_media.get_object(Bucket=BUCKET, Key=photo_key)["Body"].read()
    make_staff("verifier@example.com", Role.VERIFIER)
    client, _ = staff_login(live_server, "verifier@example.com", PASSWORD)
    with closing(client):
        r = client.get(f"/admin/media/payment-images/{image.id}")
    assert r.status_code == 200 and r.content == stored
    assert r.headers["cache-control"] == "private, no-store"
    assert r.headers["content-type"] == "image/jpeg"
    assert httpx.get(f"{live_server}/admin/media/payment-images/{image.id}").status_code in (
        401,
        403,
        303,
    )

    approve_in_admin(live_server)
    token = receive_ticket(runner)
    [ticket_key] = bucket_keys(s3_media, "tickets/")
    ticket = s3_media.get_object(Bucket=BUCKET, Key=ticket_key)["Body"].read()
    assert decode_qr(ticket) == token
    assert _durable_local_files(media_dir) == []
