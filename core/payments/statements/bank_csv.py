"""Read a bank's mutation export (CSV) into credit lines, with per-bank column presets.

Pure: no database. ``credits`` stores and matches the lines. A mapping names the
columns; each value is a header name, a list of alternative names (first one present wins), or
``"#N"`` for the N-th column (0-based) when the header cell is blank. Keys:

* ``date``, ``description``, ``reference``, ``balance``: where to read those (reference optional:
  without one, a stable hash of date, description, amount and balance stands in);
* ``credit`` (+ optional ``debit``): separate credit/debit columns, *or*
* ``amount`` + optional ``direction`` and ``credit_markers``: one amount column with a CR/DB marker
  (in its own column, or as a suffix such as ``150,000.00 CR``; without a marker the sign decides);
* ``delimiter`` (sniffed when absent) and ``skip_markers`` (date cells that mean "not booked yet").

Presets, from the banks' usual internet/business banking downloads (header names vary by product,
hence the alternatives; an organiser can always map columns by hand, and the mapping is remembered
per account):

* BCA (KlikBCA "Mutasi Rekening"): ``Tanggal Transaksi, Keterangan, Cabang, Jumlah, <CR/DB>, Saldo``,
  preceded by a few account-info lines; pending rows carry ``PEND`` as the date.
* Mandiri (Livin'/Mandiri Internet, MCM): ``Tanggal / Tgl., Keterangan / Rincian Transaksi,
  No. Referensi, Debit / Debet, Kredit, Saldo``.
* BRI (Internet Banking / CMS): ``TGL_TRAN, DESK_TRAN, MUTASI_DEBET, MUTASI_KREDIT,
  SALDO_AKHIR_MUTASI`` (or the Indonesian labels ``Tanggal Transaksi, Uraian Transaksi, Debet,
  Kredit, Saldo``).
* BNI (BNIDirect / Internet Banking): ``Post Date, Value Date, Branch, Journal No., Description,
  Debit, Credit, Balance`` (or ``Tanggal Transaksi, Uraian Transaksi, Tipe, Nominal, Saldo`` with
  Tipe ``K``/``D``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

DATE = ["Tanggal Transaksi", "Tanggal", "Tgl.", "Tgl", "Date", "Post Date", "Posting Date"]
DESCRIPTION = ["Keterangan", "Uraian Transaksi", "Rincian Transaksi", "Description", "Remark"]
PRESETS: dict[str, dict[str, Any]] = {
    "bca": {
        "date": ["Tanggal Transaksi", "Tanggal"],
        "description": ["Keterangan"],
        "amount": ["Jumlah", "Mutasi"],
        "direction": "#4",
        "credit_markers": ["CR", "K"],
        "balance": ["Saldo"],
        "skip_markers": ["PEND"],
    },
    "mandiri": {
        "date": ["Tanggal", "Tgl.", "Tgl", "Posting Date"],
        "description": ["Keterangan", "Rincian Transaksi", "Remark", "Description"],
        "reference": ["No. Referensi", "No. Ref", "Reference No.", "Reference No"],
        "debit": ["Debit", "Debet"],
        "credit": ["Kredit", "Credit"],
        "balance": ["Saldo", "Balance"],
    },
    "bri": {
        "date": ["TGL_TRAN", "Tanggal Transaksi", "Tanggal"],
        "description": ["DESK_TRAN", "Uraian Transaksi", "Keterangan"],
        "reference": ["NO_REF", "No. Referensi"],
        "debit": ["MUTASI_DEBET", "Debet", "Debit"],
        "credit": ["MUTASI_KREDIT", "Kredit", "Credit"],
        "balance": ["SALDO_AKHIR_MUTASI", "Saldo"],
    },
    "bni": {
        "date": ["Post Date", "Tanggal Transaksi", "Tanggal"],
        "description": ["Description", "Uraian Transaksi", "Keterangan"],
        "reference": ["Journal No.", "Journal No", "No. Jurnal"],
        "debit": ["Debit"],
        "credit": ["Credit", "Kredit"],
        "amount": ["Nominal", "Amount"],
        "direction": ["Tipe", "Type", "D/K"],
        "credit_markers": ["K", "C", "CR"],
        "balance": ["Balance", "Saldo"],
    },
    "generic": {
        "date": DATE,
        "description": DESCRIPTION,
        "reference": ["Reference", "Referensi", "No. Referensi"],
        "credit": ["Kredit", "Credit", "CR"],
        "debit": ["Debit", "Debet", "DB"],
        "amount": ["Jumlah", "Amount", "Nominal", "Mutasi"],
        "balance": ["Saldo", "Balance"],
    },
}


class StatementFormatError(ValueError):
    """The file does not match the mapping (no header row found, unreadable)."""


@dataclass(frozen=True, slots=True)
class ParsedLine:
    """One credit read from the export."""

    row: int
    reference: str
    amount: int
    posted_at: str
    description: str


@dataclass(slots=True)
class Preview:
    """The parsed file: credits to import, plus what was skipped and why."""

    columns: list[str]
    lines: list[ParsedLine] = field(default_factory=list)
    debits: int = 0
    skipped: list[str] = field(default_factory=list)


def preset_name(bank_name: str) -> str:
    """The key of the preset whose name appears in ``bank_name`` (``generic`` otherwise)."""
    name = bank_name.lower()
    return next((key for key in PRESETS if key != "generic" and key in name), "generic")


def preset_for(bank_name: str) -> dict[str, Any]:
    """Return (a copy of) the preset for ``bank_name``."""
    return dict(PRESETS[preset_name(bank_name)])


def parse(content: bytes | str, mapping: Mapping[str, Any]) -> Preview:
    """Parse an export with ``mapping``; raise StatementFormatError when no header row matches."""
    text = _decode(content)
    rows = list(csv.reader(io.StringIO(text), delimiter=mapping.get("delimiter") or _sniff(text)))
    header_at, columns = _find_header(rows, mapping)
    preview = Preview(columns=columns)
    index = {key: _column(columns, mapping.get(key)) for key in _KEYS}
    markers = [m.upper() for m in mapping.get("credit_markers") or ["CR"]]
    skip = {m.upper() for m in mapping.get("skip_markers") or []}
    for number, row in enumerate(rows[header_at + 1 :], start=header_at + 2):
        cells = _Row([_clean(c) for c in row], index)
        if not any(cells.cells):
            continue
        if cells.get("date").upper() in skip:
            preview.skipped.append(f"row {number}: not booked yet")
            continue
        amount = _credit_amount(cells, markers)
        if amount is None:
            preview.skipped.append(f"row {number}: no amount")
        elif amount <= 0:
            preview.debits += 1
        else:
            preview.lines.append(_line(number, cells, amount))
    return preview


@dataclass(frozen=True, slots=True)
class _Row:
    cells: list[str]
    index: Mapping[str, int | None]

    def has(self, key: str) -> bool:
        return self.index[key] is not None

    def get(self, key: str) -> str:
        at = self.index[key]
        return self.cells[at] if at is not None and at < len(self.cells) else ""


def _line(number: int, row: _Row, amount: int) -> ParsedLine:
    reference = row.get("reference") or _derived_reference(
        row.get("date"), row.get("description"), amount, row.get("balance")
    )
    return ParsedLine(number, reference[:200], amount, row.get("date")[:40], row.get("description"))


_KEYS = ("date", "description", "reference", "balance", "credit", "debit", "amount", "direction")


def _decode(content: bytes | str) -> str:
    if isinstance(content, str):
        return content
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    return content.decode("latin-1")


def _sniff(text: str) -> str:
    sample = "\n".join(text.splitlines()[:30])
    counts = {d: sample.count(d) for d in (",", ";", "\t", "|")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def _clean(cell: str) -> str:
    # BCA prefixes cells with an apostrophe so spreadsheets keep leading zeros.
    return cell.strip().lstrip("'").strip()


def _names(spec: Any) -> list[str]:
    if spec is None:
        return []
    return [spec] if isinstance(spec, str) else [str(s) for s in spec]


def _column(columns: Sequence[str], spec: Any) -> int | None:
    lowered = [c.lower() for c in columns]
    for name in _names(spec):
        if name.startswith("#") and name[1:].isdecimal():
            return int(name[1:])
        if name.lower() in lowered:
            return lowered.index(name.lower())
    return None


def _find_header(
    rows: Sequence[Sequence[str]], mapping: Mapping[str, Any]
) -> tuple[int, list[str]]:
    wanted = {n.lower() for n in _names(mapping.get("date"))}
    money = {n.lower() for k in ("amount", "credit") for n in _names(mapping.get(k))}
    for at, row in enumerate(rows[:50]):
        cells = [_clean(c) for c in row]
        lowered = {c.lower() for c in cells}
        if lowered & wanted and lowered & money:
            return at, cells
    raise StatementFormatError("no header row with the mapped date and amount columns")


def _credit_amount(row: _Row, markers: list[str]) -> int | None:
    """Positive for a credit, zero or negative for a debit, None when no amount is readable."""
    if row.has("credit"):
        credit = parse_amount(row.get("credit"))
        if credit:
            return abs(credit)
        debit = parse_amount(row.get("debit")) if row.has("debit") else None
        return 0 if credit == 0 or debit else None
    raw = row.get("amount")
    value = parse_amount(raw)
    if value is None:
        return None
    marker = (row.get("direction") if row.has("direction") else "") or _suffix(raw)
    if marker:
        return abs(value) if marker.upper() in markers else -abs(value)
    return value


def _suffix(raw: str) -> str:
    match = re.search(r"\b(CR|DB|K|D)\s*$", raw.upper())
    return match.group(1) if match else ""


def parse_amount(raw: str) -> int | None:
    """Read ``150,123.00``, ``150.123,00``, ``Rp150.123``, ``(5.000)`` or ``150123 CR`` as rupiah."""
    text = re.sub(r"(?i)rp|idr|\s|cr$|db$", "", raw or "")
    negative = text.startswith("-") or (text.startswith("(") and text.endswith(")"))
    digits = re.sub(r"[^0-9.,]", "", text)
    if not re.search(r"\d", digits):
        return None
    last = max(digits.rfind("."), digits.rfind(","))
    decimals = len(digits) - last - 1 if last >= 0 else 0
    # The last separator is a decimal point when both kinds appear, or when 1-2 digits follow it.
    has_both = "." in digits and "," in digits
    if last >= 0 and (has_both or decimals in (1, 2)):
        whole = re.sub(r"[.,]", "", digits[:last]) or "0"
    else:
        whole = re.sub(r"[.,]", "", digits)
    value = int(whole)
    return -value if negative else value


def _derived_reference(date: str, description: str, amount: int, balance: str) -> str:
    """A stable reference for banks that export none (the balance tells same-day twins apart)."""
    digest = hashlib.sha1(f"{date}|{description}|{amount}|{balance}".encode()).hexdigest()
    return f"auto:{digest[:20]}"
