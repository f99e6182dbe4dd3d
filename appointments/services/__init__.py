"""Writes of the appointments app: the booking core, scheduling and release, the clinic day."""

from .booking import (
    book_appointment,
    cancel_appointment,
    check_in_appointment,
    complete_appointment,
    confirm_appointment,
    finish_past_schedules,
    update_schedule,
)
from .clinic_day import apply_no_show_rule, call_next, mark_no_show, may_run_queue, sweep_no_shows
from .reminders import send_visit_reminders
from .scheduling import Generated, earliest_lead, generate_schedules, release_due_schedules

__all__ = [
    "Generated",
    "apply_no_show_rule",
    "book_appointment",
    "call_next",
    "cancel_appointment",
    "check_in_appointment",
    "complete_appointment",
    "confirm_appointment",
    "earliest_lead",
    "finish_past_schedules",
    "generate_schedules",
    "mark_no_show",
    "may_run_queue",
    "release_due_schedules",
    "send_visit_reminders",
    "sweep_no_shows",
    "update_schedule",
]
