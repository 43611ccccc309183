"""The Cloud API sender against the fake Graph API: text, list, buttons, images, errors, media."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from channels.media import DownloadError, TooLarge
from channels.whatsapp import outbound as wa
from core.config import get_settings
from core.errors import (
    ChannelError,
    ChannelOutsideWindow,
    ChannelPermanent,
    ChannelRateLimited,
    ChannelStopped,
)
from tests.fakes.graph_api import FakeGraph

TO = "6281298765432"
CATEGORIES = [
    {
        "label": f"{code} — Fun Run {code}, {code[:-1]} km — Rp{150 + n}.000 (sisa {n} slot)",
        "value": code,
    }
    for n, code in enumerate(["5K", "10K", "21K", "42K"], start=1)
]
SUMMARY = [
    {"label": "Ya, daftarkan", "value": "1"},
    {"label": "Ubah data", "value": "2"},
    {"label": "Batal", "value": "3"},
]


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


def test_text_has_preview_off_and_the_bearer_token(
    fake_graph: FakeGraph, http: httpx.Client
) -> None:
    wamid = wa.send(http, get_settings(), to=TO, text="Halo *Budi* https://x.example")
    (sent,) = fake_graph.to(TO)
    assert wamid == sent.id and wamid.startswith("wamid.")
    assert sent.body["type"] == "text"
    assert sent.body["text"] == {"body": "Halo *Budi* https://x.example", "preview_url": False}
    assert sent.body["messaging_product"] == "whatsapp"


def test_four_to_ten_choices_are_an_interactive_list(
    fake_graph: FakeGraph, http: httpx.Client
) -> None:
    wa.send(http, get_settings(), to=TO, text="Pilih *kategori*:", choices=CATEGORIES)
    (sent,) = fake_graph.to(TO)
    block = sent.body["interactive"]
    assert block["type"] == "list"
    assert block["action"]["button"] == "Pilih"
    (section,) = block["action"]["sections"]
    assert section["title"] == "Pilihan"
    rows = section["rows"]
    assert [r["id"] for r in rows] == ["5K", "10K", "21K", "42K"]  # the option comes back
    assert rows[0]["title"] == "1. 5K"
    assert rows[0]["description"].startswith("Fun Run 5K")
    assert all(len(r["title"]) <= 24 and len(r.get("description", "")) <= 72 for r in rows)
    # The numbered fallback stays in the body: typing "2" still works.
    assert "2. 10K — Fun Run 10K" in block["body"]["text"]
    assert "1-4" in block["body"]["text"]


def test_up_to_three_choices_are_reply_buttons(fake_graph: FakeGraph, http: httpx.Client) -> None:
    wa.send(http, get_settings(), to=TO, text="Ringkasan", choices=SUMMARY, language="en")
    (sent,) = fake_graph.to(TO)
    block = sent.body["interactive"]
    assert block["type"] == "button"
    buttons = block["action"]["buttons"]
    assert [b["reply"]["id"] for b in buttons] == ["1", "2", "3"]
    assert [b["reply"]["title"] for b in buttons] == [
        "1. Ya, daftarkan",
        "2. Ubah data",
        "3. Batal",
    ]
    assert all(len(b["reply"]["title"]) <= 20 for b in buttons)
    assert "Tap an option or reply with a number *1-3*" in block["body"]["text"]


def test_long_labels_are_cut_within_metas_limits() -> None:
    long = [{"label": "X" * 40 + " — " + "d" * 100, "value": "v" * 300} for _ in range(5)]
    block = wa.interactive("Pilih", long, language="id")
    assert block is not None
    for row in block["action"]["sections"][0]["rows"]:
        assert len(row["title"]) <= 24 and len(row["description"]) <= 72 and len(row["id"]) <= 200
    buttons = wa.interactive("Pilih", long[:2], language="id")
    assert buttons is not None
    assert all(len(b["reply"]["title"]) <= 20 for b in buttons["action"]["buttons"])


def test_more_than_ten_choices_keep_the_first_nine_and_the_last_as_rows() -> None:
    many = [{"label": f"Opsi {n}", "value": str(n)} for n in range(1, 14)]  # like the summary
    payload = wa.message_payload(TO, "Ringkasan", many)
    rows = payload["interactive"]["action"]["sections"][0]["rows"]
    assert [r["id"] for r in rows] == [*(str(n) for n in range(1, 10)), "13"]
    assert "12. Opsi 12" in payload["interactive"]["body"]["text"]  # still typeable


def test_a_long_body_falls_back_to_numbered_text() -> None:
    payload = wa.message_payload(TO, "x" * 1100, SUMMARY)
    assert payload["type"] == "text"
    contact_only = [{"label": "Kirim kontak", "value": "contact", "request_contact": True}]
    assert wa.message_payload(TO, "Nomor WA?", contact_only)["text"]["body"] == "Nomor WA?"


def test_an_image_is_uploaded_once_and_sent_by_media_id(
    fake_graph: FakeGraph, http: httpx.Client, tmp_path: Path
) -> None:
    photo = tmp_path / "ticket.png"
    photo.write_bytes(b"\x89PNG ticket")
    for _ in range(2):
        wa.send(http, get_settings(), to=TO, text="Tiket *BIB 1001*", photo=photo)
    assert list(fake_graph.uploads.values()) == [b"\x89PNG ticket"]
    first, second = fake_graph.to(TO)
    (media_id,) = fake_graph.uploads
    assert first.body["image"] == {"id": media_id, "caption": "Tiket *BIB 1001*"}
    assert second.body["image"]["id"] == media_id


def test_a_template_carries_its_parameters_and_image_header(
    fake_graph: FakeGraph, http: httpx.Client, tmp_path: Path
) -> None:
    photo = tmp_path / "t.png"
    photo.write_bytes(b"png")
    template = {"name": "funrun_ticket", "language": "id", "params": ["Budi", "Jakarta Run"]}
    fake_graph.closed_windows.add(TO)  # templates go out even outside the window
    wa.send(http, get_settings(), to=TO, text="ignored", photo=photo, template=template)
    (sent,) = fake_graph.to(TO)
    body = sent.body["template"]
    assert body["name"] == "funrun_ticket" and body["language"] == {"code": "id"}
    header, params = body["components"]
    assert header["parameters"][0]["image"]["id"] in fake_graph.uploads
    assert [p["text"] for p in params["parameters"]] == ["Budi", "Jakarta Run"]


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (130429, ChannelRateLimited),
        (131056, ChannelRateLimited),
        (131047, ChannelOutsideWindow),
        (190, ChannelStopped),
        (10, ChannelStopped),
        (131026, ChannelPermanent),
        (100, ChannelPermanent),
        (131000, ChannelError),
    ],
)
def test_error_codes_are_classified(
    fake_graph: FakeGraph, http: httpx.Client, code: int, error: type[Exception]
) -> None:
    fake_graph.fail_next(code)
    with pytest.raises(error) as raised:
        wa.send(http, get_settings(), to=TO, text="x")
    assert type(raised.value) is error
    assert f"#{code}" in str(raised.value)


def test_rate_limits_say_how_long_to_wait() -> None:
    pair = wa.classify(400, {"error": {"code": 131056, "message": "pair"}})
    assert isinstance(pair, ChannelRateLimited) and pair.retry_after == 6.0
    throughput = wa.classify(429, {"error": {"code": 130429}}, retry_after="3")
    assert isinstance(throughput, ChannelRateLimited) and throughput.retry_after == 3.0
    assert type(wa.classify(502, {})) is ChannelError
    assert type(wa.classify(401, {})) is ChannelStopped


def test_a_wrong_token_is_stopped(fake_graph: FakeGraph, http: httpx.Client) -> None:
    fake_graph.token = "another-token"
    with pytest.raises(ChannelStopped):
        wa.send(http, get_settings(), to=TO, text="x")


def test_network_errors_are_retryable(http: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WHATSAPP_API_BASE", "http://127.0.0.1:9")
    get_settings.cache_clear()
    with pytest.raises(ChannelError) as raised:
        wa.send(http, get_settings(), to=TO, text="x")
    assert type(raised.value) is ChannelError
    get_settings.cache_clear()


def test_media_download_uses_the_bearer_and_the_cap(
    fake_graph: FakeGraph, http: httpx.Client, tmp_path: Path
) -> None:
    media_id = fake_graph.add_media(b"\xff\xd8 jpeg bytes")
    dest = tmp_path / "in.jpg"
    size = wa.download(http, get_settings(), media_id=media_id, dest=dest, max_bytes=1000)
    assert size == 13 and dest.read_bytes() == b"\xff\xd8 jpeg bytes"
    with pytest.raises(TooLarge):
        wa.download(http, get_settings(), media_id=media_id, dest=tmp_path / "b.jpg", max_bytes=5)
    with pytest.raises(DownloadError):
        wa.download(http, get_settings(), media_id="404404", dest=tmp_path / "c.jpg", max_bytes=99)
    # The media URL itself refuses a request without the token (as Meta's lookaside host).
    assert http.get(f"{fake_graph.base_url}/media-download/{media_id}").status_code == 401


def test_reply_buttons_use_the_options_short_form() -> None:
    long = "5K — Fun Run, 5 km — Rp150.000 — usia 10–70 th (sisa 1.998 slot)"
    choices = [
        {"label": long, "value": "5K", "short": "5K · Rp150.000"},
        {"label": "10K", "value": "10K"},
    ]
    block = wa.interactive("Pilih kategori:", choices, language="id")
    assert [b["reply"]["title"] for b in block["action"]["buttons"]] == [
        "1. 5K · Rp150.000",
        "2. 10K",
    ]
    assert f"1. {long}" in block["body"]["text"]  # the details stay in the message
