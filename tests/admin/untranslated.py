"""Find visible English in the admin templates that is not wrapped in ``_("...")`` (a heuristic).

Looks at text between tags, at the visible attributes (placeholder, title, aria-label, alt,
data-confirm, data-question, value of buttons), and at string literals printed by ``{{ ... }}``
(``{{ "Save" if a else "Add" }}``). Jinja code, comments, scripts and styles are ignored. Words
that read the same in both languages (BIB, CSV, WhatsApp ...) are allowed.
Run ``python -m tests.admin.untranslated`` to list what is left.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "admin" / "templates"
SAME_IN_BOTH = {
    "BIB", "CSV", "XLSX", "QR", "QRIS", "PIN", "OCR", "WhatsApp", "Telegram", "Fonnte", "funrun",
    "ID", "EN", "ms", "Asia", "Jakarta", "Makassar", "Jayapura", "Rp", "km", "NIK", "JFR", "CR", "p95", "Bahasa", "Indonesia", "Id", "URL", "A4",
    # Language names in their own language; the "Indonesian | English" option example; example codes.
    "English", "https", "Ya", "Yes", "LARIPAGI", "CLUB",
}  # fmt: skip
_COMMENT = re.compile(r"\{#.*?#\}", re.S)
_CODE_BLOCKS = re.compile(r"<(script|style)\b[^>]*>.*?</\1>", re.S | re.I)
_OUTPUT = re.compile(r"\{\{(.*?)\}\}", re.S)
_STATEMENT = re.compile(r"\{%.*?%\}", re.S)
_ATTR = re.compile(
    r"""\b(placeholder|title|aria-label|alt|data-confirm|data-question)=(["'])(.*?)\2""", re.S
)
_LITERAL = re.compile(r"""(?<![\w)])(_\(\s*)?(["'])((?:(?!\2).)*)\2""")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*[A-Za-z]")


def _english(text: str) -> bool:
    """True when ``text`` holds a word someone reads (not a same-in-both-languages word)."""
    return any(w not in SAME_IN_BOTH for w in _WORD.findall(html.unescape(text)))


def _printed_literals(expression: str) -> list[str]:
    """Untranslated literals an output expression prints: 'Save' in {{ "Save" if a else "Add" }}."""
    found = []
    for m in _LITERAL.finditer(expression):
        wrapped, text = m.group(1), m.group(3).strip()
        if wrapped or "(" in expression[: m.start()].rsplit("_(", 1)[-1][-1:]:
            continue
        # Class names, option values and keys are lower-case single words; readable text is not.
        if _english(text) and (" " in text or text[:1].isupper()):
            found.append(text)
    return found


def problems_in(source: str) -> list[str]:
    text = _CODE_BLOCKS.sub("", _COMMENT.sub("", source))
    found = []
    for expr in [
        *_OUTPUT.findall(text),
        *_STATEMENT.findall(text),
    ]:  # {% for x in [("a", "Label")] %}
        found += [f"literal: {s}" for s in _printed_literals(expr)]
    found += [f"{name}: {value}" for name, _, value in _ATTR.findall(text)
              if _english(_OUTPUT.sub("", value))]  # fmt: skip
    visible = _STATEMENT.sub("\x00", _OUTPUT.sub("\x00", text))
    for node in re.sub(r"<[^>]*>", "\x01", visible).split("\x01"):
        if _english(node.replace("\x00", " ")):
            found.append("text: " + " ".join(node.replace("\x00", "{}").split()))
    return found


def untranslated() -> dict[str, list[str]]:
    """Template name -> its untranslated texts (empty templates left out)."""
    result = {}
    for path in sorted(TEMPLATES.glob("*.html")):
        if found := problems_in(path.read_text(encoding="utf-8")):
            result[path.name] = found
    return result


if __name__ == "__main__":
    for name, found in untranslated().items():
        print(f"== {name}")
        print("\n".join(f"  {p}" for p in found))
