"""Extract transfer fields from OCR segments: amount, date/time, sender, account, holder, bank, status, reference.

Pure: segments (text + box) in, a ``Reading`` out. Each field is reported only when it parses
strictly; anything ambiguous (two different amounts of the same size, a malformed number) gives
None, because a wrong "match" in the verification queue is worse than no reading at all.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.payments.screenshot_reading.engines import Box, Segment

BANKS = {  # name shown to the verifier -> how it is written (space-less, lower case)
    "BCA": ("bca", "m-transfer", "mybca"),
    "Mandiri": ("mandiri", "livin"),
    "BRI": ("bri", "brimo"),
    "BNI": ("bni", "wondr"),
    "BSI": ("bsi", "byond"),
    "CIMB Niaga": ("cimb", "cimbniaga", "octo"),
    "Permata": ("permata", "permatabank"),
    "Jago": ("jago", "bankjago"),
    "SeaBank": ("seabank",),
    "blu": ("blu", "blubybcadigital"),
    "GoPay": ("gopay",),
    "OVO": ("ovo",),
    "DANA": ("dana",),
    "ShopeePay": ("shopeepay",),
    "QRIS": ("qris",),
}
LABELS = {  # field -> labels (space-less, lower case, no dots), longest first when matching
    "sender": ("darirekening", "darikantong", "sumberdana", "rekeningsumber", "rekeningasal",
               "pengirim", "dibayardengan", "sumber", "dari"),
    "account": ("nomorrekeningtujuan", "norekeningtujuan", "rekeningtujuan", "kerekening",
                "nomortujuan", "kenomor", "ke"),
    "holder": ("namapenerima", "namatujuan", "penerima", "merchant", "nama"),
    "reference": ("noreferensi", "nomorreferensi", "noref", "referenceno", "idtransaksi",
                  "notransaksi", "reference"),
    "bank": ("banktujuan", "layanan"),
    "fee": ("biayaadmin", "biaya", "admin", "fee", "saldo"),
}  # fmt: skip
SUCCESS = {"berhasil": "Berhasil", "sukses": "Sukses", "success": "Sukses", "successful": "Sukses"}
FAILURE = {"gagal": "Gagal", "pending": "Pending", "diproses": "Diproses", "failed": "Gagal"}
MONTHS = {
    "jan": 1, "januari": 1, "january": 1, "feb": 2, "februari": 2, "february": 2, "mar": 3,
    "maret": 3, "march": 3, "apr": 4, "april": 4, "mei": 5, "may": 5, "jun": 6, "juni": 6,
    "june": 6, "jul": 7, "juli": 7, "july": 7, "agu": 8, "agt": 8, "agustus": 8, "aug": 8,
    "august": 8, "sep": 9, "sept": 9, "september": 9, "okt": 10, "oktober": 10, "oct": 10,
    "october": 10, "nov": 11, "november": 11, "des": 12, "desember": 12, "dec": 12, "december": 12,
}  # fmt: skip
FIELDS = ("amount", "when", "sender", "account", "holder", "bank", "status", "reference")

_MONEY = re.compile(
    r"(?:(?P<cur>rp\.?|idr)\s*)?(?P<num>\d{1,3}(?:[.,]\s?\d{3})+(?:[.,]\d{2})?|\d{4,9}(?:[.,]\d{2})?)(?!\d)",
    re.IGNORECASE,
)
_DMY = re.compile(r"(\d{1,2})\s*[/-]\s*(\d{1,2})\s*[/-]\s*(20\d{2})")
_YMD = re.compile(r"(20\d{2})\s*-\s*(\d{1,2})\s*-\s*(\d{1,2})")
_DMONY = re.compile(r"(\d{1,2})\s*([a-z]{3,9})\s*,?\s*(20\d{2})", re.IGNORECASE)
_TIME = re.compile(r"(?<!\d)([01]?\d|2[0-3])\s*[:.]\s*([0-5]\d)(?:\s*[:.]\s*[0-5]\d)?(?!\d)")
_REFERENCE = re.compile(r"^[A-Z0-9]{8,32}$")


@dataclass(slots=True)
class Reading:
    """What the screenshot says; ``boxes`` maps a field to where it was read (engine pixels)."""

    amount: int | None = None
    when: datetime | None = None  # local time as shown, to the minute
    sender: str | None = None
    account: str | None = None  # digits only
    holder: str | None = None
    bank: str | None = None
    status: str | None = None
    reference: str | None = None
    boxes: dict[str, Box] = field(default_factory=dict)
    text: str = ""

    def fields(self) -> dict[str, Any]:
        values = {name: getattr(self, name) for name in FIELDS}
        if self.when is not None:
            values["when"] = self.when.strftime("%Y-%m-%dT%H:%M")
        return values


@dataclass(slots=True)
class Row:
    """Segments at the same height, left to right (a label and its value)."""

    segments: list[Segment]

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.segments)

    @property
    def height(self) -> int:
        return max(s.box[3] - s.box[1] for s in self.segments)

    @property
    def box(self) -> Box:
        return _union([s.box for s in self.segments])


def _union(boxes: Sequence[Box]) -> Box:
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def squash(text: str) -> str:
    """Lower case without spaces, dots or dashes: OCR engines disagree on those."""
    return re.sub(r"[\s.\-:_'’]", "", text.lower())


def rows(segments: Sequence[Segment]) -> list[Row]:
    """Group segments into visual rows: centres within half a letter height of each other."""
    ordered = sorted(segments, key=lambda s: (s.box[1] + s.box[3]) / 2)
    result: list[Row] = []
    for segment in ordered:
        centre = (segment.box[1] + segment.box[3]) / 2
        if result:
            last = result[-1]
            last_centre = (last.box[1] + last.box[3]) / 2
            if abs(centre - last_centre) < 0.5 * min(last.height, segment.box[3] - segment.box[1]):
                last.segments.append(segment)
                last.segments.sort(key=lambda s: s.box[0])
                continue
        result.append(Row([segment]))
    return result


def extract(segments: Sequence[Segment]) -> Reading:
    """Read every field the segments carry; a field stays None unless it parses strictly."""
    table = rows(segments)
    reading = Reading(text="\n".join(row.text for row in table))
    values = labelled(table)
    _amount(reading, table)
    _when(reading, table)
    _status(reading, table)
    _bank(reading, table, values)
    for name, clean in (("sender", _name), ("holder", _name), ("account", _account),
                        ("reference", _reference)):  # fmt: skip
        if name in values:
            text, box = values[name]
            value = clean(text)
            if value is not None:
                setattr(reading, name, value)
                reading.boxes[name] = box
    return reading


def _label_pattern(label: str) -> re.Pattern[str]:
    return re.compile(r"[\s.:\-]*".join(re.escape(ch) for ch in label) + r"(?=$|[\s:.])", re.I)


_ORDERED = sorted(
    ((name, label, _label_pattern(label)) for name, labels in LABELS.items() for label in labels),
    key=lambda item: -len(item[1]),
)


def row_label(row: Row) -> tuple[str, str, Box] | None:
    """(field, value text, value box) when the row starts with a known label."""
    first = squash(row.segments[0].text)
    for name, label, pattern in _ORDERED:
        if len(row.segments) > 1 and first == label:
            rest = row.segments[1:]
            return name, " ".join(s.text for s in rest), _union([s.box for s in rest])
        match = pattern.match(row.segments[0].text.strip())
        if match:
            tail = row.segments[0].text.strip()[match.end() :].strip(" :—-|")
            rest_text = " ".join([tail, *(s.text for s in row.segments[1:])]).strip()
            return name, rest_text, row.box
    return None


def labelled(table: Sequence[Row]) -> dict[str, tuple[str, Box]]:
    """Field -> (value text, box) for rows that start with a label; a bare label takes the next row."""
    found: dict[str, tuple[str, Box]] = {}
    for index, row in enumerate(table):
        hit = row_label(row)
        if hit is None:
            continue
        name, text, box = hit
        if not text and index + 1 < len(table) and row_label(table[index + 1]) is None:
            text, box = table[index + 1].text, table[index + 1].box
        if text and name not in found:
            found[name] = (text, box)
    return found


def parse_amount(raw: str) -> int | None:
    """``175.408``, ``175,408.00``, ``175.408,00``, ``175408`` -> 175408; anything else -> None."""
    text = re.sub(r"\s", "", raw)
    match = re.fullmatch(r"(\d{1,3}(?:([.,])\d{3})*|\d{4,9})(?:([.,])(\d{2}))?", text)
    if not match:
        return None
    whole, group_sep, decimal_sep, cents = match.groups()
    if decimal_sep and group_sep and decimal_sep == group_sep:
        return None  # "1.234.56": not a number any app prints
    if cents and cents != "00":
        return None  # transfers are whole rupiah; cents mean we misread something
    value = int(re.sub(r"\D", "", whole))
    return value if value >= 1000 else None


def _amount(reading: Reading, table: Sequence[Row]) -> None:
    candidates: list[tuple[int, int, Box]] = []  # value, letter height, box
    for row in table:
        hit = row_label(row)
        if hit is not None and hit[0] in ("fee", "account", "reference", "sender"):
            continue  # an admin fee, a balance or an account number is never the transfer
        if _DMY.search(row.text) or _YMD.search(row.text) or _date_by_name(row.text):
            continue
        for match in _MONEY.finditer(row.text):
            money = parse_amount(match.group("num"))
            strict = match.group("cur") or re.search(r"[.,]\d{3}", match.group("num"))
            if money is not None and strict:
                candidates.append((money, row.height, row.box))
    choice = _choose(candidates)
    if choice is not None:
        reading.amount, reading.boxes["amount"] = choice


def _choose(candidates: list[tuple[int, int, Box]]) -> tuple[int, Box] | None:
    """One value, or the clearly biggest print (the headline amount); otherwise unsure."""
    if not candidates:
        return None
    ranked = sorted(candidates, key=lambda c: -c[1])
    top = ranked[0]
    others = [c for c in ranked[1:] if c[0] != top[0]]
    if not others or top[1] >= 1.3 * others[0][1]:
        return top[0], top[2]
    return None


def _date_by_name(text: str) -> tuple[int, int, int, int] | None:
    """(day, month, year, end) for "27 Nov 2026" or "1 Desember 2026"."""
    for match in _DMONY.finditer(text):
        month = MONTHS.get(match.group(2).lower())
        if month:
            return int(match.group(1)), month, int(match.group(3)), match.end()
    return None


def _date(text: str) -> tuple[int, int, int, int] | None:
    named = _date_by_name(text)
    if named:
        return named
    match = _DMY.search(text)
    if match:
        return int(match.group(1)), int(match.group(2)), int(match.group(3)), match.end()
    match = _YMD.search(text)
    if match:
        return int(match.group(3)), int(match.group(2)), int(match.group(1)), match.end()
    return None


def _when(reading: Reading, table: Sequence[Row]) -> None:
    found: dict[datetime, Box] = {}
    for index, row in enumerate(table):
        date = _date(row.text)
        if date is None:
            continue
        day, month, year, end = date
        clock = _TIME.search(row.text[end:])  # a slice: the year's digits must not touch it
        box = row.box
        if clock is None and index + 1 < len(table):
            clock = _TIME.search(table[index + 1].text)
            box = _union([row.box, table[index + 1].box])
        if clock is None:
            continue
        try:
            when = datetime(year, month, day, int(clock.group(1)), int(clock.group(2)))
        except ValueError:
            continue
        found.setdefault(when, box)
    if len(found) == 1:
        reading.when, reading.boxes["when"] = next(iter(found.items()))


def _status(reading: Reading, table: Sequence[Row]) -> None:
    """A failure word anywhere wins over a success word (a "pending" screen is not a payment)."""
    for words in (FAILURE, SUCCESS):
        for row in table:
            squashed = squash(row.text)
            hits = [label for word, label in words.items() if word in squashed]
            if hits:
                reading.status, reading.boxes["status"] = hits[0], row.box
                return


def bank_of(text: str) -> str | None:
    """The bank or e-wallet a piece of text names as a whole word, if exactly one."""
    tokens = set(re.findall(r"[a-z0-9\-]+", text.lower())) | {squash(text)}
    names = {name for name, aliases in BANKS.items() if tokens & set(aliases)}
    return names.pop() if len(names) == 1 else None


def _bank(reading: Reading, table: Sequence[Row], values: dict[str, tuple[str, Box]]) -> None:
    if "bank" in values:
        name = bank_of(values["bank"][0])
        if name:
            reading.bank, reading.boxes["bank"] = name, values["bank"][1]
            return
    for row in table[:3]:  # the app's header
        if row_label(row) is None and (name := bank_of(row.text)):
            reading.bank, reading.boxes["bank"] = name, row.box
            return


_LABEL_WORDS = {"penerima", "nama", "tujuan", "pengirim", "rekening", "dari", "ke"}


def _name(text: str) -> str | None:
    words = [
        w for w in re.split(r"\s+", text.strip()) if re.fullmatch(r"[A-Za-z][A-Za-z.,'&-]*", w)
    ]
    while words and words[0].lower() in _LABEL_WORDS:  # the tail of a label split in two
        words = words[1:]
    name = " ".join(words).strip(" .,")
    return name.upper() if len(name) >= 3 else None


def _account(text: str) -> str | None:
    if re.search(r"[A-Za-z*#]", text):
        return None  # masked or not a number (a merchant ID, a name)
    digits = re.sub(r"\D", "", text)
    return digits if 8 <= len(digits) <= 16 else None


def _reference(text: str) -> str | None:
    value = re.sub(r"\s", "", text).upper()
    if _REFERENCE.fullmatch(value) and sum(ch.isdecimal() for ch in value) >= 6:
        return value
    return None
