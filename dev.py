#!/usr/bin/env python3
"""MedBook's two commands, with nothing but Python 3.11+ installed.

    python3 dev.py run      # set up, migrate, load the demo clinic, serve on :8000 with jobs
    python3 dev.py cluster  # the production topology on this machine (PostgreSQL primary +
                            # streaming replica, 3 gunicorn behind HAProxy, 2 workers, beat)
    python3 dev.py test     # set up, then lint and run the whole test suite

Both create ``.venv`` and install the pinned requirements the first time (and again whenever a
requirements file changes). Only the standard library is used here.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
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
    # The web server, the worker and beat count into one folder, so /metrics adds them up
    # (medbook/metrics.py); emptied before they start, as prometheus_client requires.
    metrics = Path(env.get("MEDBOOK_VAR_DIR") or ROOT / "var") / "metrics"
    shutil.rmtree(metrics, ignore_errors=True)
    metrics.mkdir(parents=True)
    env.setdefault("PROMETHEUS_MULTIPROC_DIR", str(metrics))
    say("Migrating the database")
    manage("migrate", "--noinput", "-v", "0", env=env)
    say("Loading the demo clinic (skipped where it is already there)")
    manage("seed_demo", env=env)
    manage("ensure_demo_accounts", env=env)
    background = []
    if not env.get("MEDBOOK_WECHAT_MCH_ID"):  # no real merchant account: the demo's stand-in
        background.append(wechat_pay_standin(args.host, env))
    celery = [str(PYTHON), "-m", "celery", "--quiet", "-A", "medbook"]
    address = f"{args.host}:{args.port}"
    say("Starting the background worker and the job scheduler")
    supervisor = Supervisor(
        [
            *background,
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


def wechat_pay_standin(host: str, env: dict[str, str]) -> Child:
    """The demo's WeChat Pay (demo/wechat_pay.py) on a free port: its keys made, ``env``
    pointed at it (members may then choose WeChat Pay and pay by QR code); its process."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        port = probe.getsockname()[1]
    command = [str(PYTHON), "manage.py", "wechat_pay_standin"]
    found = subprocess.run(
        [*command, "--settings-only"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if found.returncode != 0:
        fail(f"the WeChat Pay stand-in could not make its keys:\n{found.stderr}")
    env.update(line.split("=", 1) for line in found.stdout.splitlines() if "=" in line)
    env["MEDBOOK_WECHAT_GATEWAY_URL"] = f"http://{host}:{port}"
    say(f"WeChat Pay for the demo: a local stand-in on http://{host}:{port}/ (no money moves)")
    return Child("WeChat Pay stand-in", [*command, "--host", host, "--port", str(port)], env)


# ---------------------------------------------------------------------------------------------
# `dev.py cluster`: PostgreSQL primary + streaming replica made with the machine's binaries
# (also used by tests/cluster.py, which makes a throwaway one), gunicorn × 3 behind HAProxy.
# ---------------------------------------------------------------------------------------------
PG_USER = "postgres"  # initdb and postgres refuse to run as root: as root, run them as this user


def pg_bin(name: str) -> str:
    """The newest of the machine's PostgreSQL server binaries (Debian keeps them off PATH)."""
    found = sorted(
        Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
    )
    if found:
        return str(found[-1])
    if shutil.which(name):
        return str(shutil.which(name))
    raise FileNotFoundError(
        f"PostgreSQL's {name} not found (apt-get install postgresql: /usr/lib/postgresql/*/bin)"
    )


def as_pg_user(argv: list[str]) -> list[str]:
    """``argv`` run as PG_USER when this is root (initdb refuses root), as is otherwise."""
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", PG_USER, "--", *argv]


def pg_own(path: Path) -> None:
    """Give ``path`` (a folder for a data directory) to PG_USER when this is root."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(path, PG_USER, PG_USER)


def pg_quiet(argv: list[str], what: str) -> None:
    done = subprocess.run(as_pg_user(argv), capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed ({done.returncode}): {done.stderr or done.stdout}")


def pg_init_primary(data: Path, port: int, *, fast: bool = False) -> None:
    """initdb a primary in ``data`` listening on 127.0.0.1:``port`` (socket in ``data``), ready to
    stream to replicas. ``fast`` (tests): fsync and full-page writes off, small buffers."""
    pg_own(data.parent)
    pg_quiet(
        [
            pg_bin("initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-instructions",
        ],
        "initdb",
    )
    settings = {
        "port": port,
        "listen_addresses": "'127.0.0.1'",
        "unix_socket_directories": f"'{data}'",
        "wal_level": "replica",
        "max_wal_senders": 5,
        "wal_keep_size": "'256MB'",
        "hot_standby": "on",
        "hot_standby_feedback": "on",
        "max_connections": 200,
        "logging_collector": "off",
    }
    if fast:
        settings |= {
            "fsync": "off",
            "full_page_writes": "off",
            "synchronous_commit": "off",
            "shared_buffers": "'16MB'",
            "max_connections": 60,
        }
    lines = "".join(f"{key} = {value}\n" for key, value in settings.items())
    with open(data / "postgresql.conf", "a", encoding="utf-8") as conf:
        conf.write("\n# MedBook (dev.py)\n" + lines)


def pg_make_replica(primary_port: int, data: Path, port: int) -> None:
    """A streaming replica of the primary on ``primary_port``: pg_basebackup -R (standby.signal
    and primary_conninfo written), then its own port and socket folder."""
    pg_own(data.parent)
    pg_quiet(
        [
            pg_bin("pg_basebackup"),
            "-h",
            "127.0.0.1",
            "-p",
            str(primary_port),
            "-U",
            "postgres",
            "-D",
            str(data),
            "-R",
            "-X",
            "stream",
            "-c",
            "fast",
        ],
        "pg_basebackup",
    )
    with open(data / "postgresql.conf", "a", encoding="utf-8") as conf:
        conf.write(f"\n# the replica\nport = {port}\nunix_socket_directories = '{data}'\n")


def pg_start(data: Path) -> None:
    """Start the server of ``data`` unless it runs already (a previous run left it up)."""
    status = subprocess.run(
        as_pg_user([pg_bin("pg_ctl"), "-D", str(data), "status"]), capture_output=True
    )
    if status.returncode == 0:
        return
    pg_quiet(
        [
            pg_bin("pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(data / "server.log"),
            "-w",
            "-t",
            "60",
            "start",
        ],
        f"pg_ctl start {data.name}",
    )


def pg_stop(data: Path, mode: str = "fast") -> None:
    if (data / "postmaster.pid").exists():
        subprocess.run(
            as_pg_user([pg_bin("pg_ctl"), "-D", str(data), "-m", mode, "-w", "stop"]),
            capture_output=True,
        )


def pg_sql(port: int, sql: str, database: str = "postgres") -> str:
    done = subprocess.run(
        [
            pg_bin("psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            "postgres",
            "-d",
            database,
            "-XAtq",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            sql,
        ],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"psql failed: {done.stderr}")
    return done.stdout.strip()


def wait_streaming(port: int, timeout: float = 60) -> None:
    """Wait until the replica on ``port`` streams from its primary."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if pg_sql(port, "SELECT status FROM pg_stat_wal_receiver") == "streaming":
                return
        except RuntimeError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the replica on port {port} does not stream")


HAPROXY_CFG = """\
global
    maxconn 4096
    # Counters (retries, redispatches, answers by status): echo "show stat" | socat - UNIX:…
    stats socket {stats} mode 600 level user
    log stdout format raw local0
defaults
    mode http
    # A line for each request that failed or was sent again (termination state, retries),
    # none for the others.
    log global
    option httplog
    option dontlog-normal
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout http-request 10s
    # A request waits its turn in HAProxy's queue (see maxconn below) up to a minute, then 503:
    # a release's burst with one instance stopping took over 30 s to drain on 2 busy cores.
    timeout queue 60s
    option forwardfor
    # The whole (small) request is read before it is sent, so it can be sent again.
    option http-buffer-request
    # A request whose instance refused the connection, or closed it without a byte of answer
    # (a stopping gunicorn resets the connections still in its listen queue; a killed one
    # those it was serving), is sent again to another instance. Safe for MedBook's POSTs too:
    # a booking sent again after the first try booked is answered "already booked" (the
    # member's mark in the release gate, else the one-active-appointment-per-patient rule),
    # payments and cancellations are idempotent. Never on a timeout: the first try may still
    # be running.
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response
frontend medbook
    bind {host}:{port}
    default_backend web
backend web
    balance roundrobin
    # Only instances whose /readyz answers 200 (database primary reachable, migrations
    # applied) get requests: checked every second (every 250 ms while changing state), out at
    # once when a request's connection is refused (observe layer4) or after 3 failed checks,
    # back after 2 passes. A check waits for a free sync worker like any
    # request: on a busy machine that can take seconds, hence the patient timeout.
    option httpchk GET /readyz
    http-check expect status 200
    timeout check 5s
    default-server inter 1s fastinter 250ms fall 3 rise 2
    default-server observe layer4 error-limit 1 on-error mark-down
{servers}
"""


def haproxy_config(*, host: str, port: int, web_ports: list[int], workers: int, stats: Path) -> str:
    """HAProxy's configuration for web instances on ``web_ports`` with ``workers`` sync
    workers each. At most that many requests at a time go to an instance: the rest wait in
    HAProxy's queue, not in gunicorn's listen queue, so a health check is answered at once even
    in a burst and a stopping instance leaves nothing waiting unanswered."""
    servers = "\n".join(
        f"    server web{i + 1} 127.0.0.1:{web_port} check maxconn {workers}"
        for i, web_port in enumerate(web_ports)
    )
    return HAPROXY_CFG.format(host=host, port=port, servers=servers, stats=stats)


def command_cluster(args: argparse.Namespace) -> None:
    ensure_venv("requirements.txt")
    if shutil.which("haproxy") is None:
        fail("HAProxy not found: apt-get install -y haproxy (Debian's package).")
    base = ROOT / "var" / "cluster"
    primary, replica = base / "primary", base / "replica"
    pg_port, replica_port = int(args.pg_port), int(args.pg_port) + 1
    web_ports = [int(args.web_port) + i for i in range(3)]
    if not (primary / "PG_VERSION").exists():
        say(f"Creating the PostgreSQL primary in {primary} (port {pg_port})")
        shutil.rmtree(replica, ignore_errors=True)
        pg_init_primary(primary, pg_port)
    pg_start(primary)
    if not pg_sql(pg_port, "SELECT 1 FROM pg_database WHERE datname = 'medbook'"):
        pg_sql(pg_port, "CREATE DATABASE medbook")
    if not (replica / "PG_VERSION").exists():
        say(f"Making the streaming replica in {replica} (port {replica_port}, pg_basebackup)")
        pg_make_replica(pg_port, replica, replica_port)
    pg_start(replica)
    wait_streaming(replica_port)
    database = f"postgres://postgres@127.0.0.1:{pg_port}/medbook"
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "DATABASE_URL": database,
        "DATABASE_REPLICA_URL": f"postgres://postgres@127.0.0.1:{replica_port}/medbook",
        "MEDBOOK_DEV_SECRETS": os.environ.get("MEDBOOK_DEV_SECRETS", "true"),
        "ALLOWED_HOSTS": os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost"),
        # Plain HTTP on this machine: no redirect to https, no HSTS (the cookies stay Secure,
        # which browsers accept from http://127.0.0.1 and http://localhost).
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_HSTS_SECONDS": "0",
        "WEB_CONCURRENCY": os.environ.get("WEB_CONCURRENCY", "2"),
    }
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    env.setdefault("CELERY_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
    url = f"http://{args.host}:{args.port}"
    env.setdefault("MEDBOOK_PUBLIC_URL", url)
    for name, value, port in [
        ("Redis", env["REDIS_URL"], 6379),
        ("RabbitMQ", env["CELERY_BROKER_URL"], 5672),
    ]:
        if not reachable(value, port):
            fail(f"{name} is not reachable at {value}: start the machine's {name}.")
    metrics = base / "metrics"
    shutil.rmtree(metrics, ignore_errors=True)
    metrics.mkdir(parents=True)
    env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics)
    say("Migrating the primary")
    manage("migrate", "--noinput", "-v", "0", env=env)
    manage("collectstatic", "--noinput", "-v", "0", env=env)
    say("Loading the demo clinic (skipped where it is already there)")
    manage("seed_demo", env=env)
    manage("ensure_demo_accounts", "--local-cluster", env=env)
    cfg = base / "haproxy.cfg"
    cfg.write_text(
        haproxy_config(
            host=args.host,
            port=int(args.port),
            web_ports=web_ports,
            workers=int(env["WEB_CONCURRENCY"]),
            stats=base / "haproxy.sock",
        )
    )
    celery = [str(PYTHON), "-m", "celery", "--quiet", "-A", "medbook"]
    gunicorn = [str(PYTHON), "-m", "gunicorn", "-c", "python:medbook.gunicorn_conf"]
    children = [
        Child(
            f"web {i + 1}",
            [*gunicorn, "--bind", f"127.0.0.1:{port}", "medbook.wsgi"],
            env,
            group=True,
        )
        for i, port in enumerate(web_ports)
    ]
    children += [
        Child(
            f"worker {i}",
            [*celery, "worker", "--loglevel=WARNING", "-c", "2", "-n", f"worker{i}@%h"],
            env,
        )
        for i in (1, 2)
    ]
    children.append(
        Child(
            "beat",
            [*celery, "beat", "--loglevel=WARNING", "--pidfile=", "-s", str(base / "beat")],
            env,
        )
    )
    say(
        f"Starting 3 web instances (ports {', '.join(map(str, web_ports))}), 2 workers, beat "
        f"and HAProxy"
    )
    supervisor = Supervisor(
        children, Child("HAProxy", ["haproxy", "-db", "-f", str(cfg)], env, restart=False)
    )

    def announce_when_ready() -> None:
        # The URL once HAProxy has a web instance whose /readyz passed (booting 3 gunicorns
        # takes a while on a small machine).
        for _ in range(600):
            try:
                with urllib.request.urlopen(f"{url}/readyz", timeout=2):  # noqa: S310
                    break
            except OSError:
                time.sleep(0.5)
        say(
            f"MedBook cluster on {url}/  (primary :{pg_port}, replica :{replica_port}; "
            "Ctrl-C stops everything)"
        )

    threading.Thread(target=announce_when_ready, daemon=True).start()
    try:
        code = supervisor.run()
    finally:
        say("Stopping PostgreSQL (replica, then primary)")
        pg_stop(replica)
        pg_stop(primary)
    sys.exit(code)


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
        self,
        name: str,
        argv: list[str],
        env: dict[str, str],
        restart: bool = True,
        group: bool = False,
    ) -> None:
        self.name, self.argv, self.env, self.restart = name, argv, env, restart
        # group: the process leads its own process group (gunicorn's master and its workers),
        # killed whole when the leader dies, so no orphaned worker keeps the port.
        self.group = group
        self.process: subprocess.Popen[bytes] | None = None
        self.deaths: list[float] = []

    def start(self) -> None:
        self.process = subprocess.Popen(
            self.argv, cwd=ROOT, env=self.env, start_new_session=self.group
        )

    def kill_group(self) -> None:
        """Kill what is left of a dead group leader's group (its orphaned children)."""
        if self.group and self.process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)

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
        child.kill_group()
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
        # PostgreSQL-only tests (row locks, the planner) ran above; on SQLite they would fail.
        run(
            [*pytest, "-m", "core and not postgres", "--create-db", "-p", "no:cacheprovider"],
            env=sqlite_env,
        )
    say("All checks passed")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("run", help="serve the demo clinic with background jobs")
    run_parser.add_argument("--host", default="127.0.0.1")
    run_parser.add_argument("--port", default="8000")
    cluster_parser = sub.add_parser(
        "cluster", help="primary + replica, 3 web behind HAProxy, 2 workers, beat"
    )
    cluster_parser.add_argument("--host", default="127.0.0.1")
    cluster_parser.add_argument("--port", default="8080", help="HAProxy's port")
    cluster_parser.add_argument("--web-port", default="8101", help="the first web instance's")
    cluster_parser.add_argument("--pg-port", default="55432", help="the primary's (replica: +1)")
    test_parser = sub.add_parser("test", help="lint and run the whole test suite")
    test_parser.add_argument("pytest_args", nargs=argparse.REMAINDER, help="passed to pytest")
    args = parser.parse_args()
    {"run": command_run, "cluster": command_cluster, "test": command_test}[args.command](args)


if __name__ == "__main__":
    main()
