"""Staff name search at 100k members without reading every member (issue 17): pg_trgm and two
indexes on UPPER(name) — the expression of Django's case-insensitive look-ups —, a trigram GIN
index for a part of a name anywhere (three characters or more) and a prefix index for the
beginning of a name (members.selectors.name_matches). Built CONCURRENTLY; PostgreSQL only (the
embedded SQLite default searches by scanning, as before)."""

from django.db import migrations

from medbook.migration_operations import PostgreSQLOnlySQL


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("members", "0015_resched_message_kind"),
    ]

    operations = [
        PostgreSQLOnlySQL(
            "CREATE EXTENSION IF NOT EXISTS pg_trgm",
            # Left in place: other databases' objects may use it, and it holds no data.
            reverse_sql=migrations.RunSQL.noop,
        ),
        PostgreSQLOnlySQL(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS member_name_trgm_idx "
            "ON members_member USING gin (UPPER(name) gin_trgm_ops)",
            reverse_sql="DROP INDEX CONCURRENTLY IF EXISTS member_name_trgm_idx",
        ),
        PostgreSQLOnlySQL(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS member_name_prefix_idx "
            "ON members_member (UPPER(name) text_pattern_ops)",
            reverse_sql="DROP INDEX CONCURRENTLY IF EXISTS member_name_prefix_idx",
        ),
    ]
