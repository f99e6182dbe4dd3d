"""List money that went astray: payments taken without an appointment or a refund, refunds not
carried out, refunds MedBook counts that the gateway does not. Exits non-zero if any."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from billing.reconciliation import payment_problems


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser) -> None:
        parser.add_argument("--days", type=int, default=7, help="how far back to look (days)")
        parser.add_argument(
            "--stuck-minutes",
            type=int,
            default=15,
            help="a refund still requested after this long counts as stuck",
        )

    def handle(self, *args, days: int, stuck_minutes: int, **options) -> None:
        if days < 1 or stuck_minutes < 0:
            raise CommandError("--days must be at least 1 and --stuck-minutes not negative")
        now = timezone.now()
        problems = payment_problems(
            since=now - dt.timedelta(days=days),
            now=now,
            stuck_after=dt.timedelta(minutes=stuck_minutes),
        )
        for problem in problems:
            self.stdout.write(str(problem))
        if problems:
            raise CommandError(f"{len(problems)} payment problems found")
        self.stdout.write(f"No payment problems in the last {days} days.")
