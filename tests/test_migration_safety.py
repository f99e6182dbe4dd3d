"""No migration newer than the released ones locks a big table or breaks the running release
(medbook.migration_safety; README "Zero-downtime changes"); the check itself catches each
kind of risk; the concurrent index works on PostgreSQL and on SQLite alike."""

from __future__ import annotations

import pytest
from django.db import connection, migrations, models
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.migration import Migration

from medbook.migration_operations import AddIndexConcurrently
from medbook.migration_safety import risks, unreleased_migrations


def test_no_unreleased_migration_is_risky() -> None:
    problems = [str(r) for app, m in unreleased_migrations() for r in risks(app, m)]
    assert not problems, "\n".join(problems)


def migration(*operations, atomic: bool = True) -> Migration:
    m = Migration("0099_example", "appointments")
    m.operations = list(operations)
    m.atomic = atomic
    return m


@pytest.mark.parametrize(
    ("operation", "words"),
    [
        (
            migrations.AddField("appointment", "note2", models.CharField(max_length=9)),
            "NOT NULL",
        ),
        (
            migrations.AddField("appointment", "note2", models.CharField(max_length=9, default="")),
            "db_default",
        ),
        (
            migrations.AddIndex("appointment", models.Index(fields=["status"], name="x_idx")),
            "AddIndexConcurrently",
        ),
        (
            migrations.AddConstraint(
                "appointment", models.UniqueConstraint(fields=["status"], name="x_uniq")
            ),
            "lock",
        ),
        (
            migrations.AlterField("appointment", "status", models.CharField(max_length=40)),
            "rewrite",
        ),
        (migrations.RemoveField("appointment", "status"), "contract"),
        (migrations.RenameField("appointment", "status", "state"), "contract"),
        (migrations.RunSQL("CREATE INDEX x ON appointments_appointment (status)"), "CONCURRENTLY"),
    ],
)
def test_each_kind_of_risk_is_caught(operation, words) -> None:
    found = risks("appointments", migration(operation))
    assert len(found) == 1 and words in found[0].message, found


def test_safe_changes_pass() -> None:
    ok = migration(
        migrations.AddField(
            "appointment",
            "note2",
            models.CharField(max_length=9, blank=True, default="", db_default=""),
        ),
        migrations.AddField("appointment", "seen_at", models.DateTimeField(null=True)),
        AddIndexConcurrently("appointment", models.Index(fields=["status"], name="x_idx")),
        migrations.RunSQL("CREATE INDEX CONCURRENTLY x ON appointments_appointment (status)"),
        atomic=False,
    )
    assert risks("appointments", ok) == []
    assert "atomic" in risks("appointments", migration(ok.operations[2]))[0].message


def test_a_new_tables_own_index_is_fine() -> None:
    new = migration(
        migrations.CreateModel("Thing", [("id", models.BigAutoField(primary_key=True))]),
        migrations.AddIndex("thing", models.Index(fields=["id"], name="thing_idx")),
    )
    assert risks("appointments", new) == []


@pytest.mark.django_db(transaction=True)
def test_the_concurrent_index_is_built_and_dropped_on_this_database() -> None:
    executor = MigrationExecutor(connection)
    state = executor.loader.project_state()
    operation = AddIndexConcurrently(
        "appointment", models.Index(fields=["status", "created_at"], name="safety_probe_idx")
    )
    after = state.clone()
    operation.state_forwards("appointments", after)
    with connection.schema_editor(atomic=False) as editor:
        operation.database_forwards("appointments", editor, state, after)
    with connection.cursor() as cursor:
        names = connection.introspection.get_constraints(cursor, "appointments_appointment")
    assert "safety_probe_idx" in names
    with connection.schema_editor(atomic=False) as editor:
        operation.database_backwards("appointments", editor, after, state)
    with connection.cursor() as cursor:
        names = connection.introspection.get_constraints(cursor, "appointments_appointment")
    assert "safety_probe_idx" not in names
