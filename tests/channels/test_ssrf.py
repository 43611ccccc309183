"""SSRF: provider media URLs to private addresses, other hosts or redirects there are never fetched."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from channels import media
from channels.media import Forbidden, check_url, stream_to_file
from core.config import Settings

ALLOWED = {"api.telegram.org", "fonnte.com"}


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x.jpg",
        "http://localhost:8000/x.jpg",
        "http://10.0.0.5/x.jpg",
        "http://192.168.1.1/x.jpg",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/x.jpg",
        "http://2130706433/x.jpg",  # 127.0.0.1 as a decimal
        "http://fonnte.com.evil.example/x.jpg",
        "http://evilfonnte.com/x.jpg",
        "file:///etc/passwd",
        "gopher://fonnte.com/x",
        "not a url",
    ],
)
def test_refused(url: str) -> None:
    with pytest.raises(Forbidden):
        check_url(url, ALLOWED)


def test_names_resolving_inside_are_detected() -> None:
    # An allowed suffix is still resolved: a provider-looking name that points at loopback or a
    # private address is refused unless that exact host is listed.
    assert media._resolves_inside("localhost", 80)
    assert media._resolves_inside("127.0.0.1", 80)
    assert not media._resolves_inside("8.8.8.8", 443)


def test_provider_bases_are_allowed_explicitly() -> None:
    settings = Settings(
        telegram_api_base="http://127.0.0.1:9999", fonnte_api_base="https://api.fonnte.com"
    )
    hosts = media.allowed_hosts(settings)
    assert {"127.0.0.1", "api.telegram.org", "fonnte.com", "api.fonnte.com"} <= hosts
    check_url("http://127.0.0.1:9999/file/x.jpg", hosts)  # the listed fake itself: fine


class _Redirector(BaseHTTPRequestHandler):
    target = ""
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802
        _Redirector.hits.append(self.path)
        if self.path == "/ok.jpg":
            self.send_response(200)
            self.send_header("Content-Length", "3")
            self.end_headers()
            self.wfile.write(b"abc")
            return
        self.send_response(302)
        self.send_header("Location", _Redirector.target)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def redirector() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Redirector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Redirector.hits = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    "target", ["http://169.254.169.254/latest/meta-data/", "http://localhost:1/x", "/ok.jpg"]
)
def test_redirects_are_checked_hop_by_hop(redirector: str, tmp_path: Path, target: str) -> None:
    _Redirector.target = target
    with httpx.Client(follow_redirects=True) as client:  # like channels.outbound's client
        if target == "/ok.jpg":  # a redirect within the allowed host is followed
            size = stream_to_file(
                client, redirector + "/r", tmp_path / "a.jpg", max_bytes=10, allowed={"127.0.0.1"}
            )
            assert size == 3 and _Redirector.hits == ["/r", "/ok.jpg"]
            return
        with pytest.raises(Forbidden):
            stream_to_file(
                client, redirector + "/r", tmp_path / "a.jpg", max_bytes=10, allowed={"127.0.0.1"}
            )
    assert _Redirector.hits == ["/r"] and not (tmp_path / "a.jpg").exists()


def test_private_url_is_never_requested(redirector: str, tmp_path: Path) -> None:
    with httpx.Client() as client, pytest.raises(Forbidden):
        stream_to_file(
            client, redirector + "/ok.jpg", tmp_path / "b.jpg", max_bytes=10, allowed=ALLOWED
        )
    assert _Redirector.hits == []
