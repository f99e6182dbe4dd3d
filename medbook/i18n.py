"""Names kept in Chinese and English (levels, departments, doctors, rooms): the reader's one."""

from __future__ import annotations

from django.utils.translation import get_language


def local_name(name: str, name_en: str) -> str:
    """``name_en`` on English pages when it is set, else the Chinese ``name``."""
    if name_en and (get_language() or "").startswith("en"):
        return name_en
    return name
