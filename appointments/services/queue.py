"""Writes of the doctor's queue: 叫号 (call next), 重呼 (call again), 过号 (skip).

Each takes the session's row lock first (``SELECT … FOR UPDATE`` on the schedule) and then its
checked-in patients' rows, so one session's queue changes one click at a time in whatever
process: two "call next" clicks from two tabs call two different patients, never one twice."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from members.models import User

from .. import exceptions as errors
from .. import selectors
from ..models import Appointment, Schedule


def _lock_queue(*, schedule_id: int, by: User) -> Schedule:
    schedule = Schedule.objects.select_for_update().get(pk=schedule_id)
    if not selectors.may_run_queue(user=by, schedule=schedule):
        raise errors.NotAllowed()
    return schedule


def _checked_in(schedule_id: int) -> list[Appointment]:
    return list(selectors.waiting_in_order(schedule_id).select_for_update())


def call_next(
    *, schedule: Schedule, by: User, now: dt.datetime | None = None
) -> Appointment | None:
    """叫号: call the first waiting patient (None if nobody waits). Calls are taken one after
    another under the session's lock, so two pressed at once call two different patients."""
    now = now or timezone.now()
    with transaction.atomic():
        _lock_queue(schedule_id=schedule.pk, by=by)
        patients = _checked_in(schedule.pk)
        waiting = next((a for a in patients if a.called_at is None), None)
        if waiting is None:
            return None
        waiting.called_at = now
        waiting.call_count += 1
        waiting.queue_rank = None
        waiting.save(update_fields=["called_at", "call_count", "queue_rank"])
    return waiting


def _called(*, appointment: Appointment, by: User) -> tuple[Appointment, list[Appointment]]:
    """Lock the queue of ``appointment``'s session; the appointment as it is now (it must be
    called and still checked in) and the session's checked-in patients in queue order."""
    _lock_queue(schedule_id=appointment.schedule_id, by=by)
    patients = _checked_in(appointment.schedule_id)
    current = next((a for a in patients if a.pk == appointment.pk), None)
    if current is None or current.called_at is None:
        raise errors.NotBeingCalled(appointment.queue_number)
    return current, patients


def recall_patient(
    *, appointment: Appointment, by: User, now: dt.datetime | None = None
) -> Appointment:
    """重呼: call the patient being called once more (the screens say it again); counted."""
    now = now or timezone.now()
    with transaction.atomic():
        current, _patients = _called(appointment=appointment, by=by)
        current.called_at = now
        current.call_count += 1
        current.save(update_fields=["called_at", "call_count"])
    return current


def skip_patient(
    *, appointment: Appointment, by: User, now: dt.datetime | None = None
) -> Appointment:
    """过号: the patient called did not come in; they go back into the queue after the next
    MEDBOOK_QUEUE_SKIP_BACK waiting patients (last, when fewer wait) and are called again when
    their turn comes. Returns the appointment with ``queue_place`` (1 = next)."""
    with transaction.atomic():
        current, patients = _called(appointment=appointment, by=by)
        waiting = [a for a in patients if a.called_at is None]
        place = min(max(settings.MEDBOOK_QUEUE_SKIP_BACK, 0), len(waiting))
        order = [*waiting[:place], current, *waiting[place:]]
        for rank, patient in enumerate(order, start=1):
            if patient is not current and patient.queue_rank != rank:
                Appointment.objects.filter(pk=patient.pk).update(queue_rank=rank)
        current.called_at = None
        current.skip_count += 1
        current.queue_rank = place + 1
        current.save(update_fields=["called_at", "skip_count", "queue_rank"])
    current.queue_place = place + 1
    return current
