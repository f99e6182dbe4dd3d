"""The backup and restore drill on a small real database: members with encrypted phones and
ID numbers, booked and paid appointments, orders and an operation-log chain are dumped with
pg_dump, restored with pg_restore into a fresh database and checked there by a new process that
knows only the keys in the environment. A copy whose audit log was edited, or checked with a key
that is not the escrowed one, fails the drill.

Needs PostgreSQL and its client tools: without them these tests fail, they do not skip.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
from decimal import Decimal

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from billing import services
from medbook import audit
from medbook.management.commands.backup_drill import database_url, without_password
from medbook.models import OperationLog
from tests.appointments.factories import ScheduleFactory
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db(transaction=True)

VALID_ID = "11010519491231002X"


@pytest.fixture
def source_url() -> str:
    engine = settings.DATABASES["default"]["ENGINE"]
    assert engine.endswith("postgresql"), f"the backup drill needs PostgreSQL, got {engine}"
    return database_url(settings.DATABASE_URL, connection.settings_dict["NAME"])


@pytest.fixture
def target(source_url: str):
    """The drill's database name; dropped afterwards whatever happened."""
    name = f"{connection.settings_dict['NAME']}_drill"[:63]
    yield name
    with psycopg.connect(database_url(source_url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


@pytest.fixture
def clinic(levels, front_desk) -> None:
    """Members with phones and ID numbers, bookings made and paid at the desk (orders, and an
    operation-log row for each), one cancelled with its refund, and a staff action logged."""
    day = timezone.localdate() + dt.timedelta(days=2)
    schedule = ScheduleFactory(fee=Decimal("60.00"), date=day, capacity=10)
    members = [MemberFactory(national_id=VALID_ID if i == 0 else "") for i in range(6)]
    for i, member in enumerate(members):
        appointment = services.book_for_member(member=member, schedule=schedule, by=front_desk)
        if i % 2 == 0:
            services.pay_at_counter(order=appointment.order, by=front_desk)
    audit.record(actor=front_desk, action="member.view_personal_data", target=members[0])
    assert OperationLog.objects.count() >= 10


def drill(*args: str) -> str:
    out = io.StringIO()
    try:
        call_command("backup_drill", *args, stdout=out)
    except CommandError as exc:
        raise AssertionError(f"{exc}\n{out.getvalue()}") from exc
    return out.getvalue()


def failing_drill(*args: str) -> str:
    out = io.StringIO()
    with pytest.raises(CommandError, match="FAILED"):
        call_command("backup_drill", *args, stdout=out)
    return out.getvalue()


def test_it_restores_a_copy_that_passes_every_check_and_drops_it(
    clinic, source_url, target, tmp_path
) -> None:
    report = drill(f"--source-url={source_url}", f"--target-db={target}", f"--dump-dir={tmp_path}")

    assert "Backup drill passed." in report
    for line in (
        "ok   migrations",
        "ok   check_integrity",
        "ok   verify_audit_log",
        "ok   audit log guard",
        "ok   members_member.phone: 6 values decrypt and match their blind index",
        "ok   members_member.national_id: 1 values decrypt and match their blind index",
        "110105********002X",  # the ID read back, shown masked only
    ):
        assert line in report, report
    assert VALID_ID not in report
    assert "dump" in report and "restore" in report and "dropped" in report
    with psycopg.connect(database_url(source_url, "postgres")) as conn:
        gone = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [target]).fetchone()
    assert gone is None

    # Last night's dump, restored by URL (as onto a separate drill server), passes the same way.
    (dump,) = tmp_path.glob("*.dump")
    report = drill(f"--dump-file={dump}", f"--target-url={database_url(source_url, target)}")
    assert f"dump file {dump}" in report and "Backup drill passed." in report


def test_a_tampered_copy_or_a_wrong_key_fails_the_drill(
    clinic, source_url, target, monkeypatch
) -> None:
    drill(f"--source-url={source_url}", f"--target-db={target}", "--keep")
    target_url = database_url(source_url, target)

    # The escrowed key is the only one that reads the copy.
    other = "t9:" + base64.b64encode(b"x" * 32).decode()
    monkeypatch.setenv("FIELD_ENCRYPTION_KEYS", other)
    report = failing_drill(
        f"--source-url={source_url}", f"--target-db={target}", "--verify-existing"
    )
    assert "FAIL members_member.phone: key id(s) ['t1'] not in the keyring" in report
    monkeypatch.setenv("FIELD_ENCRYPTION_KEYS", settings.FIELD_ENCRYPTION_KEYS)

    # An audit row edited in the restored copy (by a database superuser, past the append-only
    # trigger) is found.
    with psycopg.connect(target_url, autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute(
            "UPDATE medbook_operationlog SET reason = 'edited' "
            "WHERE id = (SELECT min(id) FROM medbook_operationlog)"
        )
    report = failing_drill(
        f"--source-url={source_url}", f"--target-db={target}", "--verify-existing"
    )
    assert "FAIL verify_audit_log" in report
    assert "its content does not match its hash" in report
    assert "ok   check_integrity" in report
    assert "ok   audit log guard" in report
    assert f"kept: {target}" in report


def test_it_refuses_without_the_escrowed_keys_in_the_environment(
    source_url, target, monkeypatch
) -> None:
    monkeypatch.delenv("BLIND_INDEX_KEY")
    with pytest.raises(CommandError, match="BLIND_INDEX_KEY not in the environment"):
        call_command("backup_drill", f"--source-url={source_url}", f"--target-db={target}")


def test_it_restores_only_into_a_fresh_database(source_url, target, db) -> None:
    with psycopg.connect(database_url(source_url, "postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{target}"')
    with pytest.raises(CommandError, match="already exists"):
        call_command(
            "backup_drill",
            f"--source-url={source_url}",
            f"--target-db={target}",
            stdout=io.StringIO(),
        )


def test_it_hands_the_password_to_pg_tools_through_the_environment_not_the_command_line() -> None:
    assert without_password("postgres://backup:p%40ss@db:5432/medbook?sslmode=require") == (
        "postgres://backup@db:5432/medbook?sslmode=require",
        {"PGPASSWORD": "p@ss"},
    )
    assert without_password("postgres://postgres@db/medbook") == (
        "postgres://postgres@db/medbook",
        {},
    )
