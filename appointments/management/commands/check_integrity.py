"""Verify the design's invariants on the live database and report any drift.

Schedule counters against their active appointments (invariant 1) and their slots held for
the waitlist against its open offers, queue numbers within
1..capacity (invariant 3; uniqueness and one-per-patient are database constraints), every
appointment's patient one of its member's, and every
member's points balance against the sum of their ledger (invariant 4), and every member's
level against the level rule (or a level recorded as set by staff). Exits non-zero when
anything is off, so it can run from cron or a monitoring job.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from appointments.selectors import (
    appointments_with_foreign_patient,
    queue_numbers_out_of_range,
    schedules_with_counter_drift,
    schedules_with_offer_drift,
)
from members.models import MemberLevel
from members.selectors import members_with_ledger_drift, members_with_level_drift

SHOWN = 20


class Command(BaseCommand):
    help = (
        "Check booking counters, queue numbers, points ledgers and member levels; fail on any "
        "drift."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        problems = 0
        for schedule in schedules_with_counter_drift()[:SHOWN]:
            problems += 1
            self.stdout.write(
                f"schedule {schedule.pk}: booked={schedule.booked} "
                f"but {schedule.active} active appointments"
            )
        for schedule in schedules_with_offer_drift()[:SHOWN]:
            problems += 1
            self.stdout.write(
                f"schedule {schedule.pk}: offered={schedule.offered} "
                f"but {schedule.open_offers} open waitlist offers"
            )
        for appointment in queue_numbers_out_of_range().select_related("schedule")[:SHOWN]:
            problems += 1
            self.stdout.write(
                f"appointment {appointment.pk}: queue number {appointment.queue_number} outside "
                f"1..{appointment.schedule.capacity}"
            )
        for appointment in appointments_with_foreign_patient()[:SHOWN]:
            problems += 1
            self.stdout.write(
                f"appointment {appointment.pk}: patient {appointment.patient_id} is not one of "
                f"member {appointment.member_id}'s patients"
            )
        for member in members_with_ledger_drift()[:SHOWN]:
            problems += 1
            self.stdout.write(
                f"member {member.pk}: balance {member.points_balance} "
                f"but ledger sums to {member.ledger_total}"
            )
        names = dict(MemberLevel.objects.values_list("pk", "name"))
        for member in members_with_level_drift()[:SHOWN]:
            problems += 1
            granted = (
                f" (set by staff: {names.get(member.level_grant_id)})"
                if member.level_grant_id
                else ""
            )
            self.stdout.write(
                f"member {member.pk}: level {member.level.name}{granted} but the level rule "
                f"gives {names.get(member.rule_level_id)} for {member.qualifying} points"
            )
        if problems:
            raise CommandError(f"{problems} integrity problem(s) found (at most {SHOWN} per kind).")
        self.stdout.write(
            self.style.SUCCESS("Counters, queue numbers, patients, ledgers and levels all agree.")
        )
