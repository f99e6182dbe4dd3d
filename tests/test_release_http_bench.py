"""The HTTP release benchmark (bench/release_http.py) end to end, in its quick form.

200 members with real sessions fire their booking POSTs at once at gunicorn (production
settings, PostgreSQL, Redis, RabbitMQ) against MedBook's booking view and the textbook one; the
script exits non-zero on anything oversold, a false "sold out", a 5xx, queue numbers other than
1..capacity or a winner who did not reach the cashier. It needs PostgreSQL, Redis and RabbitMQ
and fails (never skips) without them. Its own database (``test_medbook_bench_http…``, dropped
and created by the script) and Redis database 5; serial (tests/isolation.py GROUPS), since it
times what it measures.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_quick_release_over_http_books_every_slot_once_and_answers_everyone() -> None:
    database = f"test_medbook_bench_http_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    process = subprocess.Popen(
        [
            *(sys.executable, str(ROOT / "bench" / "release_http.py"), "--quick"),
            *("--database", database, "--redis-db", "5"),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output, _ = process.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)  # the script stops its gunicorn on the way out
        output, _ = process.communicate(timeout=30)
        raise AssertionError("the quick benchmark ran over 240 s:\n" + output[-4000:]) from None
    finally:
        drop_database(database)

    assert process.returncode == 0, output[-6000:]
    assert "round 1 MedBook: 30 winners, 170 losers" in output, output[-4000:]
    assert "round 1 textbook: 30 winners, 170 losers" in output, output[-4000:]
    assert "| MedBook losers/s ÷ baseline/s |" in output, output[-4000:]
    assert "check_integrity clean" in output, output[-4000:]


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(
        "host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
