"""The chat side of prices and vouchers: the category's price text, the code step, KODE, the summary.

The summary stores the net price it showed under ``_price_shown``; completion passes it to
intake.submit, which refuses with PriceChanged when the locked price differs, so a runner is
always told a new price before confirming, never after.
"""

from __future__ import annotations

from typing import Any

from core.events import pricing
from core.events.catalog import CatalogCategory
from core.i18n import t, words
from core.registration.vouchers import Applied, VoucherRefused, normalise
from flows import parsers
from flows.spec import Answer, Ctx, Invalid

SHOWN = "_price_shown"  # the net price the last summary showed (engine bookkeeping)
KEY = "voucher"  # the answer holding the code ("" = none)


def category_price(category: CatalogCategory, ctx: Ctx) -> str:
    """``Rp120.000 (early bird s.d. 15 Jan atau 500 pertama)`` for the category list."""
    event = ctx.event
    timezone = event.timezone if event else "Asia/Jakarta"
    return pricing.price_text(category.quote(ctx.now), language=ctx.language, timezone=timezone)


def offers_code(ctx: Ctx) -> bool:
    """The code step is asked only when the event has an active voucher."""
    event = ctx.event
    return bool(event and event.has_vouchers)


def _category(ctx: Ctx) -> CatalogCategory | None:
    event = ctx.event
    return event.category(ctx.answers.get("category")) if event else None


def lookup(ctx: Ctx, code: str) -> Applied:
    """The voucher as it applies to the draft's category now; raise Invalid with the reason."""
    category = _category(ctx)
    price = category.quote(ctx.now).price if category else 0
    try:
        return ctx.voucher(code, category.code if category else None, price)
    except VoucherRefused as err:
        raise Invalid(err.key, code=code) from err


def parse_code(text: str, ctx: Ctx) -> Answer:
    """A voucher code, checked against the event; "-" / "tidak" means none."""
    value = parsers.norm(text)
    current = ctx.answers.get(KEY)
    if current and value in words("words.yes"):  # the code given earlier with KODE, kept
        lookup(ctx, str(current))
        return Answer(current)
    if not value or value in words("words.no_code"):
        return Answer("", label="-")
    code = normalise(text)
    if len(code) > 40:
        raise Invalid("pricing.refused.unknown", code=code[:40])
    lookup(ctx, code)
    return Answer(code)


def code_variant(ctx: Ctx) -> str:
    """``have``: a code came earlier (KODE ABC123); the step asks to keep it."""
    return "have" if ctx.answers.get(KEY) else ""


def code_params(ctx: Ctx) -> dict[str, Any]:
    return {"code": ctx.answers.get(KEY) or ""}


def recheck_code(value: Any, ctx: Ctx) -> None:
    """Ask again when the code stopped fitting (another category, used up meanwhile)."""
    if value:
        lookup(ctx, str(value))


def summary_lines(ctx: Ctx) -> list[str]:
    """Price, discount and total for the summary; remembers the total shown."""
    category = _category(ctx)
    event = ctx.event
    if category is None or event is None:
        return []
    quote = category.quote(ctx.now)
    tier = pricing.describe(quote, language=ctx.language, timezone=event.timezone)
    lines = [t("pricing.summary.price", ctx.language, price=quote.price, tier=tier)]
    total = quote.price
    code = ctx.answers.get(KEY)
    if code:
        try:
            applied = lookup(ctx, str(code))
        except Invalid:
            applied = None  # submit refuses it with the reason; the summary shows the full price
        if applied is not None and applied.discount:
            lines.append(
                t("pricing.summary.discount", ctx.language, code=code, discount=applied.discount)
            )
            total -= applied.discount
    if total != quote.price or total == 0:
        lines.append(t("pricing.summary.total", ctx.language, total=total))
    ctx.answers[SHOWN] = total
    return lines


def apply_command(ctx: Ctx, arg: str | None) -> tuple[bool, str]:
    """KODE ABC123 mid-draft: (accepted, the reply text); the code is stored when accepted."""
    code = normalise(arg)
    if not code:
        return False, t("pricing.code_missing", ctx.language)
    try:
        applied = lookup(ctx, code)
    except Invalid as err:
        return False, t(err.key, ctx.language, **err.params)
    ctx.answers[KEY] = code
    category = _category(ctx)
    if category is not None:
        free = applied.discount >= category.quote(ctx.now).price
    else:  # no category yet: what the code gives in general
        free = applied.kind == "percent" and applied.value >= 100
    return True, t(
        "pricing.applied",
        ctx.language,
        code=code,
        discount=applied.discount,
        free=free,
        kind=applied.kind,
        value=applied.value,
    )
