"""Formula injection neutralised in every export (admin CSV/XLSX and check-in CSV)."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook, load_workbook

from admin.exports import safe_cell
from core.formatting import spreadsheet_safe
from core.fulfilment import checkin_exports

HOSTILE = [
    '=HYPERLINK("http://x","y")',
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "|calc",
    "%0A=1",
    "\t=1",
    "\r=1",
    "\n=1",
    " =1",
    "\u200b=1",  # zero-width space
    "\ufeff=1",  # BOM
    "\u202e=1",  # RTL override
    "\uff1d1+1",  # fullwidth equals
]
SAFE = ["Budi Santoso", "\u202eosotnaS", "e\u0301", "\U0001f3c3 Ani", "10K", "0812-3456"]


@pytest.mark.parametrize("text", HOSTILE)
def test_formula_like_text_is_prefixed(text: str) -> None:
    assert spreadsheet_safe(text) == "'" + text
    assert safe_cell(text) == "'" + text
    assert checkin_exports._cell(text) == "'" + text


@pytest.mark.parametrize("text", SAFE)
def test_plain_unicode_is_kept_exactly(text: str) -> None:
    assert spreadsheet_safe(text) == text
    assert safe_cell(text) == text


def test_xlsx_cell_is_text_not_formula() -> None:
    book = Workbook()
    sheet = book.active
    sheet.append([safe_cell(v) for v in HOSTILE + SAFE])
    out = io.BytesIO()
    book.save(out)
    row = next(load_workbook(io.BytesIO(out.getvalue())).active.iter_rows())
    assert all(cell.data_type == "s" for cell in row)
    assert [c.value for c in row][len(HOSTILE) :] == SAFE
