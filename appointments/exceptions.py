"""Domain errors of booking and cancelling, with messages written for members and staff."""

from __future__ import annotations

import datetime as dt

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from medbook.errors import DomainError


def _when(moment: dt.datetime) -> str:
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


class AppointmentError(DomainError):
    """Refusals of booking, cancelling and running the clinic day."""

    code = "appointment_error"


class SoldOut(AppointmentError):
    code = "sold_out"

    def __init__(self) -> None:
        super().__init__(_("This session is fully booked. Please choose another time."))


class SoldOutHint(SoldOut):
    """Sold out, as the cached hint says: no unpaid hold of the session has expired yet."""


class SlotFull(AppointmentError):
    """The chosen time slot (分时段) has no place left; other slots of the session may."""

    code = "slot_full"

    def __init__(self) -> None:
        super().__init__(_("This time slot is full. Please choose another one."))


class NoSuchSlot(AppointmentError):
    """The chosen time slot is not one of the session's (or the session is not split)."""

    code = "no_such_slot"
    status = 400

    def __init__(self) -> None:
        super().__init__(_("Please choose one of the session's time slots."), field="slot")


class NotYetOpen(AppointmentError):
    code = "not_yet_open"

    def __init__(self, opens_at: dt.datetime) -> None:
        self.opens_at = opens_at
        super().__init__(
            _("Booking for this session opens at %(time)s.") % {"time": _when(opens_at)}
        )


class AlreadyBooked(AppointmentError):
    code = "already_booked"

    def __init__(self) -> None:
        super().__init__(_("You already have an appointment for this session."))


class TierLimitReached(AppointmentError):
    code = "tier_limit"

    def __init__(self, limit: int, level_name: str) -> None:
        self.limit = limit
        super().__init__(
            _(
                "As a %(level)s member you can hold %(limit)d upcoming appointments at a time. "
                "Cancel or attend one before booking another."
            )
            % {"level": level_name, "limit": limit}
        )


class MemberBanned(AppointmentError):
    code = "banned"

    def __init__(self, until: dt.datetime) -> None:
        self.until = until
        super().__init__(
            _("Booking is paused for your account until %(time)s because of missed appointments.")
            % {"time": _when(until)}
        )


class ScheduleSuspended(AppointmentError):
    code = "suspended"

    def __init__(self) -> None:
        super().__init__(_("The doctor has cancelled this session. It cannot be booked."))


class ScheduleUnavailable(AppointmentError):
    code = "unavailable"

    def __init__(self) -> None:
        super().__init__(_("This session is not open for booking."))


class ScheduleInPast(AppointmentError):
    code = "past"

    def __init__(self) -> None:
        super().__init__(
            _("This session has already started or ended and can no longer be booked.")
        )


class CancellationClosed(AppointmentError):
    code = "cancellation_closed"

    def __init__(self, cutoff_hours: int) -> None:
        super().__init__(
            _(
                "Appointments can be cancelled online until %(hours)d hours before the session. "
                "Late cancellation is a privilege of higher membership levels; please call the "
                "clinic."
            )
            % {"hours": cutoff_hours}
        )


class LateBookingUnconfirmed(AppointmentError):
    """Booking inside the cancellation cutoff without saying one knows it can't be undone."""

    status = 400
    code = "late_booking_unconfirmed"

    def __init__(self, cutoff_hours: int) -> None:
        super().__init__(
            _(
                "This session starts within %(hours)d hours: once booked, it cannot be cancelled "
                "online. Please tick the box to confirm."
            )
            % {"hours": cutoff_hours}
        )


class NotCancellable(AppointmentError):
    code = "not_cancellable"

    def __init__(self, status_label: str) -> None:
        super().__init__(
            _("This appointment is %(status)s and can no longer be cancelled.")
            % {"status": status_label}
        )


class NotAllowed(AppointmentError):
    status = 403
    code = "not_allowed"

    def __init__(self) -> None:
        super().__init__(_("You may not change this appointment."))


