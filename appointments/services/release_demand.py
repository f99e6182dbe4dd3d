"""What a release (放号) leaves behind for the reports: when each session first sold out, and
how many booking attempts the release gate refused as sold out.

``Schedule.sold_out_at`` is written by the booking that takes the last slot, in its own UPDATE
(appointments.services.booking); :func:`backfill_sold_out_at` derives it from the
appointments for sessions booked before that (the migration that added it, the demo seed).
The gate counts its refusals in Redis (appointments.gate); :func:`copy_release_demand` (a
periodic job) copies the counts into ``ReleaseDemand``.
"""

from __future__ import annotations

import datetime as dt

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from .. import gate
from ..models import Schedule

# The moment the capacity-th slot was first held, from the appointments: each one holds a slot
# from its created_at until its cancelled_at (when cancelled); the running count of slots held,
# in time order (a slot freed at the same instant as one is taken counts as freed first), first
# reaches the capacity at sold_out_at. An approximation where the appointments cannot tell:
# the capacity is the session's capacity now (an edit of it is not in the appointments), and a
# cancelled appointment without cancelled_at is taken as never having held its slot.
BACKFILL_SQL = """
WITH events AS (
    SELECT schedule_id, created_at AS at, 1 AS delta
    FROM appointments_appointment
    WHERE status <> 'cancelled' OR cancelled_at IS NOT NULL
    UNION ALL
    SELECT schedule_id, cancelled_at AS at, -1 AS delta
    FROM appointments_appointment
    WHERE status = 'cancelled' AND cancelled_at IS NOT NULL
),
running AS (
    SELECT schedule_id, at,
           SUM(delta) OVER (
               PARTITION BY schedule_id ORDER BY at, delta ROWS UNBOUNDED PRECEDING
           ) AS held
    FROM events
),
first_full AS (
    SELECT r.schedule_id, MIN(r.at) AS at
    FROM running r JOIN appointments_schedule s ON s.id = r.schedule_id
    WHERE r.held >= s.capacity
    GROUP BY r.schedule_id
)
UPDATE appointments_schedule SET sold_out_at = first_full.at
FROM first_full
WHERE appointments_schedule.id = first_full.schedule_id
  AND appointments_schedule.sold_out_at IS NULL
"""


def backfill_sold_out_at(*, using: str = DEFAULT_DB_ALIAS) -> int:
    """Set ``sold_out_at`` of the sessions that have none from their appointments (see
    BACKFILL_SQL); sessions that never filled up keep none. Returns how many were set."""
    sold_out = Schedule.objects.using(using).filter(sold_out_at__isnull=False)
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        before = sold_out.count()
        cursor.execute(BACKFILL_SQL)  # (SQLite gives no row count for an UPDATE … FROM)
        return sold_out.count() - before


UPSERT_SQL = {
    "postgresql": (
        "INSERT INTO appointments_releasedemand (schedule_id, counted_from, refused, copied_at) "
        "VALUES (%s, %s, %s, %s) ON CONFLICT (schedule_id, counted_from) DO UPDATE SET "
        "refused = GREATEST(appointments_releasedemand.refused, EXCLUDED.refused), "
        "copied_at = EXCLUDED.copied_at"
    ),
    "sqlite": (
        "INSERT INTO appointments_releasedemand (schedule_id, counted_from, refused, copied_at) "
        "VALUES (%s, %s, %s, %s) ON CONFLICT (schedule_id, counted_from) DO UPDATE SET "
        "refused = MAX(appointments_releasedemand.refused, excluded.refused), "
        "copied_at = excluded.copied_at"
    ),
}


def copy_release_demand(*, now: dt.datetime | None = None) -> int:
    """Copy the gate's refusal counts into ``ReleaseDemand``: each count as it stands now, the
    row keeping the larger of what it had and the copy (a count only grows while Redis keeps
    it), so running twice, or two copies at once, never adds a refusal twice; a count Redis
    lost and started again is a new period, a new row. Counts of sessions that no longer
    exist are dropped. Returns the number of counts copied."""
    now = now or timezone.now()
    counts = gate.refusal_counts()
    if not counts:
        return 0
    known = set(
        Schedule.objects.filter(pk__in={count.schedule_id for count in counts}).values_list(
            "pk", flat=True
        )
    )
    rows = [
        (count.schedule_id, count.counted_from, count.refused, now)
        for count in counts
        if count.schedule_id in known
    ]
    connection = connections[DEFAULT_DB_ALIAS]
    sql = UPSERT_SQL[connection.vendor]
    with transaction.atomic(), connection.cursor() as cursor:
        for schedule_id, counted_from, refused, copied_at in rows:
            cursor.execute(
                sql,
                [
                    schedule_id,
                    connection.ops.adapt_datetimefield_value(counted_from),
                    refused,
                    connection.ops.adapt_datetimefield_value(copied_at),
                ],
            )
    return len(rows)
