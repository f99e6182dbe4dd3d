"""The offline evaluation holds the target: the right department among the first three for at
least 85% of the labelled descriptions (bench/triage_eval.py reports the figures)."""

from __future__ import annotations

from demo.data import DEPARTMENTS
from triage.evaluation import SETS, evaluate, labelled


def test_the_labelled_set_has_at_least_100_descriptions_of_every_department() -> None:
    rows = labelled()
    assert len(rows) >= 100
    assert {department for _, department in rows} == {code for code, *_ in DEPARTMENTS}


def test_top3_department_accuracy_is_at_least_85_percent() -> None:
    result = evaluate(departments={code for code, *_ in DEPARTMENTS})
    assert result.top3_rate >= 0.85, result.misses
    assert result.top1_rate >= 0.75, result.misses


def test_every_set_holds_the_target() -> None:
    for path in SETS.values():
        result = evaluate(departments={code for code, *_ in DEPARTMENTS}, path=path)
        assert result.top3_rate >= 0.85, (path.name, result.misses)
