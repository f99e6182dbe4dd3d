"""Refusals of the privacy services."""

from __future__ import annotations

from django.utils.translation import gettext as _

from medbook.errors import DomainError, Invalid


class UpcomingAppointments(DomainError):
    code = "erasure_upcoming_appointments"

    def default_message(self) -> str:
        return _(
            "You still have upcoming appointments. Please cancel them (My appointments) or "
            "attend them first, then close your account."
        )


class MoneyInFlight(DomainError):
    code = "erasure_money_in_flight"

    def default_message(self) -> str:
        return _(
            "A payment or refund of yours is still in progress. Please pay or let the unpaid "
            "booking expire, and wait for refunds to arrive (usually within a day), then close "
            "your account. The front desk can help."
        )


class WrongPassword(Invalid):
    code = "wrong_password"

    def default_message(self) -> str:
        return _("The password is wrong.")


class TooManyExports(DomainError):
    code = "too_many_exports"
    status = 429

    def default_message(self) -> str:
        return _("You have downloaded your data several times today. Please try again tomorrow.")
