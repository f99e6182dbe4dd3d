"""The symptom–department knowledge table shipped with the project (triage/data/).

``symptoms.csv``: one symptom a row — the canonical term, its synonyms (``|``), the departments
it points to with weights (``cardiology:3 tcm:1``, department codes as in the clinic's
setup; departments a clinic does not have are skipped when ranking), the conditions a doctor's
specialties may name for it (``心律失常|房颤``) and English phrases. Rows named ``部位:…``
are body parts and other cue words ("胸口", "牙龈", "例假") with lower weights: they catch a
description phrased in words the symptom rows do not list ("胸口发紧", "牙龈一碰就出血").
``rules.json``: negation words, what marks a child patient, red flags. Read once per process.
"""

from __future__ import annotations

import csv
import functools
import json
from dataclasses import dataclass, field
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"


class KnowledgeError(ValueError):
    """The shipped table is malformed (a bug in the data, caught by the tests)."""


@dataclass(frozen=True)
class Term:
    term: str
    synonyms: tuple[str, ...]
    departments: dict[str, float]
    conditions: tuple[str, ...]
    english: tuple[str, ...]

    @property
    def is_cue(self) -> bool:
        """A body part ("部位:胸口"), not a symptom: it points to departments more weakly."""
        return self.term.startswith("部位:")

    @property
    def keywords(self) -> tuple[str, ...]:
        """What a doctor's specialties may say about this symptom."""
        return (self.term, *self.synonyms, *self.conditions)


@dataclass(frozen=True)
class RedFlag:
    terms: frozenset[str]
    reason: str


@dataclass(frozen=True)
class ChildRule:
    markers: frozenset[str]
    max_age: int
    absorb: tuple[str, ...]
    to: str
    factor: float
    keep: float


@dataclass(frozen=True)
class Knowledge:
    terms: dict[str, Term]
    lexicon: dict[str, str]  # surface form (term or synonym, lower case) -> canonical term
    english: dict[str, str]  # English phrase -> canonical term
    negations: frozenset[str]
    negation_breaks: frozenset[str]
    child: ChildRule
    red_flags: tuple[RedFlag, ...]
    vocabulary: tuple[str, ...] = field(default=())


def _departments(text: str, term: str) -> dict[str, float]:
    weights = {}
    for part in text.split():
        code, _, weight = part.partition(":")
        try:
            weights[code] = float(weight)
        except ValueError as exc:
            raise KnowledgeError(f"{term}: bad department weight {part!r}") from exc
    if not weights:
        raise KnowledgeError(f"{term}: no department")
    return weights


def _split(text: str) -> tuple[str, ...]:
    return tuple(part.strip().lower() for part in text.split("|") if part.strip())


def load(folder: Path = DATA_DIR) -> Knowledge:
    """The table and rules in ``folder``; KnowledgeError on a malformed row or a surface form
    that two rows claim."""
    terms: dict[str, Term] = {}
    lexicon: dict[str, str] = {}
    english: dict[str, str] = {}
    with open(folder / "symptoms.csv", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            name = row["term"].strip()
            item = Term(
                term=name,
                synonyms=tuple(s for s in _split(row["synonyms"]) if s != name),
                departments=_departments(row["departments"], name),
                conditions=_split(row["conditions"]),
                english=_split(row["english"]),
            )
            if name in terms:
                raise KnowledgeError(f"{name}: two rows")
            terms[name] = item
            # "部位:胸口": a body part, a weaker cue than a symptom; said as "胸口"
            for surface in (name.rpartition(":")[2].lower(), *item.synonyms):
                if lexicon.setdefault(surface, name) != name:
                    raise KnowledgeError(f"{surface!r} belongs to {lexicon[surface]} and {name}")
            for phrase in item.english:
                if english.setdefault(phrase, name) != name:
                    raise KnowledgeError(f"{phrase!r} belongs to {english[phrase]} and {name}")
    rules = json.loads((folder / "rules.json").read_text(encoding="utf-8"))
    child = rules["child"]
    red_flags = []
    for flag in rules["red_flags"]:
        unknown = set(flag["all"]) - set(terms)
        if unknown:
            raise KnowledgeError(f"red flag names unknown terms: {sorted(unknown)}")
        red_flags.append(RedFlag(terms=frozenset(flag["all"]), reason=flag["reason"]))
    negations = frozenset(rules["negations"])
    breaks = frozenset(rules["negation_breaks"])
    markers = frozenset(child["markers"])
    vocabulary = tuple(
        sorted({*lexicon, *(w for w in negations | breaks | markers if not w.isascii())})
    )
    return Knowledge(
        terms=terms,
        lexicon=lexicon,
        english=english,
        negations=negations,
        negation_breaks=breaks,
        child=ChildRule(
            markers=markers,
            max_age=int(child["max_age"]),
            absorb=tuple(child["absorb"]),
            to=child["to"],
            factor=float(child["factor"]),
            keep=float(child["keep"]),
        ),
        red_flags=tuple(red_flags),
        vocabulary=vocabulary,
    )


@functools.cache
def knowledge() -> Knowledge:
    """The shipped table, read once per process."""
    return load()
