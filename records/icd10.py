"""The ICD-10 diagnoses a doctor chooses from: a list shipped with the project
(``records/data/icd10.csv``: code, Chinese name, English name), read once per process.

Search matches the code's start (``j06``), a part of either name (``上呼吸道``, ``hypertension``)
or the pinyin initials of the Chinese name (``gxy`` for 高血压, computed with pypinyin).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.utils.translation import get_language
from pypinyin import Style, lazy_pinyin

DATA = Path(__file__).resolve().parent / "data" / "icd10.csv"
SEARCH_LIMIT = 20


@dataclass(frozen=True)
class Diagnosis:
    code: str
    name_zh: str
    name_en: str
    initials: str

    @property
    def name(self) -> str:
        """The name in the language of the request (Chinese unless English is active)."""
        return self.name_en if (get_language() or "").startswith("en") else self.name_zh

    @property
    def label(self) -> str:
        return f"{self.code} {self.name}"


@lru_cache(maxsize=1)
def diagnoses() -> dict[str, Diagnosis]:
    with DATA.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {
        row["code"]: Diagnosis(
            code=row["code"],
            name_zh=row["zh"],
            name_en=row["en"],
            initials="".join(lazy_pinyin(row["zh"], style=Style.FIRST_LETTER)).lower(),
        )
        for row in rows
    }


def diagnosis(code: str) -> Diagnosis | None:
    """The listed diagnosis with ``code`` (case and spaces ignored), or None."""
    return diagnoses().get((code or "").strip().upper())


def search(query: str, *, limit: int = SEARCH_LIMIT) -> list[Diagnosis]:
    """Diagnoses matching ``query``: code prefixes first, then names and pinyin initials."""
    text = " ".join((query or "").split())[:50]
    if not text:
        return []
    upper, lower = text.upper(), text.lower()
    by_code, by_name = [], []
    for item in diagnoses().values():
        if item.code.startswith(upper) or item.code.replace(".", "").startswith(upper):
            by_code.append(item)
        elif (
            text in item.name_zh
            or lower in item.name_en.lower()
            or (lower.isascii() and lower.isalpha() and lower in item.initials)
        ):
            by_name.append(item)
    return (by_code + by_name)[:limit]
