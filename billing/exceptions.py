"""Domain errors of payments."""

from __future__ import annotations

from django.utils.translation import gettext as _


class PaymentError(Exception):
    code = "payment_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnknownOrder(PaymentError):
    code = "unknown_order"

    def __init__(self) -> None:
        super().__init__(_("No such order."))


class AmountMismatch(PaymentError):
    code = "amount_mismatch"

    def __init__(self) -> None:
        super().__init__(_("The amount paid does not match the order."))