class SessionStarted(AppointmentError):
    code = "started"

    def __init__(self) -> None:
        super().__init__(
            _(
                "This session has already started; the appointment can no longer be cancelled "
                "online."
            )
        )


class NotConfirmable(AppointmentError):
    code = "not_confirmable"

    def __init__(self, status_label: str) -> None:
        super().__init__(
            _("This appointment is %(status)s and can no longer be confirmed.")
            % {"status": status_label}
        )


class IllegalTransition(AppointmentError):
    code = "illegal_transition"

    def __init__(self, status_label: str, action: str) -> None:
        super().__init__(
            _("This appointment is %(status)s; it cannot be %(action)s.")
            % {"status": status_label, "action": action}
        )


class OneVisitPerDepartmentDay(AppointmentError):
    code = "one_per_department_day"

    def __init__(self) -> None:
        super().__init__(
            _(
                "You already have an appointment in this department on that day. One visit per "
                "department a day is allowed, so that everyone gets a chance."
            )
        )


class ExtraNumbersNotAllowed(AppointmentError):
    code = "extra_numbers_not_allowed"

    def __init__(self) -> None:
        super().__init__(_("This doctor does not take extra numbers (加号)."))


class NotPaidYet(AppointmentError):
    code = "not_paid"

    def __init__(self) -> None:
        super().__init__(_("Not paid yet: the patient must pay before checking in."))


class LoginHeldByAnotherDoctor(AppointmentError):
    """The login chosen for a doctor is another doctor's: said with their name, and moved only
    when staff confirm it."""

    code = "login_held"
    status = 409

    def __init__(self, holder_name: str, department: str) -> None:
        self.holder_name = holder_name
        super().__init__(
            _(
                "This login belongs to %(doctor)s (%(department)s). Tick “Move the login to "
                "this doctor” and save again to move it; %(doctor)s will then have no login."
            )
            % {"doctor": holder_name, "department": department},
            field="user",
        )


class NotBeingCalled(AppointmentError):
    """重呼 or 过号 of a patient who is not the one called now."""

    code = "not_being_called"

    def __init__(self, number: int) -> None:
        super().__init__(
            _("Number %(n)d is not being called now; the queue has moved on.") % {"n": number}
        )


class NoShowTooEarly(AppointmentError):
    """未到诊 before the rule allows it: before the session, or a checked-in patient not called
    often enough yet."""

    code = "no_show_too_early"


class NotYourPatient(AppointmentError):
    """The patient chosen is not (or no longer) one of the account's."""

    status = 400
    code = "not_your_patient"

    def __init__(self) -> None:
        super().__init__(_("Please choose one of your patients."))


class PatientNotVerified(AppointmentError):
    """实名制: the clinic books only patients whose real name is verified (identity)."""

    code = "patient_not_verified"

    def __init__(self) -> None:
        super().__init__(
            _(
                "The clinic books only patients whose real name is verified. Please verify "
                "this patient first (on the patient's real-name page, or at the front desk "
                "with the ID card)."
            )
        )


class AlreadyOpen(AppointmentError):
    """A release reminder for a session the member may already book."""

    code = "already_open"

    def __init__(self) -> None:
        super().__init__(_("This session is already open for you to book: no reminder needed."))


class TooManyReminders(AppointmentError):
    code = "too_many_reminders"

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(
            _(
                "You have %(limit)d reminders waiting, the most you can set. Cancel one you no "
                "longer need first."
            )
            % {"limit": limit}
        )


class ReminderClosed(AppointmentError):
    code = "reminder_closed"

    def __init__(self, status_label: str) -> None:
        super().__init__(
            _("This reminder is already closed (%(status)s).") % {"status": status_label}
        )


# -- rescheduling (改约) ----------------------------------------------------------------------


class NotReschedulable(AppointmentError):
    """Only a booking still ahead (awaiting payment or confirmed) moves."""

    code = "not_reschedulable"

    def __init__(self, status_label: str) -> None:
        super().__init__(
            _("This appointment is %(status)s and can no longer be rescheduled.")
            % {"status": status_label}
        )


