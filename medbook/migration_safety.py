"""What in a migration would lock a big table in production (the expand/contract rule, README
"Zero-downtime changes"). ``tests/test_migration_safety.py`` runs :func:`risks` on every
migration newer than the ones already released (``RELEASED``), so CI stops a risky one.

A migration is risky when, on a table that already exists:
- it adds a NOT NULL column without a database default (``db_default``): the release still
  running inserts rows without the column, which fail (Django's ``default`` is Python's only);
- it adds an index or a unique constraint to a big table without ``CONCURRENTLY``
  (``medbook.migration_operations.AddIndexConcurrently``, in a migration with ``atomic = False``);
- it changes a column of a big table (``AlterField``: a type change rewrites the table);
- it removes or renames a column or a table (old code still running during the rollout
  reads it: contract only in the release after the one that stopped using it);
- its SQL creates an index without ``CONCURRENTLY``.
An operation judged and found safe is listed in ``ACCEPTED`` with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import migrations
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.migration import Migration
from django.db.models import NOT_PROVIDED

from .migration_operations import (
    AddConstraintConcurrently,
    AddIndexConcurrently,
    RemoveIndexConcurrently,
)

APPS = ("members", "appointments", "billing", "reports", "medbook")

# The last migration of each app that is already released (grandfathered: written before this
# check, run on production databases as they were then). Move it forward at each release.
RELEASED = {
    "members": 12,
    "appointments": 6,
    "billing": 9,
    "reports": 6,
    "medbook": 6,
}

# Tables that grow with the clinic's use (bookings, members, money, logs, their history).
BIG = {
    "members.member",
    "members.historicalmember",
    "members.pointsentry",
    "members.message",
    "members.user",
    "appointments.appointment",
    "appointments.historicalappointment",
    "appointments.schedule",
    "appointments.historicalschedule",
    "appointments.releasedemand",
    "billing.order",
    "billing.historicalorder",
    "billing.refund",
    "billing.historicalrefund",
    "billing.gatewaynotification",
    "billing.sandboxtrade",
    "medbook.operationlog",
    "medbook.outboxtask",
    "reports.dailysessionstat",
    "reports.dailybookingstat",
    "reports.dailyrevenuestat",
    "reports.dailypayerstat",
    "reports.dailyreleasestat",
    "reports.dailyflowstat",
    "reports.dailymemberstat",
    "reports.dailyactivemember",
}

# (app, migration name, operation index) -> why it is safe.
ACCEPTED: dict[tuple[str, str, int], str] = {
    ("members", "0015_resched_message_kind", 0): "a new choice of Message.kind: no SQL at all",
    ("members", "0019_waitlist_message_kind", 0): "a new choice of Message.kind: no SQL at all",
    ("appointments", "0013_waitlist", 3): (
        "booked <= capacity - offered, on the column added just before with database default 0: "
        "the check reads the sessions table once (about 100k rows at a million appointments)"
    ),
}

_CREATE_INDEX = re.compile(r"\bCREATE\s+(UNIQUE\s+)?INDEX\b(?!\s+CONCURRENTLY)", re.IGNORECASE)


@dataclass(frozen=True)
class Risk:
    app: str
    migration: str
    index: int
    message: str

    def __str__(self) -> str:
        return f"{self.app}.{self.migration} operation {self.index}: {self.message}"


def risks(app: str, migration: Migration) -> list[Risk]:
    """Each operation of ``migration`` that would lock or break a table in use."""
    found: list[Risk] = []
    created = {
        op.name.lower() for op in migration.operations if isinstance(op, migrations.CreateModel)
    }

    def flag(index: int, message: str) -> None:
        if (app, migration.name, index) not in ACCEPTED:
            found.append(Risk(app, migration.name, index, message))

    for index, op in enumerate(migration.operations):
        model = getattr(op, "model_name", None) or getattr(op, "name", "")
        label = f"{app}.{str(model).lower()}"
        new_table = str(model).lower() in created
        if isinstance(op, migrations.AddField) and not new_table:
            field = op.field
            if not field.null and field.db_default is NOT_PROVIDED:
                flag(
                    index,
                    f"adds NOT NULL {model}.{op.name} with no database default: the release "
                    "still running inserts rows without it (give it db_default)",
                )
        elif isinstance(
            op, (AddIndexConcurrently, RemoveIndexConcurrently, AddConstraintConcurrently)
        ):
            if migration.atomic:
                flag(index, "a concurrent index needs a migration with atomic = False")
        elif isinstance(op, migrations.AddIndex) and label in BIG and not new_table:
            flag(index, f"indexes big table {label} under a lock: use AddIndexConcurrently")
        elif isinstance(op, migrations.AddConstraint) and label in BIG and not new_table:
            flag(index, f"constraint on big table {label} builds under a lock")
        elif isinstance(op, migrations.AlterField) and label in BIG:
            flag(index, f"alters {model}.{op.name} of big table {label} (may rewrite it)")
        elif isinstance(
            op,
            (
                migrations.RemoveField,
                migrations.DeleteModel,
                migrations.RenameField,
                migrations.RenameModel,
            ),
        ):
            flag(index, "removes or renames what the running release still reads (contract later)")
        elif isinstance(op, migrations.RunSQL):
            sql = op.sql if isinstance(op.sql, str) else " ".join(map(str, op.sql))
            if _CREATE_INDEX.search(sql):
                flag(index, "SQL creates an index without CONCURRENTLY")
    return found


def unreleased_migrations() -> list[tuple[str, Migration]]:
    """Every migration of MedBook's apps newer than ``RELEASED``, from the files on disk."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    newer = []
    for (app, name), migration in sorted(loader.disk_migrations.items()):
        number = re.match(r"(\d+)_", name)
        if app in APPS and number and int(number.group(1)) > RELEASED[app]:
            newer.append((app, migration))
    return newer
