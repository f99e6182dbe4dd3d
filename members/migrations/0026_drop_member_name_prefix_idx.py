"""The prefix index on UPPER(name) (members 0016) is covered by member_name_order_idx (0025):
name_matches looks a surname up as a range of UPPER(name) COLLATE "C", which the order index
holds in byte order as well. Two indexes that answer the same look-up cost every member write
twice and leave the planner a coin toss between them. Dropped CONCURRENTLY; PostgreSQL only;
reversible (the index is built again)."""

from django.db import migrations

from medbook.migration_operations import PostgreSQLOnlySQL


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("members", "0025_member_name_order_idx"),
    ]

    operations = [
        PostgreSQLOnlySQL(
            "DROP INDEX CONCURRENTLY IF EXISTS member_name_prefix_idx",
            reverse_sql=(
                "CREATE INDEX CONCURRENTLY IF NOT EXISTS member_name_prefix_idx "
                "ON members_member (UPPER(name) text_pattern_ops)"
            ),
        ),
    ]
