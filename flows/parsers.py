"""Pure answer parsers: text in, normalised value out, or Invalid with a correction key."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

import phonenumbers

from core.i18n import t, words
from core.phones import to_e164
from core.registration.intake import age_on
from flows.spec import Answer, Ctx, Invalid, Option

MONTHS = {
    "jan": 1, "januari": 1, "january": 1,
    "feb": 2, "februari": 2, "february": 2, "pebruari": 2,
    "mar": 3, "maret": 3, "march": 3,
    "apr": 4, "april": 4,
    "mei": 5, "may": 5,
    "jun": 6, "juni": 6, "june": 6,
    "jul": 7, "juli": 7, "july": 7,
    "agu": 8, "agt": 8, "agus": 8, "agustus": 8, "aug": 8, "august": 8,
    "sep": 9, "sept": 9, "september": 9,
    "okt": 10, "oct": 10, "oktober": 10, "october": 10,
    "nov": 11, "nop": 11, "november": 11, "nopember": 11,
    "des": 12, "dec": 12, "desember": 12, "december": 12,
}  # fmt: skip
NAME_RE = re.compile(r"^[^\W\d_]+(?:[ '.,\-][^\W\d_]*)*$")
EMAIL_RE = re.compile(r"^[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}$")


NUMBERED_RE = re.compile(r"^\s*\d{1,2}\.\s+(\S.*)$", re.DOTALL)


def unnumbered(text: str) -> str:
    """A tapped Telegram button "2. Tidak" -> "Tidak" (buttons carry their number on Telegram)."""
    match = NUMBERED_RE.match(text)
    return match[1] if match else text


def clean(text: str) -> str:
    """Collapse whitespace and trim."""
    return " ".join(text.split())


def norm(text: str) -> str:
    """Lower-case, accents and punctuation at the ends removed: for matching choices."""
    plain = unicodedata.normalize("NFKD", clean(text)).encode("ascii", "ignore").decode()
    return plain.lower().strip(" .!?*")


def person_name(text: str, _ctx: Ctx) -> str:
    """A name as on an ID card: 3-100 characters, letters and common punctuation."""
    value = clean(text)
    if not 3 <= len(value) <= 100:
        raise Invalid("flow.invalid.name_length")
    if not NAME_RE.match(value):
        raise Invalid("flow.invalid.name_chars")
    return value


def gender(text: str, _ctx: Ctx) -> str:
    """L/P, M/F, Laki-laki/Perempuan, Male/Female, 1/2 (or a tapped "2. Perempuan") -> "M"/"F"."""
    value = norm(unnumbered(text)).replace(" ", "").replace("-", "")
    if value in {"l", "m", "1", "lakilaki", "laki", "pria", "male", "man", "cowok"}:
        return "M"
    if value in {"p", "f", "2", "perempuan", "wanita", "female", "woman", "cewek"}:
        return "F"
    raise Invalid("flow.invalid.gender")


DATE_ISO = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
DATE_NUMERIC = re.compile(r"(\d{1,2})[-/. ](\d{1,2})[-/. ](\d{4}|\d{2})")
DATE_WORDS = re.compile(r"(\d{1,2})[ -]?([a-z]+)[ -]?(\d{4}|\d{2})")


def date_parts(text: str) -> tuple[int, int, int] | None:
    """The (year, month, day) a runner typed, not yet checked as a calendar date.

    A year may have two digits (``yy`` is returned as-is, below 100); day and month are swapped
    when only that reading works ("1992/31/05", "05/31/1992").
    """
    value = norm(text)
    if m := DATE_ISO.fullmatch(value):
        year, month, day = int(m[1]), int(m[2]), int(m[3])
    elif m := DATE_NUMERIC.fullmatch(value):
        year, month, day = int(m[3]), int(m[2]), int(m[1])
    elif m := DATE_WORDS.fullmatch(value):
        named = MONTHS.get(m[2])
        if named is None:
            return None
        year, month, day = int(m[3]), named, int(m[1])
    else:
        return None
    if month > 12 >= day:
        month, day = day, month
    return year, month, day


def parse_date(text: str) -> date | None:
    """17-08-1990, 17/08/1990, 17.08.1990, 17 Agustus 1990, 1990-08-17 -> date (None if not a date)."""
    parts = date_parts(text)
    if parts is None or parts[0] < 100:
        return None
    try:
        return date(*parts)
    except ValueError:
        return None


def _calendar_date(year: int, month: int, day: int, language: str) -> date:
    """The date, or Invalid naming the day that does not exist ("31 Februari tidak ada")."""
    if not 1 <= month <= 12:
        raise Invalid("flow.invalid.date")
    try:
        return date(year, month, day)
    except ValueError:
        month_name = t(f"answers.month.{month}", language)
        raise Invalid("flow.invalid.no_such_day", day=day, month=month_name) from None


def _with_century(yy: int, month: int, day: int, ctx: Ctx) -> date:
    """A 2-digit year: 19yy or 20yy, whichever makes a plausible age (the category's limits first)."""
    candidates = []
    for century in (2000, 1900):
        try:
            candidates.append(date(century + yy, month, day))
        except ValueError:
            continue  # 29 Feb exists in 2000, not in 1900
    if not candidates:
        _calendar_date(2000 + yy, month, day, ctx.language)  # raises, naming the day
    past = [born for born in candidates if born < ctx.today] or candidates
    for born in past:
        try:
            check_age(born.isoformat(), ctx)
        except Invalid:
            continue
        return born
    return past[0]  # neither fits the category: the age check explains it


def date_of_birth(text: str, ctx: Ctx) -> str:
    """A date of birth that fits the chosen category's age limits on race day (ISO string)."""
    parts = date_parts(text)
    if parts is None:
        raise Invalid("flow.invalid.date")
    year, month, day = parts
    if year < 100:
        born = _with_century(year, month, day, ctx)
    else:
        born = _calendar_date(year, month, day, ctx.language)
    if born >= ctx.today or born.year < 1900:
        raise Invalid("flow.invalid.date_range")
    try:
        check_age(born.isoformat(), ctx)
    except Invalid as err:
        err.held = born.isoformat()  # kept: after KATEGORI it may fit the new category
        raise
    return born.isoformat()


def check_age(value: str, ctx: Ctx) -> None:
    """Raise Invalid when the age on race day is outside the category's limits."""
    event = ctx.event
    category = event.category(ctx.answers.get("category")) if event else None
    if event is None or category is None:
        return
    age = age_on(date.fromisoformat(value), event.race_date)
    low, high = category.min_age, category.max_age
    if (low is not None and age < low) or (high is not None and age > high):
        raise Invalid(
            "flow.invalid.age", age=age, min_age=low, max_age=high, category=category.code
        )


# Mistyped domains of the big providers -> the domain meant. Asked, never silently changed: a
# runner may really use "gmail.co" (no one does) or a small domain that looks like a typo.
DOMAIN_TYPOS = {
    "gmail.con": "gmail.com", "gmail.co": "gmail.com", "gmail.cm": "gmail.com",
    "gmail.om": "gmail.com", "gmail.comm": "gmail.com", "gmail.cim": "gmail.com",
    "gmial.com": "gmail.com", "gmal.com": "gmail.com", "gmai.com": "gmail.com",
    "gamil.com": "gmail.com", "gnail.com": "gmail.com", "gmaill.com": "gmail.com",
    "gmail.coom": "gmail.com", "gmaik.com": "gmail.com", "gemail.com": "gmail.com",
    "yaho.com": "yahoo.com", "yahooo.com": "yahoo.com", "yahoo.con": "yahoo.com",
    "yhoo.com": "yahoo.com", "yahho.com": "yahoo.com", "yaoo.com": "yahoo.com",
    "yahoo.cm": "yahoo.com", "yahoo.co.di": "yahoo.co.id", "yaho.co.id": "yahoo.co.id",
    "yahoo.coid": "yahoo.co.id", "yahoo.co.od": "yahoo.co.id",
    "hotmal.com": "hotmail.com", "hotmial.com": "hotmail.com", "hotmail.con": "hotmail.com",
    "hotmil.com": "hotmail.com", "hotnail.com": "hotmail.com", "hotmai.com": "hotmail.com",
    "ymial.com": "ymail.com", "ymai.com": "ymail.com", "ymail.con": "ymail.com",
    "ymal.com": "ymail.com", "ymail.co": "ymail.com",
    "outlok.com": "outlook.com", "outloo.com": "outlook.com", "outlook.con": "outlook.com",
    "iclod.com": "icloud.com", "icoud.com": "icloud.com", "icloud.con": "icloud.com",
}  # fmt: skip


def email_suggestion(value: str) -> str | None:
    """``dewi@gmial.com`` -> ``dewi@gmail.com``; None when the domain is not a known typo."""
    local, _, domain = value.rpartition("@")
    meant = DOMAIN_TYPOS.get(domain)
    return f"{local}@{meant}" if local and meant else None


def email(text: str, ctx: Ctx) -> str:
    """A plausible email address, lower-cased, not yet registered in this event.

    A known typo of a big provider's domain is asked about (Invalid with a ``suggestion``, which
    the engine keeps: a YES next takes it).
    """
    value = clean(text).lower().replace(" ", "")
    if not EMAIL_RE.match(value) or len(value) > 200 or ".." in value:
        raise Invalid("flow.invalid.email")
    if suggestion := email_suggestion(value):
        raise Invalid("flow.invalid.email_typo", suggestion=suggestion, typed=value)
    if ctx.taken("email", value):
        raise Invalid("flow.invalid.email_taken")
    return value


def any_phone(text: str) -> str | None:
    """An Indonesian mobile in today's friendly forms, or a foreign number in E.164 (+65…, +61…).

    Foreign numbers are checked by the phonenumbers library (real numbering plans, not a rule
    of ours); they need the leading + and country code, since 08… means Indonesia here.
    """
    number = to_e164(text)
    if number is not None or not text.strip().startswith("+"):
        return number
    try:
        parsed = phonenumbers.parse(text.strip(), None)
    except phonenumbers.NumberParseException:
        return None
    if parsed.country_code == 62 or not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def phone(text: str, ctx: Ctx) -> str:
    """The runner's WhatsApp number: a known one confirmed with YA, a shared contact, or typed."""
    if ctx.shared_phone and (number := to_e164(ctx.shared_phone)):
        return number
    if (
        ctx.known_phone
        and norm(text) in words("words.yes")
        and (number := to_e164(ctx.known_phone))
    ):
        return number
    number = any_phone(text)
    if number is None:
        raise Invalid("flow.invalid.phone")
    return number


def nik(text: str, ctx: Ctx) -> str:
    """A 16-digit national ID number, not yet registered in this event."""
    value = re.sub(r"[\s.\-]", "", text)
    if not re.fullmatch(r"\d{16}", value):
        raise Invalid("flow.invalid.nik")
    if value[:2] == "00" or len(set(value)) == 1:
        raise Invalid("flow.invalid.nik")
    if ctx.taken("nik", value):
        raise Invalid("flow.invalid.nik_taken")
    return value


def reusable_emergency(ctx: Ctx) -> tuple[str, str] | None:
    """The previous registration's emergency contact, unless it is this participant's own number."""
    previous = ctx.emergency_contact()
    if previous is None or previous[1] == ctx.answers.get("phone"):
        return None
    return previous


RELATION_RE = re.compile(r"^(.*?)\s*\(\s*([^\W\d_][^\W\d_ '.\-]*(?:[ '.\-][^\W\d_]+)*)\s*\)$")


def emergency_name(text: str, ctx: Ctx) -> str | Answer:
    """A contact name, or "1"/YA to reuse the previous registration's emergency contact.

    A relation in brackets ("Pak Hendra (suami)") is accepted and kept in the stored name as
    typed: the organiser calling that number wants to know who answers.
    """
    previous = reusable_emergency(ctx)
    if previous and norm(text) in words("words.yes"):
        return Answer(previous[0], extra={"emergency_phone": previous[1]})
    value = clean(text)
    if (m := RELATION_RE.match(value)) and len(m[2]) <= 30:
        return f"{person_name(m[1], ctx)} ({m[2]})"
    return person_name(text, ctx)


def emergency_phone(text: str, ctx: Ctx) -> str:
    """A phone number that is not the runner's own."""
    number = any_phone(text)
    if number is None:
        raise Invalid("flow.invalid.phone")
    check_emergency_phone(number, ctx)
    return number


def check_emergency_phone(value: str, ctx: Ctx) -> None:
    """Raise Invalid when the emergency phone is the runner's own (re-checked after an edit)."""
    if value == ctx.answers.get("phone"):
        raise Invalid("flow.invalid.emergency_same")


def blood_type(text: str, _ctx: Ctx) -> str:
    """A, B, AB, O (rhesus sign ignored) or "tidak tahu" -> "unknown" (a tapped "4. O" too)."""
    value = norm(unnumbered(text)).replace(" ", "").rstrip("+-")
    if value in {"a", "b", "ab", "o", "0"}:
        return "O" if value == "0" else value.upper()
    if value in {
        "5",
        "tidaktahu",
        "gatau",
        "gktau",
        "taktahu",
        "unknown",
        "dontknow",
        "don'tknow",
        "-",
        "?",
    }:
        return "unknown"
    mapping = {"1": "A", "2": "B", "3": "AB", "4": "O"}
    if value in mapping:
        return mapping[value]
    raise Invalid("flow.invalid.blood_type")


def medical_notes(text: str, _ctx: Ctx) -> str:
    """Free text up to 500 characters; "-" (or "tidak ada"/"none") means nothing."""
    value = clean(text)
    if norm(value) in {
        "-",
        "",
        "tidak ada",
        "tidak",
        "none",
        "no",
        "nihil",
        "tidak ada.",
        "ga ada",
    }:
        return ""
    if len(value) > 500:
        raise Invalid("flow.invalid.too_long", limit=500)
    return value


SHORT_SEPARATOR = " · "


def pick(text: str, options: list[Option]) -> Option:
    """Match a number, a value, a label or an alias to one option (raises Invalid)."""
    if NUMBERED_RE.match(text):
        return pick(unnumbered(text), options)  # the label decides, even if the numbers moved
    value = norm(text)
    if not value:
        raise Invalid("flow.invalid.choice", count=len(options))
    found = None
    if value.isdecimal() and 1 <= int(value) <= len(options):
        found = options[int(value) - 1]
    for option in options if found is None else ():
        shown = f"{option.label} — {option.detail}" if option.detail else option.label
        names = {option.value, option.label, shown, *option.aliases}
        if value in {norm(n) for n in names}:
            found = option
            break
    if found is None and " — " in text:
        # A keyboard button tapped after its numbers changed ("sisa 10 slot" -> 9): the head counts.
        return pick(text.split(" — ", 1)[0], options)
    if found is None and SHORT_SEPARATOR in text:
        return pick(text.split(SHORT_SEPARATOR, 1)[0], options)  # a short button: "5K · Rp150.000"
    if found is None:
        raise Invalid("flow.invalid.choice", count=len(options))
    if not found.enabled:
        raise Invalid(found.disabled_key, option=found.label)
    return found


def one_of(choices_fn):  # type: ignore[no-untyped-def]
    """Build a parser that accepts one enabled option of ``choices_fn(ctx)``."""

    def parse(text: str, ctx: Ctx) -> Answer:
        option = pick(text, choices_fn(ctx))
        return Answer(option.value, label=option.label)

    return parse
