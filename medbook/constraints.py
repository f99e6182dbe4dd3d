"""Every database constraint's message for users: no constraint's name ever reaches a page.

Django words a violated check constraint as "Constraint “schedule_fee_gte_0” is violated." (in
forms, the admin and ``full_clean``); an ``IntegrityError`` a service did not turn into its
domain error would be a 500 naming it. ``MESSAGES`` holds a message for every constraint of
every model (a test checks none is missing); :func:`install` makes Django's check use it, and
:class:`medbook.refusals.RefusalMiddleware` answers an ``IntegrityError`` of a known constraint
with a 409 page saying it.
"""

from __future__ import annotations

from django.db import IntegrityError
from django.db.models import BaseConstraint
from django.utils.translation import gettext_lazy as _

NOT_NEGATIVE = _("Amounts cannot be negative.")
COUNTED = _("These figures are counted already.")
TIMES = _("The end time must be after the start time.")
SLOTS = _("A session needs at least one slot of at least one minute.")
RATIO = _("The reimbursement ratio must be between 0 and 1.")

MESSAGES = {
    # medbook
    "hooks_one_delivery": _("This event was already sent to this subscriber."),
    "hooks_attempt_number": _("This delivery attempt is recorded already."),
    # members
    "memberlevel_discount_rate_0_1": _("The price factor must be between 0 and 1."),
    "memberlevel_points_multiplier_gte_0": _("The points multiplier cannot be negative."),
    "member_phone_unique": _("This mobile number is already registered."),
    "member_national_id_unique": _("This ID number is already registered."),
    "member_points_balance_gte_0": _("The points balance cannot go below zero."),
    "patient_id_number_unique": _("A patient with this ID number exists already."),
    "patient_one_self": _("An account has only one patient who is the account holder."),
    "pointsentry_delta_not_zero": _("A points entry must add or take away points."),
    "pointsentry_balance_after_gte_0": _("The points balance cannot go below zero."),
    "agreement_kind_version": _("This version of the document exists already."),
    "consent_user_agreement": _("This agreement was accepted already."),
    # appointments
    "doctor_fee_gte_0": NOT_NEGATIVE,
    "scheduletemplate_unique_session": _(
        "This doctor already has a weekly session on this day and half of the day."
    ),
    "scheduletemplate_end_after_start": TIMES,
    "scheduletemplate_capacity": SLOTS,
    "scheduletemplate_minutes_per_visit": SLOTS,
    "schedule_booked_gte_0": _("The number of booked slots cannot be negative."),
    "schedule_booked_lte_capacity": _("The session cannot have fewer slots than are booked."),
    "schedule_booked_offered_lte_capacity": _(
        "The session cannot have fewer slots than are booked and held for the waitlist."
    ),
    "schedule_capacity_gte_1": SLOTS,
    "schedule_end_after_start": TIMES,
    "schedule_minutes_per_visit_gte_1": SLOTS,
    "schedule_fee_gte_0": NOT_NEGATIVE,
    "schedule_unique_doctor_start": _("This doctor already has a session starting then."),
    "appointment_queue_gte_1": _("Queue numbers start at 1."),
    "appointment_fee_gte_0": NOT_NEGATIVE,
    "appointment_one_active_per_patient_schedule": _(
        "This patient already has an appointment in this session."
    ),
    "appointment_unique_active_queue_number": _("This queue number was just taken."),
    "titlefee_fee_gte_0": NOT_NEGATIVE,
    "releaserule_days_gte_1": _("Sessions open at least one day ahead."),
    "releasedemand_unique_period": COUNTED,
    "releasereminder_one_waiting": _("You already have a reminder for this session."),
    "releasereminder_closed_has_time": _("A closed reminder needs the time it closed."),
    "reschedule_sequence_gte_1": _("Reschedules are counted from 1."),
    "reschedule_moves_somewhere": _("A reschedule must move to another session."),
    "reschedule_once_from": _("This appointment has been moved already."),
    "waitlist_one_open_per_patient_schedule": _(
        "This patient is on the waitlist for this session already."
    ),
    "waitlist_dates_in_order": _("The last day cannot be before the first day."),
    "waitlist_offer_has_slot": _("An offer from the waitlist needs a session and a deadline."),
    # billing
    "order_amounts_gte_0": NOT_NEGATIVE,
    "order_discount_rate_0_1": _("The price factor must be between 0 and 1."),
    "order_refunds_within_amount": _("Refunds cannot exceed what was paid."),
    "order_closed_never_paid": _("A closed order cannot be paid."),
    "order_paid_has_paid_at": _("A paid order needs the time it was paid."),
    "refund_amount_gt_0": _("A refund must be more than zero."),
    "settlement_day_gateway": _("This day is settled already for this payment channel."),
    "settlementline_doctor": COUNTED,
    "bookingkey_member_key": _("This booking request was received already."),
    "insurancecard_number_unique": _("This insurance card is registered already."),
    "insuranceplan_ratio_0_1": RATIO,
    "insuranceplan_personal_0_1": _("The personal account's share must be between 0 and 1."),
    "insuranceplan_amounts_gte_0": NOT_NEGATIVE,
    "insuranceratio_0_1": RATIO,
    "insuranceratio_level_or_department": _(
        "A reimbursement rule needs a member level, a department or both."
    ),
    "insuranceratio_unique": _("This plan has a rule for this level and department already."),
    "insuranceusage_gte_0": NOT_NEGATIVE,
    "insuranceusage_patient_year": COUNTED,
    "insuranceclaim_parts_add_up": _(
        "The parts of an insurance settlement must add up to the charge."
    ),
    "insuranceclaim_parts_gte_0": NOT_NEGATIVE,
    "insuranceclaim_reversals_within_parts": _(
        "What is given back cannot exceed what the insurance settled."
    ),
    "insurancesettlement_day_insurer": _("This day is settled already for this insurer."),
    # reports
    "dailysessionstat_unique_grain": COUNTED,
    "dailybookingstat_unique_grain": COUNTED,
    "dailyrevenuestat_unique_grain": COUNTED,
    "dailypayerstat_unique_grain": COUNTED,
    "dailyreleasestat_unique_grain": COUNTED,
    "dailyflowstat_unique_grain": COUNTED,
    "export_progress_lte_100": _("Progress cannot pass 100%."),
    "export_one_active_per_request": _("The same export is being prepared already."),
    "dailymemberstat_unique_grain": COUNTED,
    "dailylevelchange_unique_grain": COUNTED,
    "dailypointsstat_unique_grain": COUNTED,
    "dailyactivemember_unique_grain": COUNTED,
}


def constraint_of(error: IntegrityError) -> str | None:
    """The name of the constraint ``error`` is about, if it is one of ``MESSAGES``."""
    name = getattr(getattr(error.__cause__, "diag", None), "constraint_name", None)
    if name in MESSAGES:
        return name
    text = str(error)
    return next((name for name in MESSAGES if name in text), None)


def message_for(error: IntegrityError) -> str | None:
    name = constraint_of(error)
    return str(MESSAGES[name]) if name else None


def install() -> None:
    """Django's check of a constraint (forms, admin, ``full_clean``) says ``MESSAGES``' words
    instead of the constraint's name, unless the constraint has its own message. Set on the
    class, not on each constraint, so migrations do not change."""
    default = BaseConstraint.get_violation_error_message

    def get_violation_error_message(self: BaseConstraint) -> str:
        own = self.violation_error_message != self.default_violation_error_message
        if not own and self.name in MESSAGES:
            return str(MESSAGES[self.name])
        return default(self)

    BaseConstraint.get_violation_error_message = get_violation_error_message
