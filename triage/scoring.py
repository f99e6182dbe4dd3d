"""From a description of symptoms to ranked departments, with the reason for each.

Pure Python over the knowledge table (no database): the words of the description (jieba,
:mod:`triage.segmenter`) are looked up in the table; a negation ("没有胸痛", "不发烧") drops
the symptoms after it up to a comma, a space or a contrast word ("但是"); durations and other
words ("两天", "反复") match nothing and are ignored; a child patient ("孩子", "5岁") moves
general symptoms to pediatrics; red flags ("胸痛 大汗", "呼吸困难") are reported for an
emergency notice. The selectors add the clinic's departments and doctors.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field

from . import segmenter
from .knowledge import Knowledge, knowledge

# Longest description accepted (characters); a symptom description is a sentence or two.
MAX_CHARS = 200
# Characters that end a negation's reach ("没有发热，咳嗽两天": the cough counts).
CLAUSE_END = set(",.;:!?，。；：！？\n\r\t ")
CHINESE = re.compile(r"[\u4e00-\u9fff]")
NUMERALS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8}
NUMERALS |= {"九": 9, "十": 10}
AGE = re.compile(r"(\d{1,3}|[一二两三四五六七八九十]{1,3})\s*(?:周岁|岁)")
MONTHS_OLD = re.compile(
    r"(\d{1,2}|[一二两三四五六七八九十]{1,3})\s*个(?:多)?月(?:大|的宝宝|的孩子)"
)
FEVER = re.compile(r"(3[89]|4[0-2])(?:\.\d)?\s*(?:度|℃|°c)")
ENGLISH_NEGATION = re.compile(r"\b(no|not|without|never|don't|doesn't|didn't)\b(\W+\w+){0,2}\W*$")


@dataclass(frozen=True)
class Found:
    term: str  # the table's canonical term
    said: str  # as the description said it
    negated: bool


@dataclass(frozen=True)
class DepartmentScore:
    code: str
    score: float
    terms: tuple[str, ...]  # the symptoms that point here, strongest first
    for_child: bool = False


@dataclass(frozen=True)
class Analysis:
    text: str
    words: tuple[str, ...]
    found: tuple[Found, ...]
    child: bool
    red_flags: tuple[str, ...]
    has_chinese: bool
    departments: tuple[DepartmentScore, ...] = field(default=())

    @property
    def symptoms(self) -> tuple[str, ...]:
        """The symptoms that count (not negated), each once, in the order they were said."""
        return tuple(dict.fromkeys(f.term for f in self.found if not f.negated))


def normalise(text: str) -> str:
    """Full-width letters and digits as ASCII, lower case, runs of spaces as one."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip().lower()


def _number(text: str) -> int:
    if text.isdigit():
        return int(text)
    if text.startswith("十"):
        return 10 + NUMERALS.get(text[1:], 0)
    if "十" in text:
        tens, _, ones = text.partition("十")
        return NUMERALS.get(tens, 0) * 10 + NUMERALS.get(ones, 0)
    return NUMERALS.get(text, 0)


def _is_child(text: str, kb: Knowledge) -> bool:
    for marker in kb.child.markers:
        if marker.isascii():
            if re.search(rf"\b{re.escape(marker)}s?\b", text):
                return True
        elif marker in text:  # "孩子发烧" is one word of the table, the marker is inside it
            return True
    if MONTHS_OLD.search(text):
        return True
    return any(0 < _number(age) <= kb.child.max_age for age in AGE.findall(text))


def _chinese_terms(words: list[str], kb: Knowledge) -> list[Found]:
    found = []
    negated = False
    for word in words:
        if word in kb.negations:
            negated = True
        elif word in kb.negation_breaks or all(ch in CLAUSE_END for ch in word):
            negated = False
        elif word in kb.lexicon:
            found.append(Found(term=kb.lexicon[word], said=word, negated=negated))
    return found


def _english_terms(text: str, kb: Knowledge) -> list[Found]:
    found = []
    for phrase, term in kb.english.items():
        for match in re.finditer(rf"(?<![a-z]){re.escape(phrase)}(?![a-z])", text):
            before = re.split(r"[,.;!?]| but ", text[: match.start()])[-1]
            negated = bool(ENGLISH_NEGATION.search(before))
            found.append(Found(term=term, said=phrase, negated=negated))
    return found


def _red_flags(symptoms: Collection[str], kb: Knowledge) -> tuple[str, ...]:
    present = set(symptoms)
    return tuple(flag.reason for flag in kb.red_flags if flag.terms <= present)


def rank(analysis: Analysis, kb: Knowledge, available: Collection[str] | None) -> tuple:
    """Departments by score: each symptom adds its weights; a child's general symptoms go to
    pediatrics; departments not in ``available`` (when given) are left out."""
    scores: dict[str, float] = defaultdict(float)
    reasons: dict[str, dict[str, float]] = defaultdict(dict)
    for name in analysis.symptoms:
        for code, weight in kb.terms[name].departments.items():
            scores[code] += weight
            reasons[code][name] = reasons[code].get(name, 0) + weight
    child = kb.child
    if analysis.child and (available is None or child.to in available):
        for code in child.absorb:
            if code in scores:
                scores[child.to] += scores[code] * child.factor
                for name, weight in reasons[code].items():
                    reasons[child.to][name] = reasons[child.to].get(name, 0) + weight
                scores[code] *= child.keep
    ranked = [
        DepartmentScore(
            code=code,
            score=round(score, 2),
            terms=tuple(sorted(reasons[code], key=lambda n: -reasons[code][n])),
            for_child=analysis.child and code == child.to,
        )
        for code, score in scores.items()
        if score > 0 and (available is None or code in available)
    ]
    # Ties: the department a single symptom points to most strongly, then by code.
    ranked.sort(
        key=lambda d: (
            -d.score,
            -max(kb.terms[n].departments.get(d.code, 0) for n in d.terms),
            d.code,
        )
    )
    return tuple(ranked)


def triage(text: str, *, available: Collection[str] | None = None) -> Analysis:
    """``text`` read for symptoms, with the departments of ``available`` (codes; all the
    table knows when None) ranked."""
    kb = knowledge()
    clean = normalise(text)
    words = segmenter.cut(clean)
    found = _chinese_terms(words, kb) + _english_terms(clean, kb)
    if FEVER.search(clean) and not any(f.term == "发热" for f in found):
        found.append(Found(term="发热", said=FEVER.search(clean).group(0), negated=False))
    analysis = Analysis(
        text=clean,
        words=tuple(words),
        found=tuple(found),
        child=_is_child(clean, kb),
        red_flags=(),
        has_chinese=bool(CHINESE.search(clean)),
    )
    return Analysis(
        text=analysis.text,
        words=analysis.words,
        found=analysis.found,
        child=analysis.child,
        red_flags=_red_flags(analysis.symptoms, kb),
        has_chinese=analysis.has_chinese,
        departments=rank(analysis, kb, available),
    )
