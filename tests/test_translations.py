"""The Chinese translation is complete and its compiled catalogue is up to date."""

import ast
import re
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
    # Keyed with the context: "type" of an authenticator is not "type" of a transaction.
    compiled = {(e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural for e in mo}
    source = {(e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural for e in po.translated_entries()}
    assert compiled == source


ROOT = CATALOGUE.parents[2]
SOURCES = (
    "medbook",
    "members",
    "identity",
    "appointments",
    "billing",
    "reports",
    "privacy",
    "triage",
    "interop",
    "demo",
)
GETTEXT = {
    "_",
    "N_",
    "gettext",
    "gettext_lazy",
    "gettext_noop",
    "pgettext",
    "pgettext_lazy",
    "ngettext",
}
TEMPLATE_TAG = re.compile(r'{%\s*(?:translate|trans)\s+"([^"]+)"(?:\s+context\s+"([^"]+)")?')


def _catalogue() -> set[tuple[str | None, str]]:
    po = polib.pofile(str(CATALOGUE / "django.po"))
    return {(entry.msgctxt or None, entry.msgid) for entry in po.translated_entries()}


def _python_messages() -> set[tuple[tuple[str | None, str], str]]:
    """Literal messages marked in the code: ``_("…")``, ``pgettext("ctx", "…")``, …"""
    found = set()
    for folder in SOURCES:
        for path in (ROOT / folder).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name not in GETTEXT:
                    continue
                texts = [a.value for a in node.args if isinstance(a, ast.Constant)]
                if not texts or not all(isinstance(t, str) for t in texts):
                    continue
                context = texts[0] if name.startswith("pgettext") and len(texts) > 1 else None
                message = texts[1] if context is not None else texts[0]
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                found.add(((context, message), where))
    return found


def _template_messages() -> set[tuple[tuple[str | None, str], str]]:
    found = set()
    for path in (ROOT / "templates").rglob("*.html"):
        for match in TEMPLATE_TAG.finditer(path.read_text(encoding="utf-8")):
            found.add(((match.group(2), match.group(1)), str(path.relative_to(ROOT))))
    return found


def test_every_message_marked_in_the_code_and_templates_is_in_the_catalogue() -> None:
    """A message marked for translation but never added to django.po shows in English in the
    Chinese pages: the catalogue must hold every literal one."""
    catalogue = _catalogue()
    missing = sorted(
        f"{where}: {message!r}"
        for (context, message), where in _python_messages() | _template_messages()
        if (context, message) not in catalogue and any(c.isalpha() for c in message)
    )
    assert missing == []
