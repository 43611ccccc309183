"""The registration flow, declared once. Add, remove or reorder a question here and nowhere else."""

from __future__ import annotations

from datetime import date
from typing import Any

from core.formatting import format_date, format_number
from core.i18n import t
from flows import parsers, pricing
from flows.spec import Ask, Confirm, Ctx, Flow, Invalid, Option


def event_options(ctx: Ctx) -> list[Option]:
    """Open events, with their race date."""
    return [
        Option(e.slug, e.name, detail=format_date(e.race_date, ctx.language))
        for e in ctx.catalog.open
    ]


def _plain_name(name: str, code: str) -> str:
    """The category name without its code, which the option already shows ("Fun Run 5K" -> "Fun Run")."""
    words = [w for w in name.split() if w.lower() != code.lower()]
    return " ".join(words)


def category_options(ctx: Ctx) -> list[Option]:
    """The chosen event's categories: distance, price, slots left; sold out cannot be chosen."""
    event = ctx.event
    if event is None:
        return []
    options = []
    for c in event.categories:
        params = {
            "min_age": c.min_age,
            "max_age": c.max_age,
            "km": format_number(c.distance_km, ctx.language),
            "price": pricing.category_price(c, ctx),
            "left": format_number(c.slots_left, ctx.language),
        }
        key = "flow.option.category" if c.slots_left > 0 else "flow.option.category_sold_out"
        tail = params["price"] if c.slots_left > 0 else t("flow.option.sold_out", ctx.language)
        options.append(
            Option(
                c.code,
                c.code,
                detail=t(key, ctx.language, name=_plain_name(c.name, c.code), **params),
                enabled=c.slots_left > 0,
                aliases=(c.name,),
                disabled_key="waitlist.category_sold_out",
                short=f"{c.code} · {tail}",
            )
        )
    return options


def jersey_options(ctx: Ctx) -> list[Option]:
    """The event's jersey sizes with stock left; an out-of-stock size cannot be chosen."""
    event = ctx.event
    sizes = event.jersey if event else ()
    return [
        Option(
            j.size,
            j.size,
            detail=t(
                "flow.option.jersey" if j.left > 0 else "flow.option.sold_out",
                ctx.language,
                left=format_number(j.left, ctx.language),
            ),
            enabled=j.left > 0,
            disabled_key="waitlist.jersey_sold_out",
        )
        for j in sizes
    ]


def gender_options(ctx: Ctx) -> list[Option]:
    return [Option(v, t(f"flow.gender.{v}", ctx.language)) for v in ("M", "F")]


def blood_options(ctx: Ctx) -> list[Option]:
    return [Option(v, t(f"flow.blood.{v}", ctx.language)) for v in ("A", "B", "AB", "O", "unknown")]


def _check_category(value: Any, ctx: Ctx) -> None:
    event = ctx.event
    if event is None or event.category(value) is None:
        raise Invalid("flow.invalid.choice", count=len(category_options(ctx)))


def _check_jersey(value: Any, ctx: Ctx) -> None:
    event = ctx.event
    if event is None or value not in {j.size for j in event.jersey}:
        raise Invalid("flow.invalid.choice", count=len(jersey_options(ctx)))


def _show_gender(value: Any, language: str) -> str:
    return t(f"flow.gender.{value}", language) if value in ("M", "F") else str(value)


def _show_blood(value: Any, language: str) -> str:
    return t(f"flow.blood.{value}", language)


def _show_date(value: Any, _language: str) -> str:
    return date.fromisoformat(value).strftime("%d-%m-%Y")


def _show_optional(value: Any, _language: str) -> str:
    return value or "-"


def _phone_variant(ctx: Ctx) -> str:
    return "known" if ctx.known_phone and parsers.to_e164(ctx.known_phone) else ""


def _phone_params(ctx: Ctx) -> dict[str, Any]:
    return {"known_phone": parsers.to_e164(ctx.known_phone or "") or ""}


def _emergency_variant(ctx: Ctx) -> str:
    return "reuse" if parsers.reusable_emergency(ctx) else ""


def _emergency_params(ctx: Ctx) -> dict[str, Any]:
    name, number = parsers.reusable_emergency(ctx) or ("", "")
    return {"previous_name": name, "previous_phone": number}


def _category_params(ctx: Ctx) -> dict[str, Any]:
    event = ctx.event
    return {"event_name": event.name if event else ""}


REGISTRATION = Flow(
    name="registration",
    steps=(
        Ask("event", parsers.one_of(event_options), example="1", choices=event_options,
            when=lambda ctx: len(ctx.catalog.open) > 1, preset=True, chooses_event=True),
        Ask("category", parsers.one_of(category_options), example="5K", choices=category_options,
            recheck=_check_category, prompt_params=_category_params, preset=True,
            sold_out="category"),
        Ask("full_name", parsers.person_name, example="Siti Aminah"),
        Ask("gender", parsers.gender, example="P", choices=gender_options, display=_show_gender),
        Ask("date_of_birth", parsers.date_of_birth, example="17 Agustus 1990",
            recheck=parsers.check_age, display=_show_date, switch_to="category"),
        Ask("email", parsers.email, example="siti.aminah@example.com"),
        Ask("phone", parsers.phone, example="081234567890", prompt_variant=_phone_variant,
            prompt_params=_phone_params, yes_variants=("known",), share_contact=True),
        Ask("nik", parsers.nik, example="3171234567890001",
            when=lambda ctx: bool(ctx.event and ctx.event.requires_nik)),
        Ask("jersey_size", parsers.one_of(jersey_options), example="M", choices=jersey_options,
            recheck=_check_jersey, sold_out="jersey"),
        Ask("emergency_name", parsers.emergency_name, example="Budi Santoso",
            prompt_variant=_emergency_variant, prompt_params=_emergency_params,
            yes_variants=("reuse",)),
        Ask("emergency_phone", parsers.emergency_phone, example="081298765432",
            recheck=parsers.check_emergency_phone),
        Ask("blood_type", parsers.blood_type, example="O", choices=blood_options,
            display=_show_blood),
        Ask("medical_notes", parsers.medical_notes, example="-", display=_show_optional),
        Ask(pricing.KEY, pricing.parse_code, example="ABC123", when=pricing.offers_code,
            recheck=pricing.recheck_code, display=_show_optional,
            prompt_variant=pricing.code_variant, prompt_params=pricing.code_params,
            yes_variants=("have",)),
        Confirm(notes=pricing.summary_lines),
    ),
)  # fmt: skip
