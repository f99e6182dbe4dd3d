"""Backup and restore drill: dump, restore into a fresh database, prove the copy is usable.

    manage.py backup_drill [--source-url URL | --dump-file FILE]
                           [--target-db NAME | --target-url URL] [--keep]

1. ``pg_dump --format=custom`` of the source database (by default this process's
   ``DATABASE_URL``), or an existing dump given with ``--dump-file`` (last night's backup);
2. ``pg_restore`` into a database created for the drill (it must not exist yet);
3. a new process, configured like a fresh machine (``DATABASE_URL`` the restored copy, the keys
   only from the environment — the escrowed copies, never the dev secrets file), checks the copy:
   migrations all applied, ``check_integrity``, ``verify_audit_log``, and every encrypted column's
   values decrypt and match their blind indexes;
4. a short report (sizes, times, checks); the drill database is dropped unless ``--keep`` (or a
   check failed: it is kept for a look). Exits non-zero on any failure.

``--verify-existing`` runs step 3 alone against an existing ``--target-db``/``--target-url``
(for example a point-in-time recovery started by hand, or a copy kept with ``--keep``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import psycopg
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.migrations.executor import MigrationExecutor
from psycopg import sql

from medbook import crypto
from medbook.fields import BlindIndexField, EncryptedTextField
from medbook.personal_data import mask_national_id, mask_phone

MANAGE_PY = Path(settings.BASE_DIR) / "manage.py"
DB_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# The keys a restore needs, kept apart from the backups ("escrowed"): the drill reads them from
# the environment only, as a restore on a new machine would.
ESCROWED = ("FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEY")
CHECK_TIMEOUT = 4 * 3600  # seconds
# Tables whose row counts the report shows (app label, model).
COUNTED = [
    ("members", "Member", "members"),
    ("appointments", "Appointment", "appointments"),
    ("billing", "Order", "orders"),
    ("medbook", "OperationLog", "operation log"),
]


def database_url(url: str, name: str) -> str:
    """``url`` with its database name replaced by ``name``."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def without_password(url: str) -> tuple[str, dict[str, str]]:
    """``url`` without its password, and the environment that passes it to libpq instead (a
    password on a command line is visible to every user of the machine in ``ps``)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url, {}
    netloc = parts.netloc.rpartition("@")[2]
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    return urlunsplit(parts._replace(netloc=netloc)), {"PGPASSWORD": unquote(parts.password)}


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"  # pragma: no cover


def mask(value: str, purpose: str) -> str:
    if "phone" in purpose:
        return mask_phone(value)
    if "national_id" in purpose or purpose.endswith("id_number"):
        return mask_national_id(value)
    return "*" * min(len(value), 8)


class Command(BaseCommand):
    help = (
        "Back up a PostgreSQL database with pg_dump, restore it into a fresh database and check "
        "the copy (integrity, audit chain, encrypted fields with the escrowed keys)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--source-url", help="database to back up (default: this process's DATABASE_URL)"
        )
        parser.add_argument(
            "--dump-file",
            help="restore this existing pg_dump custom-format file instead of dumping",
        )
        parser.add_argument(
            "--dump-dir", help="keep the new dump in this folder (default: a temporary one)"
        )
        parser.add_argument(
            "--target-db",
            help="name of the database to restore into, on the source's server; it must not "
            "exist (default: <source name>_drill)",
        )
        parser.add_argument(
            "--target-url",
            help="full URL of the database to restore into, e.g. on a separate drill server "
            "(instead of --target-db)",
        )
        parser.add_argument(
            "--keep", action="store_true", help="keep the restored database after the drill"
        )
        parser.add_argument(
            "--verify-existing",
            action="store_true",
            help="only check the already restored --target-db",
        )
        parser.add_argument(
            "--sample",
            type=int,
            default=500,
            help="encrypted values decrypted per column (newest rows first; 0 = all)",
        )
        # Internal: the checking process the drill starts with the restored copy's settings.
        parser.add_argument("--check-here", action="store_true", help="(internal)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["sample"] < 0:
            raise CommandError("--sample must be 0 (all) or a positive number.")
        if options["check_here"]:
            self.check_here(sample=options["sample"])
            return
        self.drill(options)

    # -- the drill ------------------------------------------------------------------------------

    def drill(self, options: dict[str, Any]) -> None:
        missing = [name for name in ESCROWED if not os.environ.get(name)]
        if missing:
            raise CommandError(
                f"{', '.join(missing)} not in the environment. The drill reads the keys only "
                "from the environment, as a restore on a new machine would: export the escrowed "
                "copies first."
            )
        if options["dump_file"] and options["source_url"]:
            raise CommandError("Give --source-url or --dump-file, not both.")
        if options["target_db"] and options["target_url"]:
            raise CommandError("Give --target-db or --target-url, not both.")
        source_url = options["source_url"] or settings.DATABASE_URL
        if options["target_url"]:
            target_url = options["target_url"]
            target = database_name(target_url)
        else:
            target = options["target_db"] or f"{database_name(source_url)}_drill"[:63]
            target_url = database_url(source_url, target)
        needs = [("--target-url", target_url)]
        if not options["dump_file"] and not options["verify_existing"]:
            needs.append(("--source-url", source_url))
        for flag, url in needs:
            if not url.startswith(("postgres://", "postgresql://")):
                raise CommandError(f"The drill needs PostgreSQL ({flag} postgres://…).")
        if not DB_NAME.match(target):
            raise CommandError(f"Target database {target!r}: use lower-case letters, digits, _.")
        if not options["dump_file"] and self.describe(target_url) == self.describe(source_url):
            raise CommandError("The target database must not be the source database.")
        for tool in ("pg_dump", "pg_restore"):
            if shutil.which(tool) is None:
                raise CommandError(f"{tool} is not installed (PostgreSQL client tools).")

        report: list[tuple[str, str]] = [("source", self.describe(source_url))]
        started = time.monotonic()
        if options["verify_existing"]:
            report[0] = ("restored copy", self.describe(target_url))
            self.verify(target_url, options["sample"], report, started, keep=True)
            return

        self.refuse_existing(target_url)  # before a long dump, not after it
        workdir = Path(options["dump_dir"] or tempfile.mkdtemp(prefix="medbook-drill-"))
        workdir.mkdir(parents=True, exist_ok=True)
        try:
            if options["dump_file"]:
                dump = Path(options["dump_file"])
                if not dump.is_file():
                    raise CommandError(f"No dump file at {dump}.")
                report[0] = ("source", f"dump file {dump}")
            else:
                dump = (
                    workdir / f"{database_name(source_url)}-{time.strftime('%Y%m%dT%H%M%S')}.dump"
                )
                took = self.run(
                    ["pg_dump", "--format=custom", f"--file={dump}"],
                    source_url,
                    "pg_dump",
                )
                report.append(("dump", f"{human_size(dump.stat().st_size)} in {took:.1f} s"))
            if options["dump_file"]:
                report.append(("dump", f"{human_size(dump.stat().st_size)} (existing file)"))
            self.create_database(target_url)
            took = self.run(
                ["pg_restore", "--exit-on-error", "--no-owner", "--no-privileges", str(dump)],
                target_url,
                f"pg_restore (database {target} kept for a look; drop it before the next drill)",
            )
            report.append(
                ("restore", f"into {target}: {human_size(self.size(target_url))} in {took:.1f} s")
            )
        finally:
            if not options["dump_dir"] and not options["dump_file"]:
                shutil.rmtree(workdir, ignore_errors=True)
            elif not options["dump_file"]:
                report.append(("dump kept", str(dump)))
        self.verify(target_url, options["sample"], report, started, keep=options["keep"])

    def verify(
        self,
        target_url: str,
        sample: int,
        report: list[tuple[str, str]],
        started: float,
        *,
        keep: bool,
    ) -> None:
        """Check the copy from a fresh process that knows only the restored database and the
        keys in the environment; print the report; drop the copy if it passed and not ``keep``."""
        env = {**os.environ, "DATABASE_URL": target_url, "MEDBOOK_DEV_SECRETS": "false"}
        # Reading data does not need the web's signing key; a new machine may not have it yet.
        env.setdefault("DJANGO_SECRET_KEY", "backup-drill-" + os.urandom(16).hex())
        env["DATABASE_POOL"] = "false"
        began = time.monotonic()
        try:
            checked = subprocess.run(  # noqa: S603 (our own manage.py, fixed arguments)
                [
                    sys.executable,
                    str(MANAGE_PY),
                    "backup_drill",
                    "--check-here",
                    f"--sample={sample}",
                ],
                env=env,
                capture_output=True,
                text=True,
                timeout=CHECK_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise CommandError(f"The checks took longer than {CHECK_TIMEOUT} s.") from exc
        report.append(("checks", f"{time.monotonic() - began:.1f} s"))
        lines = (checked.stdout + checked.stderr).strip().splitlines()
        report.extend(("", line) for line in lines)
        passed = checked.returncode == 0
        if passed and not keep:
            self.drop_database(target_url)
            report.append(("restored copy", "dropped"))
        elif not passed or keep:
            report.append(("restored copy", f"kept: {database_name(target_url)}"))
        report.append(("total", f"{time.monotonic() - started:.1f} s"))
        width = max(len(label) for label, _ in report)
        for label, text in report:
            self.stdout.write(f"{label:<{width}}  {text}")
        if not passed:
            raise CommandError("Backup drill FAILED: the restored copy did not pass its checks.")
        self.stdout.write(self.style.SUCCESS("Backup drill passed."))

    def run(self, command: list[str], url: str, what: str) -> float:
        bare, secret = without_password(url)
        began = time.monotonic()
        done = subprocess.run(  # noqa: S603 (fixed programs; the URL is the operator's)
            [*command, f"--dbname={bare}"],
            env={**os.environ, **secret},
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise CommandError(f"{what} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
        return time.monotonic() - began

    def describe(self, url: str) -> str:
        parts = urlsplit(url)
        return f"{parts.hostname}:{parts.port or 5432}/{database_name(url)}"

    def connect(self, url: str, **kwargs: Any) -> psycopg.Connection:
        try:
            return psycopg.connect(url, connect_timeout=10, **kwargs)
        except psycopg.OperationalError as exc:
            raise CommandError(f"Cannot connect to {self.describe(url)}: {exc}") from exc

    def refuse_existing(self, target_url: str) -> None:
        target = database_name(target_url)
        with self.connect(database_url(target_url, "postgres"), autocommit=True) as conn:
            self.refuse_if_exists(conn, target)

    def refuse_if_exists(self, conn: psycopg.Connection, target: str) -> None:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [target]).fetchone()
        if exists:
            raise CommandError(
                f"Database {target} already exists: the drill restores into a fresh one. "
                "Drop it or choose another target."
            )

    def create_database(self, target_url: str) -> None:
        target = database_name(target_url)
        with self.connect(database_url(target_url, "postgres"), autocommit=True) as conn:
            self.refuse_if_exists(conn, target)
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(target)))

    def drop_database(self, target_url: str) -> None:
        name = database_name(target_url)
        with self.connect(database_url(target_url, "postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))

    def size(self, url: str) -> int:
        with self.connect(url) as conn:
            return conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]

    # -- the checks, run in the process configured for the restored copy ----------------------

    def check_here(self, *, sample: int) -> None:
        failures = 0
        counts = ", ".join(
            f"{label} {apps.get_model(app, model).objects.count()}" for app, model, label in COUNTED
        )
        self.stdout.write(f"rows: {counts}")

        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if pending:
            failures += 1
            self.stdout.write(f"FAIL migrations: {len(pending)} not applied in the copy")
        else:
            self.stdout.write("ok   migrations: all applied")

        for name in ("check_integrity", "verify_audit_log"):
            try:
                call_command(name, stdout=self.stdout, stderr=self.stdout)
            except CommandError as exc:
                failures += 1
                self.stdout.write(f"FAIL {name}: {exc}")
            else:
                self.stdout.write(f"ok   {name}")

        if self.audit_guard_missing():
            failures += 1
            self.stdout.write("FAIL audit log guard: the append-only trigger is missing or off")
        else:
            self.stdout.write("ok   audit log guard: the append-only trigger is in place")

        failures += self.check_encrypted(sample)
        if failures:
            raise CommandError(f"{failures} check(s) failed on the restored copy.")

    def audit_guard_missing(self) -> bool:
        """The operation log's append-only trigger (migration medbook 0002) came back with the
        restore and is enabled: without it the copy would accept edits to the log."""
        if connection.vendor != "postgresql":
            return False
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM pg_trigger WHERE tgname = 'medbook_operationlog_append_only' "
                "AND tgenabled <> 'D'"
            )
            return cursor.fetchone() is None

    def check_encrypted(self, sample: int) -> int:
        """Every key id the data uses is in the keyring; sampled values decrypt and match their
        blind index. Returns the number of failed columns."""
        ring = crypto.keyring()
        quote = connection.ops.quote_name
        failures = 0
        for model in apps.get_models():
            fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
            indexes = {
                f.source: f for f in model._meta.concrete_fields if isinstance(f, BlindIndexField)
            }
            table, pk = model._meta.db_table, model._meta.pk.column
            for field in fields:
                column = quote(field.column)
                where = f"{column} IS NOT NULL AND {column} <> ''"
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"SELECT DISTINCT split_part({column}, '$', 2) "  # noqa: S608
                        f"FROM {quote(table)} WHERE {where}"
                    )
                    used = sorted(row[0] for row in cursor.fetchall())
                    index = indexes.get(field.name)
                    index_sql = quote(index.column) if index else "NULL"
                    cursor.execute(
                        f"SELECT {quote(pk)}, {column}, {index_sql} FROM {quote(table)} "  # noqa: S608
                        f"WHERE {where} ORDER BY {quote(pk)} DESC"
                        + (f" LIMIT {int(sample)}" if sample else "")
                    )
                    rows = cursor.fetchall()
                if not used:
                    continue
                label = f"{table}.{field.column}"
                unknown = [key_id for key_id in used if key_id not in ring.keys]
                if unknown:
                    failures += 1
                    self.stdout.write(f"FAIL {label}: key id(s) {unknown} not in the keyring")
                    continue
                bad: list[str] = []
                example = ""
                for row_pk, token, stored_index in rows:
                    try:
                        plain = crypto.decrypt(token, purpose=field.purpose)
                    except crypto.DecryptionError as exc:
                        bad.append(f"row {row_pk}: {exc}")
                        continue
                    if index and crypto.blind_index(plain, purpose=index.purpose) != stored_index:
                        bad.append(f"row {row_pk}: blind index does not match (BLIND_INDEX_KEY?)")
                        continue
                    example = example or mask(plain, field.purpose)
                if bad:
                    failures += 1
                    self.stdout.write(f"FAIL {label}: {len(bad)} of {len(rows)} sampled values")
                    for line in bad[:5]:
                        self.stdout.write(f"       {line}")
                else:
                    checked_index = " and match their blind index" if index else ""
                    self.stdout.write(
                        f"ok   {label}: {len(rows)} values decrypt{checked_index} "
                        f"(keys {', '.join(used)}; e.g. {example})"
                    )
        return failures
