"""Writes of the appointments app: the booking core, scheduling and release, the clinic day,
the clinic's setup from the staff console."""

from .booking import (
    book_appointment,
    cancel_appointment,
    check_in_appointment,
    complete_appointment,
    confirm_appointment,
    finish_past_schedules,
    update_schedule,
)
from .clinic_day import (
    apply_no_show_rule,
    call_next,
    check_in_patient,
    mark_no_show,
    may_run_queue,
    sweep_no_shows,
)
from .release_demand import backfill_sold_out_at, copy_release_demand
from .reminders import send_visit_reminders
from .scheduling import Generated, earliest_lead, generate_schedules, release_due_schedules
from .setup import (
    add_department,
    add_doctor,
    add_holiday,
    add_schedule_template,
    build_sessions,
    change_doctor,
    change_release_rule,
    change_schedule,
    deactivate_schedule_template,
    release_now,
    remove_holiday,
    set_title_fee,
)

__all__ = [
    "Generated",
    "add_department",
    "add_doctor",
    "add_holiday",
    "add_schedule_template",
    "apply_no_show_rule",
    "backfill_sold_out_at",
    "book_appointment",
    "build_sessions",
    "call_next",
    "cancel_appointment",
    "change_doctor",
    "change_release_rule",
    "change_schedule",
    "check_in_appointment",
    "check_in_patient",
    "complete_appointment",
    "confirm_appointment",
    "copy_release_demand",
    "deactivate_schedule_template",
    "earliest_lead",
    "finish_past_schedules",
    "generate_schedules",
    "mark_no_show",
    "may_run_queue",
    "release_due_schedules",
    "release_now",
    "remove_holiday",
    "send_visit_reminders",
    "set_title_fee",
    "sweep_no_shows",
    "update_schedule",
]
