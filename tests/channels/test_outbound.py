"""Senders against the fake Bot API and fake Fonnte: markup, keyboards, photos, errors, downloads."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update

from channels.fonnte import outbound as fonnte
from channels.media import TooLarge
from channels.telegram import outbound as telegram
from core.config import get_settings
from core.db import unit_of_work, utcnow
from core.enums import Channel, caption_fits
from core.errors import ChannelError, ChannelPermanent, ChannelRateLimited
from core.i18n import t
from core.messages import Choice, Reply
from core.messaging import outbox
from core.models import OutboundMessage
from tests.channels.helpers import outbound_rows
from tests.fakes.fonnte_api import FakeFonnte
from tests.fakes.telegram_api import FakeTelegram

CHOICES = [{"label": "5K", "value": "5k"}, {"label": "10K", "value": "10k"}]


@pytest.fixture
def http() -> httpx.Client:
    with httpx.Client(timeout=10) as client:
        yield client


def test_to_html_bolds_and_escapes_everything_else() -> None:
    text = "Halo *Budi <Santoso>* & tim: 5 < 10 *a&b*"
    assert telegram.to_html(text) == (
        "Halo <b>Budi &lt;Santoso&gt;</b> &amp; tim: 5 &lt; 10 <b>a&amp;b</b>"
    )
    assert telegram.to_html("<script>*</script>") == "&lt;script&gt;*&lt;/script&gt;"


def test_reply_markup_shapes() -> None:
    assert telegram.reply_markup([], inline=False) == {"remove_keyboard": True}
    keyboard = telegram.reply_markup(
        [*CHOICES, {"label": "Kirim nomor HP", "value": "", "request_contact": True}], inline=False
    )
    assert keyboard["one_time_keyboard"] is True
    assert {"text": "Kirim nomor HP", "request_contact": True} in sum(keyboard["keyboard"], [])
    inline = telegram.reply_markup(CHOICES, inline=True)
    assert inline == {
        "inline_keyboard": [
            [{"text": "5K", "callback_data": "5k"}, {"text": "10K", "callback_data": "10k"}]
        ]
    }


def test_fonnte_render_numbers_choices() -> None:
    assert fonnte.render("Pilih kategori:", CHOICES, language="id") == (
        "Pilih kategori:\n\n1. 5K\n2. 10K\n\nBalas dengan angka *1-2*."
    )
    assert fonnte.render("Halo", [], language="id") == "Halo"


def test_telegram_send_message_html_with_keyboard(
    fake_telegram: FakeTelegram, http: httpx.Client
) -> None:
    message_id = telegram.send(
        http, get_settings(), chat_id="42", text="Pilih *kategori* <ya>", choices=CHOICES
    )
    (call,) = fake_telegram.requests("sendMessage")
    assert message_id.isdigit()
    assert call.params["parse_mode"] == "HTML"
    assert call.params["text"] == "Pilih <b>kategori</b> &lt;ya&gt;"
    assert call.params["reply_markup"]["keyboard"][0][0] == {"text": "5K"}
    assert fake_telegram.sent_texts(42) == ["Pilih <b>kategori</b> &lt;ya&gt;"]


def test_telegram_send_photo_multipart(
    fake_telegram: FakeTelegram, http: httpx.Client, tmp_path
) -> None:
    photo = tmp_path / "ticket.png"
    photo.write_bytes(b"\x89PNG fake")
    telegram.send(
        http, get_settings(), chat_id="42", text="E-ticket *BIB 1023*", choices=CHOICES, photo=photo
    )
    (call,) = fake_telegram.sent_photos(42)
    assert call.files["photo"] == b"\x89PNG fake"
    assert call.params["caption"] == "E-ticket <b>BIB 1023</b>"
    assert call.params["reply_markup"]["keyboard"]
    assert not fake_telegram.requests("sendMessage")


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (429, ChannelRateLimited),
        (403, ChannelPermanent),
        (400, ChannelPermanent),
        (502, ChannelError),
    ],
)
def test_telegram_errors_are_classified(
    fake_telegram: FakeTelegram, http: httpx.Client, status: int, error: type
) -> None:
    fake_telegram.fail_next("sendMessage", status=status, retry_after=3 if status == 429 else None)
    with pytest.raises(error) as info:
        telegram.send(http, get_settings(), chat_id="42", text="x")
    if status == 429:
        assert info.value.retry_after == 3
    if status == 502:
        assert not isinstance(info.value, ChannelPermanent | ChannelRateLimited)


def test_telegram_download_respects_the_cap(
    fake_telegram: FakeTelegram, http: httpx.Client, tmp_path
) -> None:
    fake_telegram.add_file("small", b"x" * 100)
    fake_telegram.add_file("big", b"x" * 5000)
    settings = get_settings()
    size = telegram.download(
        http, settings, file_id="small", dest=tmp_path / "a.jpg", max_bytes=1000
    )
    assert size == 100 and (tmp_path / "a.jpg").read_bytes() == b"x" * 100
    with pytest.raises(TooLarge):
        telegram.download(http, settings, file_id="big", dest=tmp_path / "b.jpg", max_bytes=1000)
    assert not list(tmp_path.glob("b.jpg*"))


def test_fonnte_send_form_and_file(fake_fonnte: FakeFonnte, http: httpx.Client, tmp_path) -> None:
    settings = get_settings()
    message_id = fonnte.send(http, settings, target="6281234567890", text="Pilih:", choices=CHOICES)
    photo = tmp_path / "t.png"
    photo.write_bytes(b"png-bytes")
    fonnte.send(http, settings, target="6281234567890", text="E-ticket", photo=photo)
    first, second = fake_fonnte.sent("6281234567890")
    assert message_id == "80367170"
    assert first.authorization == settings.fonnte_token.get_secret_value()  # no "Bearer"
    assert first.params["countryCode"] == "62"
    assert first.message.endswith("1. 5K\n2. 10K\n\nBalas dengan angka *1-2*.")
    assert second.file == b"png-bytes" and second.message == "E-ticket"


def test_fonnte_status_false_reason_is_an_error(
    fake_fonnte: FakeFonnte, http: httpx.Client
) -> None:
    fake_fonnte.fail_next("insufficient quota")
    with pytest.raises(ChannelError, match="insufficient quota") as info:
        fonnte.send(http, get_settings(), target="628", text="x")
    assert not isinstance(info.value, ChannelPermanent)
    fake_fonnte.fail_next("target invalid")
    with pytest.raises(ChannelPermanent, match="target invalid"):
        fonnte.send(http, get_settings(), target="628", text="x")


def test_fonnte_download_respects_the_cap(
    fake_fonnte: FakeFonnte, http: httpx.Client, tmp_path
) -> None:
    url = fake_fonnte.add_media("p.jpg", b"y" * 2000)
    assert fonnte.download(http, url=url, dest=tmp_path / "ok.jpg", max_bytes=5000) == 2000
    with pytest.raises(TooLarge):
        fonnte.download(http, url=url, dest=tmp_path / "no.jpg", max_bytes=1000)


def test_photo_with_too_long_text_is_one_call_with_a_shortened_caption(
    fake_telegram: FakeTelegram, http: httpx.Client, tmp_path
) -> None:
    photo = tmp_path / "ticket.png"
    photo.write_bytes(b"png")
    text = "🏃 *Tiket* " + "x" * 1500
    telegram.send(http, get_settings(), chat_id="42", text=text, photo=photo)
    (call,) = fake_telegram.requests()  # never sendPhoto + sendMessage from one row
    caption = call.params["caption"]
    assert call.method == "sendPhoto" and caption.startswith("🏃 <b>Tiket</b> xxx")
    visible = html.unescape(re.sub(r"<[^>]+>", "", caption))  # what Telegram counts
    assert caption.endswith("…") and caption_fits(Channel.TELEGRAM, visible)
    assert not caption_fits(Channel.TELEGRAM, visible + "x" * 3)  # cut no shorter than needed


@pytest.fixture
def drain_now(committed_db: None, broker: object, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """workers.delivery.drain run in this thread, unthrottled; retries made due at once."""
    from workers.delivery import drain

    monkeypatch.setenv("TELEGRAM_CHAT_MAX_PER_SECOND", "1000")
    monkeypatch.setenv("TELEGRAM_MAX_PER_SECOND", "1000")
    get_settings.cache_clear()

    def run(chat: str) -> None:
        drain("telegram", chat)
        with unit_of_work() as uow:
            uow.session.execute(
                update(OutboundMessage)
                .where(OutboundMessage.next_attempt_at.is_not(None))
                .values(next_attempt_at=utcnow() - timedelta(seconds=1))
            )

    return run


def test_long_photo_caption_retry_never_resends_the_photo(
    fake_telegram: FakeTelegram, drain_now, tmp_path
) -> None:
    media = get_settings().media_dir
    (media / "tickets").mkdir(parents=True, exist_ok=True)
    (media / "tickets" / "long.png").write_bytes(b"png-long")
    text = "*E-ticket* " + "panjang " * 200  # > 1024 characters: no longer fits a caption
    reply = Reply(text=text, image_path="tickets/long.png", choices=(Choice("OK", "ok"),))
    with unit_of_work() as uow:
        first = outbox.write(
            uow.session, channel="telegram", recipient="4242", reply=reply, idempotency_key="long"
        )
        again = outbox.write(
            uow.session, channel="telegram", recipient="4242", reply=reply, idempotency_key="long"
        )
        assert again.id == first.id
    photo_row, text_row = outbound_rows(OutboundMessage.recipient == "4242")
    assert (photo_row.idempotency_key, photo_row.media_path, photo_row.text) == (
        "long:photo",
        "tickets/long.png",
        "",
    )
    assert (text_row.id, text_row.media_path, text_row.text) == (first.id, None, text)

    fake_telegram.fail_next("sendMessage", status=502)
    drain_now("4242")  # the photo is accepted; the text fails and is scheduled again
    assert [r.status for r in outbound_rows(OutboundMessage.recipient == "4242")] == [
        "sent",
        "pending",
    ]
    drain_now("4242")
    photo_row, text_row = outbound_rows(OutboundMessage.recipient == "4242")
    assert photo_row.status == text_row.status == "sent"
    assert (photo_row.attempts, text_row.attempts) == (1, 2)
    (sent_photo,) = fake_telegram.sent_photos(4242)
    assert sent_photo.files["photo"] == b"png-long" and "caption" not in sent_photo.params
    messages = fake_telegram.requests("sendMessage")
    assert len(messages) == 2 and all(
        m.params["text"].startswith("<b>E-ticket</b>") for m in messages
    )
    assert messages[-1].params["reply_markup"]["keyboard"] == [[{"text": "OK"}]]


def test_runner_asterisks_are_never_bold_on_either_channel(
    fake_telegram: FakeTelegram, fake_fonnte: FakeFonnte, http: httpx.Client
) -> None:
    text = t("flow.welcome", "id", name="*Budi* **", event_name="Jakarta *Fun* Run")
    assert "*Budi*" not in text and "∗Budi∗ ∗∗" in text  # the runner's value, literal
    settings = get_settings()
    telegram.send(http, settings, chat_id="42", text=text)
    (call,) = fake_telegram.requests("sendMessage")
    # Only the template's own markup is bold: the event name as a whole, and BATAL.
    assert call.params["text"].count("<b>") == 2
    assert "Halo ∗Budi∗ ∗∗!" in call.params["text"]
    assert "<b>Jakarta ∗Fun∗ Run</b>" in call.params["text"]
    fonnte.send(
        http,
        settings,
        target="6281234567890",
        text=text,
        choices=[{"label": "*5K*", "value": "5k"}],
    )
    (sent,) = fake_fonnte.sent("6281234567890")
    assert re.findall(r"\*([^*\n]+)\*", sent.message) == ["Jakarta ∗Fun∗ Run", "BATAL", "1"]
    assert "1. ∗5K∗" in sent.message


def test_summary_answers_with_asterisks_stay_literal() -> None:
    from tests.flows.test_engine import make_ctx, walk

    summary = walk(make_ctx(), {"medical_notes": "*asma* ringan"}).replies[-1].text
    assert "Catatan medis: *∗asma∗ ringan*" in summary
    assert "<b>∗asma∗ ringan</b>" in telegram.to_html(summary)
