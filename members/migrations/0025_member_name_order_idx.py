"""Staff name search by surname at 100k members reads one page of members, not every namesake
(issue 17): an index on UPPER(name) in byte order ("C") and id. A prefix of a name is a range
of it, and the matches come out in its order, so the first page of a surname a thousand
members share is 20 index entries (7 ms -> under 1 ms at 1M; bench/README.md). Built
CONCURRENTLY; PostgreSQL only (the embedded SQLite default scans, as before)."""

from django.db import migrations

from medbook.migration_operations import PostgreSQLOnlySQL


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("members", "0024_consent_accepted_idx"),
    ]

    operations = [
        PostgreSQLOnlySQL(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS member_name_order_idx "
            'ON members_member ((UPPER(name) COLLATE "C"), id)',
            reverse_sql="DROP INDEX CONCURRENTLY IF EXISTS member_name_order_idx",
        ),
    ]
