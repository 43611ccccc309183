"""Media in an S3-compatible bucket (MEDIA_URL=s3://bucket/prefix): AWS, R2, MinIO, Spaces...

boto3 is imported lazily, so a local-files install never loads it. The bucket stays private: staff
see photos streamed through the admin, runners get tickets sent by the workers; no object URL is
ever handed out.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from core.errors import StorageUnavailable
from core.storage import clean_key

CHUNK = 64 * 1024
_MISSING = ("404", "NoSuchKey", "NotFound")


def parse_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` -> ("bucket", "some/prefix/")."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise ValueError("MEDIA_URL must look like s3://bucket/prefix")
    prefix = parts.path.strip("/")
    return parts.netloc, f"{prefix}/" if prefix else ""


class S3Storage:
    def __init__(self, url: str, *, client: Any = None, **client_options: Any) -> None:
        self.bucket, self.prefix = parse_url(url)
        self.client = client or _client(**client_options)

    def _key(self, key: str | None) -> str | None:
        safe = clean_key(key)
        return None if safe is None else self.prefix + safe

    def put(self, key: str, data: bytes) -> None:
        full = self._key(key)
        if full is None:
            raise ValueError("unsafe media key")
        from botocore.exceptions import BotoCoreError, ClientError

        # PUT is atomic in S3: readers see the old object, none, or the whole new one.
        try:
            self.client.put_object(Bucket=self.bucket, Key=full, Body=data)
        except (BotoCoreError, ClientError) as exc:  # unreachable, quota, refused...
            raise StorageUnavailable(f"s3 put failed: {type(exc).__name__}") from exc

    def get(self, key: str) -> bytes | None:
        body = self._body(key)
        if body is None:
            return None
        with body:
            return body.read()

    def chunks(self, key: str) -> Iterator[bytes] | None:
        body = self._body(key)
        return None if body is None else _stream(body)

    def exists(self, key: str) -> bool:
        full = self._key(key)
        if full is None:
            return False
        try:
            self.client.head_object(Bucket=self.bucket, Key=full)
        except self.client.exceptions.ClientError as exc:
            if _missing(exc):
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        full = self._key(key)
        if full is not None:
            self.client.delete_object(Bucket=self.bucket, Key=full)

    def listing(self, prefix: str) -> Iterator[tuple[str, float]]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix + prefix
        )
        for page in pages:
            for item in page.get("Contents", ()):
                yield item["Key"][len(self.prefix) :], item["LastModified"].timestamp()

    def _body(self, key: str | None) -> Any:
        full = self._key(key)
        if full is None:
            return None
        try:
            return self.client.get_object(Bucket=self.bucket, Key=full)["Body"]
        except self.client.exceptions.ClientError as exc:
            if _missing(exc):
                return None
            raise


def _missing(exc: Any) -> bool:
    return str(exc.response.get("Error", {}).get("Code")) in _MISSING


def _stream(body: Any) -> Iterator[bytes]:
    with body:
        yield from body.iter_chunks(CHUNK)


def _client(**options: Any) -> Any:
    import boto3  # lazy: only S3 deployments need it
    from botocore.config import Config

    config = Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=5)
    clean = {name: value for name, value in options.items() if value}
    return boto3.client("s3", config=config, **clean)
