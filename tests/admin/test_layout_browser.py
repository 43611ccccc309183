"""Every admin page at 1440 px and 390 px in a real browser: no horizontal overflow, no value
broken into more lines than it has words (the registration detail page once split "Rp250.000"
over two lines in a squeezed column). Screenshots are saved under test-artifacts/layout/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from admin.i18n import STATUS_LABELS, gettext
from core import audit
from core.db import unit_of_work
from core.messaging import broadcasts
from core.models import DeletionRequest, Event, InboundUpdate, OutboundMessage, PriceTier, Voucher
from core.models.waitlist import WaitlistEntry
from tests import factories as f
from tests.fakes.server import serve
from tests.qr import decode_qr

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "layout"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
WIDTHS = (1440, 390)
LONG_NAME = "Dewi Ayu Lestari Kusumawardhani"

# Returns the problems on the page: overflow of the document, value texts wrapped into more lines
# than they have words (a word broken in two), and form fields sticking out of their card.
LAYOUT_CHECK = """() => {
  const problems = [];
  const doc = document.documentElement;
  if (doc.scrollWidth > window.innerWidth + 1) {
    problems.push(`horizontal overflow: ${doc.scrollWidth}px > ${window.innerWidth}px`);
  }
  for (const el of document.querySelectorAll('dd, td, .stat, .value, h1')) {
    if (el.closest('.table-wrap, pre, code, .chat, [hidden]')) continue;
    const text = (el.innerText || '').trim();
    if (!text || el.children.length > 0 && el.querySelector('input,select,textarea,button,form')) continue;
    const range = document.createRange();
    range.selectNodeContents(el);
    const tops = new Set();
    for (const r of range.getClientRects()) { if (r.width > 0) tops.add(Math.round(r.top)); }
    const words = text.split(/\\s+/).length;
    if (tops.size > words) problems.push(`"${text.slice(0, 40)}" wraps into ${tops.size} lines`);
  }
  // A form field wider than its card (a long <option> in a flex row once stuck out at 390 px).
  for (const field of document.querySelectorAll('.card input, .card select, .card textarea')) {
    if (field.closest('.table-wrap, [hidden]') || field.type === 'hidden') continue;
    const box = field.getBoundingClientRect(), card = field.closest('.card').getBoundingClientRect();
    if (box.width > 0 && box.right > card.right + 1) {
      problems.push(`${field.tagName.toLowerCase()}[name=${field.name}] sticks out of its card by ${Math.round(box.right - card.right)}px`);
    }
  }
  return problems;
}"""


@pytest.fixture
def ids(seeded) -> dict[str, Any]:  # noqa: ANN001
    """A registration with a long name, a payment, messages both ways and an audit trail."""
    with unit_of_work() as uow:
        event = uow.session.get(Event, seeded.event_id)
        reg = f.make_registration(uow.session, event, full_name=LONG_NAME, channel="whatsapp")
        f.make_payment(uow.session, reg)
        uow.session.add(
            InboundUpdate(
                channel=reg.channel,
                external_id=f"layout-{reg.id}",
                chat_id=reg.chat_id,
                message={"text": "DAFTAR"},
            )
        )
        uow.session.add(
            OutboundMessage(
                channel=reg.channel,
                recipient=reg.chat_id,
                registration_id=reg.id,
                kind="reply",
                status="sent",
                text="Halo! *Pendaftaran* dimulai.",
                idempotency_key=f"layout-{reg.id}",
            )
        )
        audit.record(
            uow.session,
            actor="admin@funrun.local",
            action="registration.edited",
            subject_type="registration",
            subject_id=str(reg.id),
            before={"full_name": "Dewi"},
            after={"full_name": LONG_NAME},
        )
        _prices_and_codes(uow.session, event)
        sent = broadcasts.create(uow.session, event_id=event.id, segment="all", actor="admin",
                                 text="Race pack pickup *Friday* 10:00-20:00 at Senayan City.")  # fmt: skip
        broadcasts.write_batch(uow.session, sent.id)
        _minor_with_questions(uow.session, event, reg)
        _waiting_list(uow.session, event)
        uow.session.add(DeletionRequest(channel=reg.channel, chat_id=reg.chat_id))
        # Changes after registration: a frozen event (the override boxes) and a refund owed.
        event.data_frozen, event.refund_rule = True, "Tidak ada pengembalian dana setelah 1 Mei."
        reg.refund_owed = 100_000
        return {"event": event.id, "registration": reg.id, "broadcast": sent.id}


def _prices_and_codes(session: Any, event: Event) -> None:
    """Tiers on a category and a few vouchers, so the event and vouchers pages show them."""
    session.add(PriceTier(category_id=event.categories[0].id, name="Early bird", price=120_000,
                          ends_at=f.later(24 * 30), max_sold=500))  # fmt: skip
    note = "Komunitas Lari Pagi Jakarta Selatan — sponsor utama"
    session.add(Voucher(event_id=event.id, code="LARIPAGIJAKSEL2027", value=50_000, note=note,
                        categories=["5K", "10K"], valid_until=f.later(24 * 10)))  # fmt: skip
    session.add(Voucher(event_id=event.id, code="COMP", kind="percent", value=100,
                        beyond_quota=True, max_uses=None, batch="COMP-abc123"))  # fmt: skip


def _minor_with_questions(session: Any, event: Event, reg: Any) -> None:
    """Custom questions, a waiver and a consent letter, so their panels are laid out too."""
    from datetime import date

    from core.events import questions
    from core.fulfilment import consent

    for kind, label, options in (
        (
            "choice",
            "Ukuran nama di jersey / Jersey name print size",
            "Kecil | Small\nBesar | Large",
        ),
        ("yes_no", "Maraton pertama?", ""),
    ):
        data = questions.QuestionInput(
            kind=kind, label=label, options_text=options, show_at_checkin=True
        )
        question = questions.add(session, event_id=event.id, data=data, actor="layout")
        reg.participant.answers = {
            **reg.participant.answers,
            question.key: "Besar" if options else "yes",
        }
    event.minor_age = 17
    event.waiver_text = "Saya sehat jasmani dan rohani."
    reg.participant.date_of_birth = date(event.race_date.year - 12, 1, 1)
    reg.waiver_accepted_at = f.NOW
    consent._add(session, reg, consent.store_photo(f.inbound(f.encode(f.screenshot()))), f.NOW)


def _waiting_list(session: Any, event: Event) -> None:
    """Three runners waiting for the 5K (one offered a slot, one for a jersey size)."""
    cat = event.categories[0]
    for n, size in enumerate((None, "XL", None)):
        session.add(WaitlistEntry(event_id=event.id, category_id=cat.id, jersey_size=size,
                                  channel="whatsapp", chat_id=f"62812000{n}", position=n + 1,
                                  name=LONG_NAME if n == 0 else f"Runner {n}", answers={},
                                  status="offered" if n == 0 else "waiting",
                                  hold_until=f.later(12) if n == 0 else None))  # fmt: skip


@pytest.fixture
def browser_page(seeded, ids, broker, monkeypatch) -> Iterator[Any]:  # noqa: ANN001
    from playwright.sync_api import sync_playwright

    from app.main import create_app
    from core.config import get_settings

    # The event page's start links and the QR poster need a public number and a bot name.
    monkeypatch.setenv("WHATSAPP_PUBLIC_NUMBER", "6281234567890")
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "JakartaFunRunBot")
    get_settings.cache_clear()

    with serve(create_app()) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=url, viewport={"width": 1440, "height": 900})
        tab = context.new_page()
        tab.set_default_timeout(10_000)
        tab.goto("/admin/login")
        tab.fill("#email", seeded.emails["admin"])
        tab.fill("#password", f.PASSWORD)
        tab.click("button[type=submit]")
        tab.wait_for_url("**/admin/**")
        yield tab
        context.close()
        browser.close()


def pages(ids: dict[str, Any]) -> dict[str, str]:
    return {
        "dashboard": "/admin/",
        "queue": "/admin/queue",
        "registrations": "/admin/registrations",
        "registration": f"/admin/registrations/{ids['registration']}",
        "statements": "/admin/statements",
        "events": "/admin/events",
        "event": f"/admin/events/{ids['event']}",
        "questions": f"/admin/events/{ids['event']}/questions",
        "settings": "/admin/settings",
        "operations": "/admin/operations",
        "audit": "/admin/audit",
        "broadcasts": "/admin/broadcasts",
        "broadcast": f"/admin/broadcasts/{ids['broadcast']}",
        "exports": f"/admin/exports?event_id={ids['event']}",
        "account": "/admin/account",
        "account-2fa": "/admin/account/2fa",
        "privacy": "/admin/privacy",
        "checkin": "/checkin",
        "desks": f"/checkin/desks?event={ids['event']}",
        "vouchers": f"/admin/events/{ids['event']}/vouchers",
        "waitlist": f"/admin/events/{ids['event']}/waitlist",
        "not-found": "/admin/no-such-page",
        "checked": "/admin/queue/checked",
        "messages": "/admin/settings/messages",
        "poster": f"/admin/events/{ids['event']}/poster?channel=whatsapp&category=10K",
    }


# English runs every page at phone width (longer words wrap sooner) and these wide ones at 1440 px
# too, so the second language costs about half a run more, not a whole one.
ENGLISH_DESKTOP = frozenset({"dashboard", "queue", "registrations", "registration", "statements",
                             "event", "settings", "audit", "exports", "messages", "checkin"})  # fmt: skip


# Admin words that mean the page ignored the English setting: the status labels and the pager
# in Indonesian (event data such as the pickup text is Indonesian on purpose and not looked at).
INDONESIAN_WORDS = sorted(
    {gettext(label, "id") for label in STATUS_LABELS.values()} - set(STATUS_LABELS.values())
) + ["Halaman", " baris"]
INDONESIAN_CHECK = """(words) => {
  const shown = [...document.querySelectorAll('.badge, .pager, th')].map(el => el.innerText);
  return words.filter(w => shown.some(text => text.includes(w))).map(w => `Indonesian "${w}"`);
}"""


def _switch_language(page: Any, language: str) -> None:
    page.goto("/admin/")
    page.click(f".langswitch button[value={language}]")


@pytest.mark.parametrize("language", ["id", "en"])
def test_every_admin_page_reads_well_at_desktop_and_phone_width(
    browser_page, ids, language
) -> None:  # noqa: ANN001
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    _switch_language(browser_page, language)
    suffix = "" if language == "id" else f"-{language}"
    problems: list[str] = []
    for width in WIDTHS:
        browser_page.set_viewport_size({"width": width, "height": 900})
        for name, path in pages(ids).items():
            if language != "id" and width > 800 and name not in ENGLISH_DESKTOP:
                continue
            browser_page.goto(path)
            browser_page.wait_for_load_state("networkidle")
            shot = browser_page.screenshot(
                path=str(ARTIFACTS / f"{name}-{width}{suffix}.png"), full_page=True
            )
            if name == "poster":  # the printed QR is the short link that opens the chat
                assert decode_qr(shot).endswith("/go/jakarta-fun-run/10K"), width
            found = browser_page.evaluate(LAYOUT_CHECK)
            if language == "en":  # the macros once rendered without the staff language
                found += browser_page.evaluate(INDONESIAN_CHECK, INDONESIAN_WORDS)
            problems += [f"{name} @ {width}px {language}: {p}" for p in found]
    assert not problems, "\n".join(problems)
