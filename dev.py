#!/usr/bin/env python3
"""MedBook's two commands, with nothing but Python 3.11+ installed.

    python3 dev.py run    # set up, migrate, load the demo clinic, serve on 127.0.0.1:8000 with jobs
    python3 dev.py test   # set up, then lint and run the whole test suite

Both create ``.venv`` and install the pinned requirements the first time (and again whenever a
requirements file changes). Only the standard library is used here.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import venv
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def say(message: str) -> None:
    print(f"\033[1;36m==>\033[0m {message}", flush=True)


def fail(message: str) -> None:
    print(f"\033[1;31mError:\033[0m {message}", file=sys.stderr, flush=True)
    sys.exit(1)


def ensure_venv(requirements: str) -> None:
    """Create .venv and install ``requirements`` unless the same files are installed already."""
    if sys.version_info < (3, 11):
        fail(f"MedBook needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    if not PYTHON.exists():
        say("Creating the virtual environment in .venv")
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = installed_digest(requirements)
    stamp = VENV / f".installed-{requirements}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    # The development requirements include the runtime ones: `test`'s install serves `run` too.
    dev_stamp = VENV / ".installed-requirements-dev.txt"
    if dev_stamp.exists() and dev_stamp.read_text() == installed_digest("requirements-dev.txt"):
        return
    say(f"Installing {requirements}")
    pip = [str(PYTHON), "-m", "pip", "install", "-qq", "--disable-pip-version-check"]
    run([*pip, "--upgrade", "pip"])
    run([*pip, "-r", str(ROOT / requirements)])
    stamp.write_text(digest)


def installed_digest(requirements: str) -> str:
    digest = hashlib.sha256()
    for name in sorted(["requirements.txt", requirements]):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def run(args: list[str], env: dict[str, str] | None = None, check: bool = True) -> int:
    code = subprocess.call(args, cwd=ROOT, env=env)
    if check and code != 0:
        fail(f"{' '.join(args[:3])} … exited with {code}")
    return code


def manage(*args: str, env: dict[str, str] | None = None) -> None:
    run([str(PYTHON), "manage.py", *args], env=env)


def reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=2
        ):
            return True
    except OSError:
        return False


def command_run(args: argparse.Namespace) -> None:
    ensure_venv("requirements.txt")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    # The sandbox gateway's notification job posts back to wherever this server listens.
    env.setdefault("MEDBOOK_PUBLIC_URL", f"http://{args.host}:{args.port}")
    say("Migrating the database")
    manage("migrate", "--noinput", "-v", "0", env=env)
    say("Loading the demo clinic (skipped where it is already there)")
    manage("seed_demo", env=env)
    manage("ensure_demo_accounts", env=env)
    celery = [str(PYTHON), "-m", "celery", "--quiet", "-A", "medbook"]
    address = f"{args.host}:{args.port}"
    say("Starting the background worker and the job scheduler")
    supervisor = Supervisor(
        [
            Child("worker", [*celery, "worker", "--loglevel=WARNING", "--pool=solo"], env),
            Child("beat", [*celery, "beat", "--loglevel=WARNING", "--pidfile="], env),
        ],
        Child(
            "web server",
            [str(PYTHON), "manage.py", "runserver", address, "--noreload"],
            env,
            restart=False,
        ),
    )
    say(f"Serving MedBook on http://{address}/  (admin: http://{address}/admin/; Ctrl-C stops)")
    sys.exit(supervisor.run())


#: A background process that dies more than this often within RESTART_WINDOW seconds is given up.
RESTART_LIMIT = 5
RESTART_WINDOW = 60.0


def describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


class Child:
    """One process of ``dev.py run``; a restartable one comes back when it dies."""

    def __init__(
        self, name: str, argv: list[str], env: dict[str, str], restart: bool = True
    ) -> None:
        self.name, self.argv, self.env, self.restart = name, argv, env, restart
        self.process: subprocess.Popen[bytes] | None = None
        self.deaths: list[float] = []

    def start(self) -> None:
        self.process = subprocess.Popen(self.argv, cwd=ROOT, env=self.env)

    def poll(self) -> int | None:
        return None if self.process is None else self.process.poll()


class Supervisor:
    """Runs the web server and the background processes until Ctrl-C (exit 0) or a death.

    The worker and beat are restarted when they die, with one line saying which and why; more
    than RESTART_LIMIT deaths of one of them within RESTART_WINDOW seconds, or any death of the
    web server, stops everything with a message and exit code 1.
    """

    def __init__(self, background: list[Child], server: Child) -> None:
        self.children = [*background, server]
        self.stopping = False

    def run(self) -> int:
        def on_signal(signum: int, _frame: object) -> None:
            self.stopping = True
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        try:
            for child in self.children:
                child.start()
            while True:
                for child in self.children:
                    code = child.poll()
                    if code is not None and not self.stopping:
                        verdict = self.died(child, code)
                        if verdict is not None:
                            print(f"\033[1;31mError:\033[0m {verdict}", file=sys.stderr, flush=True)
                            self.stop()
                            return 1
                time.sleep(0.5)
        except KeyboardInterrupt:
            self.stopping = True
        self.stop()
        return 0

    def died(self, child: Child, code: int) -> str | None:
        """Restart ``child`` after a death, or say why MedBook has to stop."""
        pid = child.process.pid if child.process else "?"
        how = f"The {child.name} (pid {pid}) {describe_exit(code)}"
        if not child.restart:
            return f"{how}; stopping MedBook."
        now = time.monotonic()
        child.deaths = [t for t in child.deaths if now - t <= RESTART_WINDOW] + [now]
        if len(child.deaths) > RESTART_LIMIT:
            return (
                f"{how}: {len(child.deaths)} deaths within {RESTART_WINDOW:.0f} s, "
                f"it died for good; stopping MedBook."
            )
        say(
            f"{how}; restarting it ({len(child.deaths)} of {RESTART_LIMIT} deaths allowed "
            f"within {RESTART_WINDOW:.0f} s)."
        )
        child.start()
        return None

    def stop(self) -> None:
        """Ask every process still running to stop, then kill what is left after 10 seconds."""
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        running = [c.process for c in self.children if c.process and c.process.poll() is None]
        for process in running:
            process.terminate()
        deadline = time.monotonic() + 10
        for process in running:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


#: Parallel test processes (pytest-xdist). Much of the suite waits (outage experiments, browser,
#: Celery workers, subprocesses), so more workers than the 2 cores of the reference machine pay
#: off; the figures are in README.md, "Suite time". Each worker has its own test database, Redis
#: database and Celery queue (tests/isolation.py); tests that must not overlap share an xdist group.
TEST_WORKERS = 3
XDIST = ["-n", str(TEST_WORKERS), "--dist", "loadgroup"]


def command_test(args: argparse.Namespace) -> None:
    ensure_venv("requirements-dev.txt")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/medbook")
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
    env.setdefault("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")
    missing = [
        name
        for name, url, port in [
            ("PostgreSQL", env["DATABASE_URL"], 5432),
            ("Redis", env["REDIS_URL"], 6379),
            ("RabbitMQ", env["TEST_RABBITMQ_URL"], 5672),
        ]
        if not reachable(url, port)
    ]
    if shutil.which("pg_dump") is None:
        fail(
            "pg_dump not found: the data-at-rest test dumps the test database "
            "(apt-get install postgresql-client; .ci/run installs it)."
        )
    if missing:
        fail(
            f"{', '.join(missing)} not reachable (DATABASE_URL={env['DATABASE_URL']}, "
            f"REDIS_URL={env['REDIS_URL']}, TEST_RABBITMQ_URL={env['TEST_RABBITMQ_URL']}). "
            "The suite runs against the real services; start them or point the variables at "
            "running ones."
        )
    ruff = str(VENV / "bin" / "ruff")
    say("ruff: lint and format")
    run([ruff, "check", "."], env=env)
    run([ruff, "format", "--check", "."], env=env)
    say(f"Test suite on PostgreSQL and Redis ({TEST_WORKERS} pytest-xdist workers)")
    # Arguments given after `test` come last: `-n 0` there runs everything in one process.
    pytest = [str(PYTHON), "-m", "pytest", *XDIST, *args.pytest_args]
    run([*pytest, "--create-db"], env=env)
    if not args.pytest_args:
        say("Booking-core tests again on SQLite (the embedded default)")
        sqlite_dir = ROOT / "var" / "test"
        sqlite_dir.mkdir(parents=True, exist_ok=True)
        sqlite_env = {
            **env,
            "DATABASE_URL": f"sqlite:///{sqlite_dir / 'medbook.sqlite3'}",
            "SQLITE_TEST_NAME": str(sqlite_dir / "test-medbook.sqlite3"),
        }
        run([*pytest, "-m", "core", "--create-db", "-p", "no:cacheprovider"], env=sqlite_env)
    say("All checks passed")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("run", help="serve the demo clinic with background jobs")
    run_parser.add_argument("--host", default="127.0.0.1")
    run_parser.add_argument("--port", default="8000")
    test_parser = sub.add_parser("test", help="lint and run the whole test suite")
    test_parser.add_argument("pytest_args", nargs=argparse.REMAINDER, help="passed to pytest")
    args = parser.parse_args()
    {"run": command_run, "test": command_test}[args.command](args)


if __name__ == "__main__":
    main()
