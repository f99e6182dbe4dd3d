"""Rebuild the reports' daily figures from the raw tables for a range of clinic days."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from reports import services
from reports.exceptions import BadRange


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"not a date (YYYY-MM-DD): {value!r}") from exc


class Command(BaseCommand):
    help = (
        "Rebuild the reports' daily figures (rollups) of the clinic days --from..--to "
        "(inclusive) from the raw tables; without them, of every day that has sessions, members' "
        "sign-ups or points."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="start", type=str, help="first day, YYYY-MM-DD")
        parser.add_argument("--to", dest="end", type=str, help="last day, YYYY-MM-DD")

    def handle(self, *args: Any, **options: Any) -> None:
        known = services.raw_date_range()
        start = _date(options["start"]) if options["start"] else (known[0] if known else None)
        end = _date(options["end"]) if options["end"] else (known[1] if known else None)
        if start is None or end is None:
            self.stdout.write("No sessions yet: nothing to rebuild.")
            return
        if end < start:
            raise CommandError(str(BadRange()))
        began = time.monotonic()
        result = services.rebuild_range(start=start, end=end)
        self.stdout.write(
            f"Rebuilt {start}..{end} (a transaction per {services.CHUNK_DAYS} days): "
            f"{result.session_rows} session rows, {result.booking_rows} booking rows, "
            f"{result.revenue_rows} revenue rows, {result.payer_rows} payer rows, "
            f"{result.release_rows} release rows, {result.flow_rows} flow rows, "
            f"{result.member_rows} member rows "
            f"in {time.monotonic() - began:.1f} s."
        )
