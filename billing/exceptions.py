"""Domain errors of payments."""

from __future__ import annotations

from django.utils.translation import gettext as _

from medbook.errors import DomainError


class PaymentError(DomainError):
    """Refusals of paying and refunding."""

    code = "payment_error"


class UnknownOrder(PaymentError):
    code = "unknown_order"

    def __init__(self) -> None:
        super().__init__(_("No such order."))


class AmountMismatch(PaymentError):
    code = "amount_mismatch"

    def __init__(self) -> None:
        super().__init__(_("The amount paid does not match the order."))


class NotRefundable(PaymentError):
    code = "not_refundable"

    def __init__(self) -> None:
        super().__init__(_("This order has no payment left to refund."))


class RefundTooLarge(PaymentError):
    code = "refund_too_large"

    def __init__(self, available: object) -> None:
        super().__init__(
            _("At most ¥%(available)s of this order can still be refunded.")
            % {"available": available}
        )


class NotPayable(PaymentError):
    code = "not_payable"

    def __init__(self) -> None:
        super().__init__(
            _("This order cannot be paid any more: it is paid already or its hold ran out.")
        )
