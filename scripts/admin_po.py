"""Add every admin source string missing from admin/locale/id.po (empty, for the translator).

Run: .venv/bin/python scripts/admin_po.py   (tests/admin/test_admin_i18n.py fails while one is empty)
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from admin.i18n import LOCALE_DIR, source_strings  # noqa: E402


def main(extra: dict[str, str] | None = None) -> None:
    path = LOCALE_DIR / "id.po"
    if path.exists():
        with path.open("rb") as fh:
            catalog = read_po(fh)
    else:
        catalog = Catalog(locale="id", project="funrun admin")
    for text in sorted(source_strings()):
        if text not in catalog:
            catalog.add(text, (extra or {}).get(text, ""))
    with path.open("wb") as fh:
        write_po(fh, catalog, width=100, sort_output=True, omit_header=False)


if __name__ == "__main__":
    main()
