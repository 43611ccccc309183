"""flow.help and flow.menu list the commands that exist, and every command they name works."""

from __future__ import annotations

import re

import pytest

from core.i18n import t
from core.messages import InboundMessage
from flows import changes, commands, form

# Bold words in the texts that are answers or things to send, not commands.
NOT_COMMANDS = {"YA", "YES", "foto", "photo", "Panduan", "Guide", "Mendaftar", "Registering",
                "Setelah mendaftar", "After registering", "Lainnya", "More"}  # fmt: skip


def _works(word: str) -> bool:
    message = InboundMessage(channel="whatsapp", external_id="x", chat_id="1", text=word)
    return (
        commands.detect(message) is not None
        or changes.detect(message, drafting=False) is not None
        or form.wants_form(word)
    )


@pytest.mark.parametrize("language", ["id", "en"])
@pytest.mark.parametrize("key", ["flow.help", "flow.menu"])
def test_every_command_named_in_help_and_menu_is_understood(key: str, language: str) -> None:
    text = t(key, language, current=False)
    named = [w for w in re.findall(r"\*([^*]+)\*", text) if w not in NOT_COMMANDS]
    assert named and [w for w in named if not _works(w)] == []


@pytest.mark.parametrize("language", ["id", "en"])
def test_help_names_the_newer_commands_and_stays_short(language: str) -> None:
    text = t("flow.help", language, current=False)
    wanted = {
        "id": [
            "KODE",
            "FORMAT",
            "ANTRE",
            "ANTREAN",
            "KELUAR ANTREAN",
            "UBAH JERSEY",
            "GANTI KATEGORI",
            "ALIHKAN",
            "BATALKAN",
            "STOP",
            "PRIVASI",
            "DATAKU",
            "HAPUS DATA",
        ],  # fmt: skip
        "en": [
            "CODE",
            "FORM",
            "WAITLIST",
            "QUEUE",
            "LEAVE WAITLIST",
            "CHANGE JERSEY",
            "CHANGE CATEGORY",
            "TRANSFER",
            "CANCEL REGISTRATION",
            "STOP",
            "PRIVACY",
            "MYDATA",
            "DELETE MY DATA",
        ],  # fmt: skip
    }[language]
    assert [w for w in wanted if f"*{w}*" not in text] == []
    assert len(text.splitlines()) <= 12 and len(text) < 1000  # grouped, not a wall of text


@pytest.mark.parametrize("language", ["id", "en"])
def test_menu_numbers_follow_the_menu_commands(language: str) -> None:
    lines = [ln for ln in t("flow.menu", language).splitlines() if re.match(r"\d\. ", ln)]
    assert len(lines) == len(commands.MENU)
    for n, line in enumerate(lines, start=1):
        word = re.search(r"\*([^*]+)\*", line).group(1)
        assert commands.from_menu(str(n)) == commands.detect(
            InboundMessage(channel="whatsapp", external_id="x", chat_id="1", text=word)
        )
