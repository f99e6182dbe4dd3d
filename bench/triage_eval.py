"""Top-1 and top-3 department accuracy of the symptom triage on the labelled set
(triage/data/eval_set.csv), against the demo clinic's departments.

    MEDBOOK_DEV_SECRETS=true .venv/bin/python bench/triage_eval.py [--misses]

No database: the scorer reads only the knowledge table. ``--misses`` lists the descriptions
whose department was not in the top 3. The test tests/triage/test_evaluation.py holds top-3 at
85% or better.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medbook.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list the top-3 misses")
    args = parser.parse_args()
    import django

    django.setup()
    from demo.data import DEPARTMENTS
    from triage.evaluation import SETS, evaluate

    departments = {code for code, *_ in DEPARTMENTS}
    print("| set | descriptions | top-1 | top-3 |")
    print("|---|---|---|---|")
    started = time.monotonic()
    misses = []
    for name, path in SETS.items():
        result = evaluate(departments=departments, path=path)
        misses += result.misses
        print(
            f"| {name} | {result.total} | {result.top1}/{result.total} = "
            f"{result.top1_rate:.1%} | {result.top3}/{result.total} = {result.top3_rate:.1%} |"
        )
    elapsed = time.monotonic() - started
    print(f"\ntime: {elapsed:.2f} s (jieba's first load included)")
    if args.misses:
        for miss in misses:
            print(f"  {miss.text}  expected {miss.expected}, got {', '.join(miss.got) or '-'}")


if __name__ == "__main__":
    main()
