"""The admin speaks Bahasa Indonesia (the default) and English; no raw keys, nothing untranslated."""

from __future__ import annotations

from admin.i18n import DEFAULT_LANGUAGE, catalogue, gettext, source_strings, status_label
from core.db import unit_of_work
from core.models import AdminUser
from tests.admin.conftest import csrf_of


def test_every_admin_string_has_an_indonesian_translation() -> None:
    missing = sorted(s for s in source_strings() if not catalogue("id").get(s))
    assert not missing, "run scripts/admin_po.py and translate:\n" + "\n".join(missing)


def test_placeholders_survive_translation() -> None:
    for source, translated in catalogue("id").items():
        for name in ("%(n)s", "%(total)s", "%(at)s", "%(ids)s", "%(rows)s", "%(v)s"):
            assert (name in source) == (name in translated), (source, translated)


def test_gettext_and_status_labels() -> None:
    assert DEFAULT_LANGUAGE == "id"
    assert gettext("Registrations", "id") == "Pendaftaran"
    assert gettext("Registrations", "en") == "Registrations"
    assert gettext("Page %(n)s of %(total)s", "id", n=2, total=5) == "Halaman 2 dari 5"
    assert status_label("pending_payment", "id") == "Menunggu pembayaran"
    assert status_label("pending_payment", "en") == "Waiting for payment"


def test_staff_switch_language_and_it_is_remembered(app, client_for, seeded) -> None:  # noqa: ANN001
    client, csrf = client_for("admin")
    page = client.get("/admin/registrations").text
    assert ">Pendaftaran</a>" in page and 'lang="id"' in page  # Indonesian by default
    r = client.post(
        "/admin/language",
        data={"lang": "en", "next": "/admin/registrations", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/admin/registrations"
    page = client.get("/admin/registrations").text
    assert ">Registrations</a>" in page and 'lang="en"' in page
    with unit_of_work() as uow:
        user = uow.session.query(AdminUser).filter_by(email=seeded.emails["admin"]).one()
        assert user.language == "en"  # stored on the staff account, not only in this browser


def test_language_switch_refuses_an_outside_redirect(app, client_for) -> None:  # noqa: ANN001
    client, csrf = client_for("verifier")
    r = client.post(
        "/admin/language",
        data={"lang": "id", "next": "//evil.example/", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.headers["location"] == "/admin/"


def test_login_page_follows_the_cookie(app) -> None:  # noqa: ANN001
    from fastapi.testclient import TestClient

    with TestClient(app) as client:
        assert "Masuk staf" in client.get("/admin/login").text
        token = csrf_of(client)
        client.post("/admin/language", data={"lang": "en", "csrf_token": token})
        assert "Staff login" in client.get("/admin/login").text


def test_unknown_admin_url_gets_the_admins_own_page(app, client_for) -> None:  # noqa: ANN001
    client, _csrf = client_for("admin")
    r = client.get("/admin/no-such-page")
    assert r.status_code == 404 and "Halaman tidak ditemukan" in r.text and "<nav" in r.text
    assert client.get("/admin/no-such-page", headers={"Accept": "application/json"}).json()
    assert client.get("/no-such-page").json() == {"detail": "Not Found"}  # webhooks keep JSON


def test_no_template_shows_english_outside_translation() -> None:
    from tests.admin.untranslated import untranslated

    left = untranslated()
    assert not left, 'wrap these in {{ _("...") }}:\n' + "\n".join(
        f"{name}: {text}" for name, texts in left.items() for text in texts
    )


def test_the_scanner_finds_bare_text_attributes_and_printed_literals() -> None:
    from tests.admin.untranslated import problems_in

    found = problems_in(
        '<h1>Events</h1><input placeholder="Search here"><p>{{ "Save it" if a else _("Add") }}'
        "</p><td>{{ _('Fine') }} BIB &nbsp; CSV</td>{# Comment text #}<script>let a = 'x y'</script>"
    )
    assert found == ["literal: Save it", "placeholder: Search here", "text: Events"]


def test_flash_messages_follow_the_staff_language(app, client_for, seeded) -> None:  # noqa: ANN001
    client, csrf = client_for("admin")
    r = client.post(
        f"/admin/settings/payment/{seeded.event_id}",
        data={
            "csrf_token": csrf,
            "unique_code_mode": "add",
            "payment_deadline_hours": "24",
            "payment_grace_hours": "2",
            "reminder_hours_before": "6",
            "reject_grace_hours": "12",
            "verification_hours": "24",
        },  # fmt: skip
    )
    assert "Aturan pembayaran disimpan." in r.text
    english, token = client_for("verifier", lang="en")
    r = english.post(
        "/admin/account/password",
        data={"csrf_token": token, "current": "wrong", "new": "x", "confirm": "x"},
    )
    assert "Current password is wrong." in r.text
