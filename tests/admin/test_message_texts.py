"""Message texts for organisers: named and grouped, both languages, preview, save, reset."""

from __future__ import annotations

from admin.messages_pages import name_of, preview
from core import i18n
from core.db import get_sessionmaker
from core.models import NotificationTemplate


def stored() -> dict[tuple[str, str], str]:
    with get_sessionmaker()() as session:
        return {(r.key, r.language): r.body for r in session.query(NotificationTemplate)}


def test_every_text_has_a_readable_name_and_moment(app, client_for) -> None:  # noqa: ANN001
    client, _ = client_for("admin")
    page = client.get("/admin/settings/messages").text
    assert "Pembayaran disetujui" in page and "flow.ask.email" not in page.split("<main")[1][:0]
    for key in i18n.catalogue("id"):
        name = name_of(key, "en")
        assert name and "{{" not in name and "{%" not in name and len(name) <= 70


def test_edit_shows_both_languages_with_placeholders_and_previews(app, client_for) -> None:  # noqa: ANN001
    client, _ = client_for("admin", lang="en")
    page = client.get("/admin/settings/messages/payment.confirmed").text
    assert "Bahasa Indonesia" in page and "English" in page
    assert "{{ number }}" in page and "{{ amount }}" in page
    assert "<strong>JFR-10K-00001</strong>" in page  # WhatsApp preview renders *bold*
    assert "<b>JFR-10K-00001</b>" in page  # Telegram preview (HTML parse mode)


def test_preview_does_not_save_and_save_then_reset(app, client_for) -> None:  # noqa: ANN001
    client, csrf = client_for("admin")
    url = "/admin/settings/messages/payment.confirmed"
    draft = "Terima kasih! *{{ number }}* lunas ({{ amount | rupiah }})."
    r = client.post(
        url, data={"language": "id", "body": draft, "action": "preview", "csrf_token": csrf}
    )
    assert "<strong>JFR-10K-00001</strong> lunas (Rp250.507)" in r.text
    assert stored() == {}  # a preview saves nothing
    r = client.post(
        url, data={"language": "id", "body": draft, "action": "save", "csrf_token": csrf}
    )
    assert r.status_code == 200 and "Pesan disimpan." in r.text
    assert stored() == {("payment.confirmed", "id"): draft}
    r = client.post(url, data={"language": "id", "body": "", "action": "reset", "csrf_token": csrf})
    assert "Pesan bawaan dipulihkan." in r.text
    assert stored() == {}


def test_a_broken_draft_is_shown_with_the_reason_and_refused(app, client_for) -> None:  # noqa: ANN001
    assert "error" in preview("{{ number ")
    client, csrf = client_for("admin")
    url = "/admin/settings/messages/payment.confirmed"
    r = client.post(
        url,
        data={
            "language": "en",
            "body": "{{ unknown_thing }}",
            "action": "save",
            "csrf_token": csrf,
        },
    )
    assert "Pesan tidak disimpan" in r.text and "unknown placeholder" in r.text


def test_messages_pages_are_for_admins_only(app, client_for) -> None:  # noqa: ANN001
    client, _ = client_for("verifier", lang="en")
    assert client.get("/admin/settings/messages", follow_redirects=False).status_code == 403
