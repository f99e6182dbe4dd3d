"""Check the operation log's hash chain: an edited, inserted or removed row is reported."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from medbook.audit import broken_links
from medbook.models import OperationLog


class Command(BaseCommand):
    help = "Verify the operation log's hash chain; exits non-zero when it was tampered with."

    def handle(self, *args: Any, **options: Any) -> None:
        rows = OperationLog.objects.order_by("pk").iterator(chunk_size=2000)
        problems = list(broken_links(rows))
        for pk, what in problems[:50]:
            self.stderr.write(f"row {pk}: {what}")
        if problems:
            raise CommandError(f"The operation log was tampered with: {len(problems)} problem(s).")
        self.stdout.write(
            self.style.SUCCESS(
                f"The operation log is intact ({OperationLog.objects.count()} rows)."
            )
        )
