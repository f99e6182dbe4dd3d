"""On PostgreSQL, visit records and their versions refuse UPDATE and DELETE: a correction is a
new version (records.services.amend_record), never an edit."""

from django.db import migrations

TABLES = ["records_visitrecord", "records_recordversion"]

CREATE = """
CREATE OR REPLACE FUNCTION medbook_forbid_record_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
""" + "".join(
    f"""
CREATE TRIGGER {table}_append_only
    BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION medbook_forbid_record_change();
"""
    for table in TABLES
)
DROP = (
    "".join(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};\n" for table in TABLES)
    + "DROP FUNCTION IF EXISTS medbook_forbid_record_change();\n"
)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("records", "0001_visit_records")]

    operations = [migrations.RunPython(forwards, backwards)]
