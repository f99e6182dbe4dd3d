"""Remove operation-log rows older than the retention (at least 180 days, never less)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from medbook.models import OperationLog

MINIMUM_DAYS = 180


class Command(BaseCommand):
    help = "Delete operation-log rows older than --days (180 or more)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, required=True, help="keep this many days (≥180)")

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["days"]
        if days < MINIMUM_DAYS:
            raise CommandError(
                f"The operation log is kept at least {MINIMUM_DAYS} days; refusing --days {days}."
            )
        cutoff = timezone.now() - dt.timedelta(days=days)
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL medbook.audit_purge = 'on'")
            deleted, _ = OperationLog.objects.filter(created_at__lt=cutoff).delete()
        self.stdout.write(f"Removed {deleted} rows older than {cutoff:%Y-%m-%d}.")
