"""The login and sign-up benchmark (bench/login.py) end to end, briefly: 8 members log in and
8 numbers sign up and confirm their code over HTTP against gunicorn with production settings
(PostgreSQL, Redis, RabbitMQ, Argon2id), one after the other and then concurrently. The script
exits non-zero on any answer but the expected redirect, a 429, a code not texted or a traceback
in the server's log; this test keeps it from rotting (it asserts no timing: the figures are
bench/README.md's). Its own database (``test_medbook_login_bench…``, dropped and created by the
script) and the Redis database the run gives this worker (emptied by the script); serial
(tests/isolation.py GROUPS), since it hashes passwords on purpose.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]


def test_members_log_in_and_sign_up_over_http_and_the_table_is_printed() -> None:
    database = f"test_medbook_login_bench_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    redis_db = urlparse(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")).path.strip("/")
    process = subprocess.Popen(
        [
            *(sys.executable, str(ROOT / "bench" / "login.py"), "--members", "8"),
            *("--clients", "2", "--database", database, "--redis-db", redis_db or "15"),
        ],
        cwd=ROOT,
        env={**os.environ, "WEB_CONCURRENCY": "2"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        # A fresh clone migrates its template database first (102 s seen in CI under load).
        output, _ = process.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)  # the script stops its gunicorn on the way out
        output, _ = process.communicate(timeout=30)
        raise AssertionError("the login benchmark ran over 300 s:\n" + output[-4000:]) from None
    finally:
        drop_database(database)  # its template (migrated, kept between runs) stays

    assert process.returncode == 0, output[-6000:]
    assert "10 members created" in output and "argon2id" in output, output[-4000:]
    for phase in ("one after the other", "2 concurrent"):
        assert f"| {phase} | login POST | 4 |" in output, output[-4000:]
        assert f"| {phase} | sign-up POST | 4 |" in output, output[-4000:]
        assert f"| {phase} | code POST | 4 |" in output, output[-4000:]
    assert "8 members, 2 gunicorn workers" in output, output[-4000:]
    assert '{"result": "ok"}' in output, output[-4000:]


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(
        "host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
