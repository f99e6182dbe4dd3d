"""Re-encrypt every encrypted column to the newest key of FIELD_ENCRYPTION_KEYS.

Put the new key first in FIELD_ENCRYPTION_KEYS and keep the old ones after it; run this (as
often as you like: it only touches values not yet under the newest key, so an interrupted run
just continues); once it reports nothing left, the old keys can be removed. The application
keeps reading every row meanwhile, since all listed keys decrypt.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction

from medbook import crypto
from medbook.fields import EncryptedTextField


def encrypted_columns() -> list[tuple[str, str, str, str]]:
    """(table, primary key column, column, purpose) of every encrypted field, history too."""
    found = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedTextField):
                found.append(
                    (model._meta.db_table, model._meta.pk.column, field.column, field.purpose)
                )
    return sorted(found)


class Command(BaseCommand):
    help = "Re-encrypt stored personal data to the newest encryption key, in batches."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, **options: Any) -> None:
        newest = crypto.keyring().current_id
        quote = connection.ops.quote_name
        total = 0
        for table, pk, column, purpose in encrypted_columns():
            done = 0
            while True:
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute(
                        f"SELECT {quote(pk)}, {quote(column)} FROM {quote(table)} "  # noqa: S608
                        f"WHERE {quote(column)} LIKE %s AND {quote(column)} NOT LIKE %s "
                        f"ORDER BY {quote(pk)} LIMIT %s",
                        [
                            f"{crypto.PREFIX}$%",
                            f"{crypto.PREFIX}${newest}$%",
                            options["batch_size"],
                        ],
                    )
                    rows = cursor.fetchall()
                    for row_pk, token in rows:
                        fresh = crypto.encrypt(
                            crypto.decrypt(token, purpose=purpose), purpose=purpose
                        )
                        # Only if nobody changed the value meanwhile (they wrote the newest key).
                        cursor.execute(
                            f"UPDATE {quote(table)} SET {quote(column)} = %s "  # noqa: S608
                            f"WHERE {quote(pk)} = %s AND {quote(column)} = %s",
                            [fresh, row_pk, token],
                        )
                done += len(rows)
                if len(rows) < options["batch_size"]:
                    break
            if done:
                self.stdout.write(f"{table}.{column}: {done} values re-encrypted")
            total += done
        self.stdout.write(
            self.style.SUCCESS(f"Done: {total} values re-encrypted; all under key {newest!r}.")
        )
