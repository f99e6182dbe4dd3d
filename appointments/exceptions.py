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
