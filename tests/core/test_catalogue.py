"""The text catalogue is complete: both languages, every text renders, no texts hard-coded in code."""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from core import i18n

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "flows", "channels", "webhooks", "workers", "admin", "app")
RUNNER_TEXT_CODE = ("flows", "core")
# Keys under these prefixes are read by runners; admin./staff. keys name English staff messages.
RUNNER_AREAS = {key.split(".")[0] for key in i18n.catalogue("id")}
TEXT_CALLS = {"t", "Invalid"}  # first argument is a catalogue key
TEXT_ARGS = {"Reply": "text", "Choice": "label"}  # the runner-facing argument of each type


def _flat(path: Path) -> set[str]:
    with path.open("rb") as fh:
        out: dict[str, str] = {}
        i18n._flatten(tomllib.load(fh), "", out)
    return set(out)


def _modules(*roots: str) -> Iterator[tuple[Path, ast.AST]]:
    for root in roots:
        for path in sorted((ROOT / root).rglob("*.py")):
            yield path.relative_to(ROOT), ast.parse(path.read_text(), filename=str(path))


def _called(node: ast.Call) -> str | None:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else None


def _literal_keys() -> Iterator[tuple[str, str]]:
    """(where, key) for every catalogue key written as a literal in the code."""
    for path, tree in _modules(*PACKAGES):
        for node in ast.walk(tree):
            value: ast.AST | None = None
            if isinstance(node, ast.Call) and _called(node) in TEXT_CALLS and node.args:
                value = node.args[0]
            elif isinstance(node, ast.keyword) and node.arg == "key":
                value = node.value
            elif isinstance(node, ast.Assign) and any(
                isinstance(target, ast.Name) and target.id == "key" for target in node.targets
            ):
                value = node.value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                if value.value.split(".")[0] in RUNNER_AREAS and "." in value.value:
                    yield f"{path}:{value.lineno}", value.value


def test_every_area_file_exists_in_both_languages_with_the_same_keys() -> None:
    areas = {
        lang: sorted(p.name for p in (i18n.TEXTS_DIR / lang).glob("*.toml"))
        for lang in "id en".split()
    }
    assert areas["id"] == areas["en"]
    for name in areas["id"]:
        only_id = _flat(i18n.TEXTS_DIR / "id" / name) - _flat(i18n.TEXTS_DIR / "en" / name)
        only_en = _flat(i18n.TEXTS_DIR / "en" / name) - _flat(i18n.TEXTS_DIR / "id" / name)
        assert not only_id, f"{name}: missing in English: {sorted(only_id)}"
        assert not only_en, f"{name}: missing in Indonesian: {sorted(only_en)}"


def test_no_key_is_defined_in_two_area_files() -> None:
    for lang in i18n.LANGUAGES:
        seen: dict[str, str] = {}
        for path in sorted((i18n.TEXTS_DIR / lang).glob("*.toml")):
            for key in _flat(path):
                assert key not in seen, f"{lang}: {key} in {seen.get(key)} and {path.name}"
                seen[key] = path.name


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_every_text_compiles_with_the_catalogue_environment(language: str) -> None:
    errors = []
    for key, source in sorted(i18n.catalogue(language).items()):
        try:
            i18n.compile_text(source)  # syntax and unknown filters
        except Exception as exc:  # noqa: BLE001
            errors.append(f"{language}:{key}: {exc}")
    assert not errors, "\n".join(errors)


def test_both_languages_use_the_same_placeholders() -> None:
    ids, ens = i18n.catalogue("id"), i18n.catalogue("en")
    different = [
        key
        for key in sorted(ids)
        if key in ens and i18n.text_variables(ids[key]) != i18n.text_variables(ens[key])
    ]
    assert not different, f"placeholders differ between id and en: {different}"


def test_every_key_used_in_the_code_exists_in_both_languages() -> None:
    used = list(_literal_keys())
    assert len(used) > 50  # the scan sees the code (guards against a silently empty walk)
    missing = [
        f"{where}: {key} ({lang})"
        for where, key in used
        for lang in i18n.LANGUAGES
        if key not in i18n.catalogue(lang)
    ]
    assert not missing, "\n".join(missing)


def test_no_runner_text_is_a_literal_in_flows_or_core_services() -> None:
    offenders = []
    for path, tree in _modules(*RUNNER_TEXT_CODE):
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or _called(node) not in TEXT_ARGS:
                continue
            argument = TEXT_ARGS[str(_called(node))]
            values = [*node.args[:1], *(k.value for k in node.keywords if k.arg == argument)]
            for value in values:
                if _has_literal_text(value):
                    offenders.append(f"{path}:{node.lineno}: {ast.unparse(value)}")
    assert not offenders, "texts must come from the catalogue:\n" + "\n".join(offenders)


def _has_literal_text(value: ast.AST) -> bool:
    """A non-empty string literal, or an f-string with words of its own."""
    if isinstance(value, ast.Constant):
        return isinstance(value.value, str) and bool(value.value.strip())
    if isinstance(value, ast.JoinedStr):
        return any(
            isinstance(part, ast.Constant) and any(ch.isalpha() for ch in str(part.value))
            for part in value.values
        )
    return False


def test_the_literal_check_catches_offenders() -> None:
    tree = ast.parse('Reply(text="Halo")\nReply(f"Nomor {n}")\nReply("")\nChoice(label=t("x"))')
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and _called(n) in TEXT_ARGS]
    flagged = [
        _has_literal_text(v)
        for call in calls
        for v in [*call.args[:1], *(k.value for k in call.keywords if k.arg in ("text", "label"))]
    ]
    assert flagged == [True, True, False, False]
