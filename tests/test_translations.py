"""The Chinese translation is complete and its compiled catalogue is up to date."""

from pathlib import Path

import polib

CATALOGUE = Path(__file__).resolve().parents[1] / "locale" / "zh_Hans" / "LC_MESSAGES"


def test_every_message_has_a_chinese_translation() -> None:
    po = polib.pofile(str(CATALOGUE / "django.po"))
    missing = [entry.msgid for entry in po.untranslated_entries() + po.fuzzy_entries()]
    assert missing == []


def test_the_compiled_catalogue_matches_the_sources() -> None:
    po = polib.pofile(str(CATALOGUE / "django.po"))
    mo = polib.mofile(str(CATALOGUE / "django.mo"))
    compiled = {entry.msgid: entry.msgstr or entry.msgstr_plural for entry in mo}
    source = {entry.msgid: entry.msgstr or entry.msgstr_plural for entry in po.translated_entries()}
    assert compiled == source
