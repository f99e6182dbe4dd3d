"""Migration operations for changes to tables that are big in production.

``AddIndexConcurrently`` / ``RemoveIndexConcurrently``: on PostgreSQL ``CREATE INDEX
CONCURRENTLY`` (writes go on while the index builds; the migration needs ``atomic = False``),
elsewhere (SQLite, the embedded default) a plain index. Django's own operations of these names
refuse any database but PostgreSQL. ``tests/test_migration_safety.py`` asks for them on the big
tables (medbook.migration_safety).
"""

from __future__ import annotations

from django.contrib.postgres import operations as postgres
from django.db.migrations.operations import AddConstraint, AddIndex, RemoveIndex, RunSQL


class AddIndexConcurrently(postgres.AddIndexConcurrently):
    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        else:
            AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        else:
            AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


class RemoveIndexConcurrently(postgres.RemoveIndexConcurrently):
    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        else:
            RemoveIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        else:
            RemoveIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


class AddConstraintConcurrently(AddConstraint):
    """A unique constraint with a condition (a partial unique index) built without locking
    writes: on PostgreSQL ``CREATE UNIQUE INDEX CONCURRENTLY`` (``atomic = False``), elsewhere
    as Django builds it. Only such constraints: they are indexes in PostgreSQL."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        model = to_state.apps.get_model(app_label, self.model_name)
        if schema_editor.connection.vendor != "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return None
        if self.constraint.condition is None:
            raise ValueError("AddConstraintConcurrently builds partial unique constraints only")
        sql = str(self.constraint.create_sql(model, schema_editor))
        sql = sql.replace("CREATE UNIQUE INDEX", "CREATE UNIQUE INDEX CONCURRENTLY", 1)
        schema_editor.execute(sql, params=None)
        return None


class PostgreSQLOnlySQL(RunSQL):
    """Raw SQL run on PostgreSQL only (an extension, an index of an operator class SQLite does not
    know, such as pg_trgm's ``gin_trgm_ops``); elsewhere nothing. Write big-table indexes with
    ``CONCURRENTLY`` in a migration with ``atomic = False`` (medbook.migration_safety checks)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
