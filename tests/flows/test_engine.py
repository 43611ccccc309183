"""Engine tests without a database: the declared flow, the compiled machine, walk and edit."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest

from core.enums import Channel
from core.events.catalog import CatalogCategory, CatalogEvent, CatalogJersey, EventCatalog
from core.i18n import LANGUAGES, t
from core.messages import InboundMessage, Reply
from flows import commands, engine, pending, render
from flows.registration import REGISTRATION
from flows.registry import answer_rows, question_keys
from flows.spec import Ask, Ctx

CATEGORIES = (
    CatalogCategory(1, "5K", "Fun Run 5K", 5, 150_000, 10, 10, None),
    CatalogCategory(2, "10K", "10K Race", 10, 250_000, 0, 15, None),
    CatalogCategory(3, "21K", "Half Marathon", 21.1, 400_000, 3, 17, 70),
)
JERSEY = (CatalogJersey("XS", 0), CatalogJersey("M", 3), CatalogJersey("L", 9))


def make_event(slug: str = "jfr", nik: bool = False) -> CatalogEvent:
    return CatalogEvent(
        1, slug, "Jakarta Fun Run", date(2026, 12, 6), None, None, nik, "Asia/Jakarta",
        CATEGORIES, JERSEY,
    )  # fmt: skip


def make_ctx(language: str = "id", *, phone: str | None = "6281234567890", events=None) -> Ctx:  # type: ignore[no-untyped-def]
    return Ctx(
        language=language,
        catalog=EventCatalog(open=events or (make_event(),)),
        answers={},
        today=date(2026, 1, 1),
        now=datetime(2026, 1, 1, tzinfo=UTC),
        known_phone=phone,
    )


def walk(ctx: Ctx, answers: dict[str, str] | None = None) -> engine.StepResult:
    result = engine.start(REGISTRATION, ctx)
    for _ in range(40):
        if result.completed or result.state == "confirm":
            return result
        step = REGISTRATION.step(result.state)
        assert isinstance(step, Ask)
        text = (answers or {}).get(step.key, step.example)
        result = engine.advance(REGISTRATION, result.state, text, ctx)
        assert not result.invalid, (step.key, text, result.replies[0].text)
    raise AssertionError("flow did not finish")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("phone", ["6281234567890", None])  # WhatsApp (known) / Telegram (asked)
def test_every_flow_completes_with_examples(language: str, phone: str | None) -> None:
    ctx = make_ctx(language, phone=phone)
    result = walk(ctx)
    assert result.state == "confirm"
    final = engine.advance(REGISTRATION, "confirm", "YA", ctx)
    assert final.completed and final.state == engine.DONE
    expected = {s.key for s in REGISTRATION.questions if s.applies(ctx)}
    assert expected <= set(final.answers)
    assert final.answers["email"] == "siti.aminah@example.com"


def test_step_keys_unique_and_snake_case() -> None:
    flow = REGISTRATION
    assert len(set(flow.keys)) == len(flow.keys)
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", key) for key in flow.keys)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_prompt_and_label_renders(language: str) -> None:
    ctx = make_ctx(language)
    walk(ctx)
    for step in REGISTRATION.questions:
        for variant_phone in ("6281234567890", None):
            ctx.known_phone = variant_phone
            assert engine.prompt(REGISTRATION, step.key, ctx).text
        assert t(step.label_key, language)
    assert "Jakarta Fun Run" in engine.prompt(REGISTRATION, "confirm", ctx).text


def test_machine_is_shared_and_has_no_models() -> None:
    machine = engine.compile_flow(REGISTRATION)
    assert machine is engine.compile_flow(REGISTRATION)
    assert machine.models == []
    assert set(REGISTRATION.keys) <= set(machine.states)


def test_sold_out_options_are_listed_but_refused() -> None:
    ctx = make_ctx()
    first = engine.start(REGISTRATION, ctx)
    assert first.state == "category"
    labels = [c.label for c in first.replies[0].choices]
    assert any("10K" in label and "HABIS" in label for label in labels)
    refused = engine.advance(REGISTRATION, "category", "2", ctx)
    assert refused.invalid and refused.state == "category"
    assert "habis" in refused.replies[0].text.lower()
    assert "Contoh: *5K*" in refused.replies[0].text
    sized = walk(ctx, {"category": "5K"})
    assert sized.state == "confirm"
    ctx2 = make_ctx()
    walk(ctx2)
    refused_size = engine.advance(REGISTRATION, "jersey_size", "XS", ctx2)
    assert refused_size.invalid and "XS" in refused_size.replies[0].text


def test_three_failures_offer_help() -> None:
    ctx = make_ctx()
    engine.start(REGISTRATION, ctx)
    once = engine.advance(REGISTRATION, "category", "zzz", ctx, failed_tries=0)
    third = engine.advance(REGISTRATION, "category", "zzz", ctx, failed_tries=2)
    assert "BANTUAN" not in once.replies[0].text
    assert "BANTUAN" in third.replies[0].text


def test_edit_from_summary_returns_to_summary() -> None:
    ctx = make_ctx()
    walk(ctx)
    options = engine.summary_options(REGISTRATION, ctx)
    number = options.index(("edit", "email")) + 1
    editing = engine.advance(REGISTRATION, "confirm", str(number), ctx)
    assert editing.state == "email"
    assert "siti.aminah@example.com" in editing.replies[0].text  # the current answer is shown
    bad = engine.advance(REGISTRATION, "email", "nope", ctx)
    assert bad.invalid and bad.state == "email"
    back = engine.advance(REGISTRATION, "email", "new@example.com", ctx)
    assert back.state == "confirm" and "_editing" not in back.answers
    assert not pending.load(back.answers).editing
    assert "new@example.com" in back.replies[0].text
    assert back.answers["full_name"] == "Siti Aminah"  # nothing else lost


def test_edit_by_label_and_category_change_rechecks_age() -> None:
    ctx = make_ctx()
    walk(ctx, {"category": "5K", "date_of_birth": "01-01-2014"})  # 12 on race day: fine for 5K
    editing = engine.advance(REGISTRATION, "confirm", "ubah kategori", ctx)
    assert editing.state == "category"
    moved = engine.advance(REGISTRATION, "category", "21K", ctx)
    # 12 is too young for 21K: the date of birth is asked again before the summary.
    assert moved.state == "date_of_birth"
    assert engine.advance(REGISTRATION, "date_of_birth", "01-01-1990", ctx).state == "confirm"


def test_summary_cancel_and_unknown_reply() -> None:
    ctx = make_ctx()
    walk(ctx)
    unknown = engine.advance(REGISTRATION, "confirm", "hmm", ctx)
    assert unknown.invalid and unknown.state == "confirm"
    last = len(engine.summary_options(REGISTRATION, ctx))
    cancelled = engine.advance(REGISTRATION, "confirm", str(last), ctx)
    assert cancelled.cancelled and cancelled.state == engine.CANCELLED


def test_event_question_only_with_several_events_and_nik_when_required() -> None:
    single = make_ctx()
    assert engine.start(REGISTRATION, single).state == "category"
    both = make_ctx(events=(make_event("a"), make_event("b", nik=True)))
    first = engine.start(REGISTRATION, both)
    assert first.state == "event"
    result = walk(both, {"event": "2"})
    assert result.answers["nik"] == "3171234567890001"
    plain = make_ctx(events=(make_event("a"), make_event("b", nik=True)))
    assert "nik" not in walk(plain, {"event": "1"}).answers


def test_answer_rows_follow_the_declaration() -> None:
    ctx = make_ctx("en")
    answers = walk(ctx).answers
    rows = answer_rows(answers, "en")
    assert [label for label, _ in rows][:3] == ["Category", "Full name", "Gender"]
    assert ("Gender", "Female") in rows and ("Medical notes", "-") in rows
    assert question_keys()[0] == "event"
    # "/DAFTAR" begins the registration flow: the start command, in any state.
    daftar = InboundMessage(channel=Channel.WHATSAPP, external_id="x", chat_id="1", text="/DAFTAR")
    assert commands.detect(daftar) == commands.Command("start")


def _edit(ctx: Ctx, key: str) -> engine.StepResult:
    number = engine.summary_options(REGISTRATION, ctx).index(("edit", key)) + 1
    return engine.advance(REGISTRATION, "confirm", str(number), ctx)


def test_editing_the_phone_rechecks_the_emergency_phone() -> None:
    ctx = make_ctx(phone=None)  # Telegram: the phone is typed
    walk(ctx, {"phone": "081311112222", "emergency_phone": "081298765432"})
    assert _edit(ctx, "phone").state == "phone"
    moved = engine.advance(REGISTRATION, "phone", "081298765432", ctx)  # now the emergency number
    # Not back to the summary: the emergency phone is asked again, with the reason.
    assert moved.state == "emergency_phone"
    assert "berbeda" in moved.replies[0].text
    kept = engine.advance(REGISTRATION, "emergency_phone", "SAMA", ctx)
    assert kept.invalid and kept.state == "emergency_phone"  # keeping the clash is refused
    back = engine.advance(REGISTRATION, "emergency_phone", "081277776666", ctx)
    assert back.state == "confirm"
    assert ctx.answers["phone"] == "+6281298765432"
    assert ctx.answers["emergency_phone"] == "+6281277776666"


def test_editing_offers_to_keep_the_current_answer() -> None:
    ctx = make_ctx()
    walk(ctx)
    editing = _edit(ctx, "full_name")
    assert "Siti Aminah" in editing.replies[0].text and "SAMA" in editing.replies[0].text
    back = engine.advance(REGISTRATION, "full_name", "sama", ctx)
    assert back.state == "confirm" and ctx.answers["full_name"] == "Siti Aminah"
    en = make_ctx("en")
    walk(en)
    assert "SAME" in _edit(en, "jersey_size").replies[0].text
    assert engine.advance(REGISTRATION, "jersey_size", "same", en).state == "confirm"
    assert en.answers["jersey_size"] == "M"


def test_age_limit_offers_another_category_and_keeps_answers() -> None:
    ctx = make_ctx()
    engine.start(REGISTRATION, ctx)
    engine.advance(REGISTRATION, "category", "21K", ctx)
    engine.advance(REGISTRATION, "full_name", "Siti Aminah", ctx)
    engine.advance(REGISTRATION, "gender", "P", ctx)
    young = engine.advance(REGISTRATION, "date_of_birth", "01-01-2014", ctx)  # 12: under 17
    assert young.invalid and "KATEGORI" in young.replies[0].text
    assert "BATAL" not in young.replies[0].text  # BATAL would delete every answer
    back = engine.advance(REGISTRATION, "date_of_birth", "kategori", ctx)
    assert back.state == "category" and ctx.answers["full_name"] == "Siti Aminah"
    # The date fits 5K: not asked again (C7).
    assert engine.advance(REGISTRATION, "category", "5K", ctx).state == "email"
    assert ctx.answers["date_of_birth"] == "2014-01-01"
    result = walk(ctx)
    assert result.state == "confirm" and ctx.answers["category"] == "5K"
    assert ctx.answers["gender"] == "F" and "_editing" not in ctx.answers
    assert not pending.load(ctx.answers).editing


def test_telegram_buttons_carry_the_numbers_the_texts_mention() -> None:
    ctx = make_ctx(phone=None)
    [question] = engine.start(REGISTRATION, ctx).replies
    [numbered] = render.for_channel([question], "telegram")
    assert [c.label.split(" ", 1)[0] for c in numbered.choices] == ["1.", "2.", "3."]
    assert render.for_channel([question], "whatsapp") == [question]  # the sender numbers them
    # A tapped numbered button is understood by its label, even when the numbers moved.
    assert (
        engine.advance(REGISTRATION, "category", "3. 21K — Half", ctx).answers["category"] == "21K"
    )
    single = Reply("Balas YA", choices=question.choices[:1])
    assert render.for_channel([single], "telegram") == [single]  # a lone button stays as is


def test_yes_button_only_on_telegram() -> None:
    wa = make_ctx()
    step = REGISTRATION.step("phone")
    assert isinstance(step, Ask)
    assert render.question(step, wa).choices == ()  # WhatsApp: "Balas YA" is enough
    tg = make_ctx()
    tg.channel = "telegram"
    assert [c.label for c in render.question(step, tg).choices] == ["Ya"]


@pytest.mark.parametrize(("language", "km", "left"), [("id", "21,1 km", "sisa 2.000 slot"),
                                                     ("en", "21.1 km", "2,000 slots left")])  # fmt: skip
def test_numbers_follow_the_language(language: str, km: str, left: str) -> None:
    big = CatalogCategory(3, "21K", "Half Marathon", 21.1, 400_000, 2000, 17, 70)
    event = CatalogEvent(
        1, "jfr", "Jakarta Fun Run", date(2026, 12, 6), None, None, False, "Asia/Jakarta",
        (big,), JERSEY,
    )  # fmt: skip
    ctx = make_ctx(language, events=(event,))
    [question] = engine.start(REGISTRATION, ctx).replies
    assert km in question.choices[0].label and left in question.choices[0].label
