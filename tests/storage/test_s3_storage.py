"""core.storage.s3 against moto's S3 server: the same behaviour as local files, keys kept in."""

from __future__ import annotations

import time
from typing import Any

from core import media
from core.config import get_settings
from core.fulfilment import letters
from tests.storage.conftest import BUCKET, bucket_keys


def test_put_get_stream_delete_under_the_prefix(s3_media: Any) -> None:
    media.save("payments/a.jpg", b"jpeg-bytes")
    assert bucket_keys(s3_media) == ["media/payments/a.jpg"]
    assert media.exists("payments/a.jpg") and not media.exists("payments/b.jpg")
    assert b"".join(media.chunks("payments/a.jpg") or []) == b"jpeg-bytes"
    local = media.safe_path("payments/a.jpg")
    assert local is not None and local.read_bytes() == b"jpeg-bytes"  # a cache copy for uploads
    media.delete("payments/a.jpg")
    assert bucket_keys(s3_media) == [] and not local.exists()
    assert media.chunks("payments/a.jpg") is None and media.safe_path("payments/a.jpg") is None


def test_escaping_keys_are_refused_like_missing_objects(s3_media: Any) -> None:
    s3_media.put_object(Bucket=BUCKET, Key="secret.txt", Body=b"outside the prefix")
    for key in ("../secret.txt", "/secret.txt", "a//b", "a\\b", "", None):
        assert media.chunks(key) is None
        assert media.safe_path(key) is None
        assert not media.exists(key)


def test_downloads_are_published_and_swept(s3_media: Any) -> None:
    settings = get_settings()
    scratch = settings.media_dir / "inbound" / "s3-sweep-test.jpg"
    scratch.parent.mkdir(parents=True, exist_ok=True)
    scratch.write_bytes(b"raw")
    media.publish("inbound/s3-sweep-test.jpg")
    assert not scratch.exists()  # nothing left on this machine that another one needs
    assert bucket_keys(s3_media, "inbound/") == ["media/inbound/s3-sweep-test.jpg"]
    assert media.remove_stale_inbound(older_than=3600, now=time.time()) == 0
    assert media.remove_stale_inbound(older_than=3600, now=time.time() + 7200) == 1
    assert bucket_keys(s3_media, "inbound/") == []


def test_letters_go_to_the_bucket(s3_media: Any) -> None:
    relative = letters.new_letter_path()
    letters.save_letter(b"letter-jpeg", relative)
    assert bucket_keys(s3_media, "checkin-letters/") == [f"media/{relative}"]
    letters.discard_letter(relative)
    assert bucket_keys(s3_media, "checkin-letters/") == []