class RescheduleClosed(AppointmentError):
    """Inside the cancellation cutoff (or the session began): the member's level may not."""

    code = "reschedule_closed"

    def __init__(self, cutoff_hours: int) -> None:
        super().__init__(
            _(
                "Appointments can be rescheduled online until %(hours)d hours before the "
                "session. Later changes are a privilege of higher membership levels; please "
                "call the clinic."
            )
            % {"hours": cutoff_hours}
        )


class RescheduleLimitReached(AppointmentError):
    code = "reschedule_limit"

    def __init__(self, limit: int) -> None:
        self.limit = limit
        if limit == 0:
            message = _("Appointments cannot be rescheduled online; please call the clinic.")
        else:
            message = _(
                "This booking has been rescheduled %(limit)d times already, as often as "
                "allowed. Please call the clinic, or cancel it and book again."
            ) % {"limit": limit}
        super().__init__(message)


class MonthlyRescheduleLimitReached(AppointmentError):
    code = "reschedule_monthly_limit"

    def __init__(self, limit: int) -> None:
        self.limit = limit
        if limit == 0:
            message = _("Appointments cannot be rescheduled online; please call the clinic.")
        else:
            message = _(
                "You have rescheduled %(limit)d times this month, as often as your membership "
                "level allows. Please call the clinic, or cancel and book again."
            ) % {"limit": limit}
        super().__init__(message)


class MovePending(AppointmentError):
    """A move to a dearer session waits for its difference: no other move until it is paid,
    cancelled or runs out."""

    code = "move_pending"

    def __init__(self) -> None:
        super().__init__(
            _(
                "A move of this booking to a dearer session is waiting for the difference to be "
                "paid. Pay it, or cancel the new appointment, before moving it again."
            )
        )


class SameSession(AppointmentError):
    """Moving a booking to the session it is in already."""

    status = 400
    code = "same_session"

    def __init__(self) -> None:
        super().__init__(_("Your appointment is in this session already. Please choose another."))


class NotSameDoctor(AppointmentError):
    """The new session is another doctor's (where the clinic does not allow that), or another
    department's."""

    status = 400
    code = "other_doctor"

    def __init__(self, *, department_allowed: bool) -> None:
        if department_allowed:
            message = _("An appointment can only be moved to a session of the same department.")
        else:
            message = _("An appointment can only be moved to another session of the same doctor.")
        super().__init__(message, field="schedule")


class SessionOver(AppointmentError):
    """Staff move a booking of a session that has ended: too late for anyone."""

    code = "session_over"

    def __init__(self) -> None:
        super().__init__(_("This appointment's session is over; it can no longer be moved."))


class WaitlistError(AppointmentError):
    """Refusals of joining, leaving or taking up a waitlist (候补) offer."""

    code = "waitlist_error"


class SlotsStillFree(WaitlistError):
    code = "slots_free"

    def __init__(self) -> None:
        super().__init__(_("This session still has free slots: please book it directly."))


class AlreadyWaiting(WaitlistError):
    code = "already_waiting"

    def __init__(self) -> None:
        super().__init__(_("You are already on the waitlist for this session."))


class TooManyWaiting(WaitlistError):
    code = "too_many_waiting"

    def __init__(self, limit: int) -> None:
        super().__init__(
            _("You can be on at most %(n)d waitlists at a time. Leave one to join another.")
            % {"n": limit}
        )


class WaitlistDaysInvalid(WaitlistError):
    status = 400
    code = "waitlist_days"

    def __init__(self) -> None:
        super().__init__(
            _("Choose days from today on, at most 14 days apart, the first before the last.")
        )


class OfferGone(WaitlistError):
    code = "offer_gone"

    def __init__(self) -> None:
        super().__init__(
            _(
                "This offer is no longer open: it ran out or the session changed. "
                "You were not booked."
            )
        )


class NotLeavable(WaitlistError):
    code = "not_leavable"

    def __init__(self) -> None:
        super().__init__(_("This waitlist place is closed already."))
