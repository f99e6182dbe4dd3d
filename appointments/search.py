"""Search keys of departments and doctors, worked out once when a row is saved (never at query
time): each key is the name as written, its full pinyin ("xinxueguanneike"), its initials
("xxgnk"), the same for every alias (心内 → "xinnei", "xn"), and English names, lower case.
They are stored space-separated with a space at both ends, so a search can tell an exact key
(`` q ``) from a key's start (`` q``) from anywhere (``q``) with a plain ``LIKE`` that works on
PostgreSQL and SQLite alike."""

from __future__ import annotations

import re
from collections.abc import Iterable

from pypinyin import Style, lazy_pinyin

_SPLIT = re.compile(r"[\s,，、;；/|]+")


def split_aliases(text: str) -> list[str]:
    """An alias field ("心内, 心内科、心脏科") as its aliases."""
    return [part for part in _SPLIT.split(text or "") if part]


def _forms(text: str) -> list[str]:
    """``text`` as written (without spaces), in full pinyin and in initials; an English or
    mixed text also word by word."""
    text = text.strip().lower()
    if not text:
        return []
    joined = re.sub(r"\s+", "", text)
    forms = [joined]
    if any("\u4e00" <= ch <= "\u9fff" for ch in joined):
        forms.append("".join(lazy_pinyin(joined, errors="default")))
        forms.append("".join(lazy_pinyin(joined, style=Style.FIRST_LETTER, errors="default")))
    else:
        forms.extend(text.split())
    return forms


# Surnames read otherwise than the character usually is (pinyin reads 曾 as "ceng", 单 as "dan").
SURNAME_READINGS = {
    "曾": "zeng",
    "单": "shan",
    "仇": "qiu",
    "解": "xie",
    "查": "zha",
    "朴": "piao",
    "区": "ou",
    "盖": "ge",
    "缪": "miao",
    "乐": "yue",
    "覃": "qin",
    "翟": "zhai",
    "种": "chong",
    "秘": "bi",
    "员": "yun",
    "句": "gou",
    "繁": "po",
    "尉": "yu",
    "召": "shao",
    "折": "she",
    "黑": "he",
    "隗": "wei",
}


def _surname_readings(name: str) -> list[str]:
    """A person's name with its surname read as a surname (曾 zeng, 单 shan), full and as
    initials, next to pinyin's everyday reading."""
    name = re.sub(r"\s+", "", name)
    reading = SURNAME_READINGS.get(name[:1])
    if reading is None:
        return []
    rest = "".join(lazy_pinyin(name[1:], errors="default"))
    rest_initials = "".join(lazy_pinyin(name[1:], style=Style.FIRST_LETTER, errors="default"))
    return [reading + rest, reading[0] + rest_initials]


def search_keys(*texts: str, aliases: Iterable[str] = (), person: str = "") -> str:
    """The search column of a row named by ``texts`` (name, English name …) with ``aliases``;
    ``person``: a person's name, its surname read every way it can be."""
    keys: list[str] = []
    forms = [form for text in (person, *texts, *aliases) for form in _forms(text)]
    for form in (*forms, *_surname_readings(person)):
        if form and form not in keys:
            keys.append(form)
    return f" {' '.join(keys)} " if keys else ""


def normalised_query(query: str) -> str:
    """A visitor's search text as the keys are stored: lower case, without spaces, at most 50
    characters; ``%``/``_`` are escaped by Django's lookups."""
    return re.sub(r"\s+", "", query.strip().lower())[:50]
