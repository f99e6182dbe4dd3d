"""On PostgreSQL, the points ledger refuses UPDATE and DELETE (invariant 4: append-only)."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION medbook_forbid_ledger_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'members_pointsentry is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER members_pointsentry_append_only
    BEFORE UPDATE OR DELETE ON members_pointsentry
    FOR EACH ROW EXECUTE FUNCTION medbook_forbid_ledger_change();
"""
DROP = """
DROP TRIGGER IF EXISTS members_pointsentry_append_only ON members_pointsentry;
DROP FUNCTION IF EXISTS medbook_forbid_ledger_change();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("members", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
