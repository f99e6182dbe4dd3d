"""Domain errors of payments."""

from __future__ import annotations

from django.utils.translation import gettext as _

from medbook.errors import DomainError

from .choices import Gateway


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


class AlreadyPaid(PaymentError):
    code = "already_paid"

    def __init__(self) -> None:
        super().__init__(_("This appointment is paid already."))


class HoldExpired(PaymentError):
    code = "hold_expired"

    def __init__(self) -> None:
        super().__init__(
            _("The time to pay for this appointment ran out and the slot was released.")
        )


class NothingToPay(PaymentError):
    code = "nothing_to_pay"

    def __init__(self) -> None:
        super().__init__(_("There is nothing to pay for this appointment."))


class GatewayUnavailable(PaymentError):
    """The payment method asked for is not offered here (not configured, or the gateway has no
    online payment for it), or the gateway cannot be reached now."""

    code = "gateway_unavailable"

    def __init__(self) -> None:
        super().__init__(
            _(
                "This payment method is not available for this appointment. Choose another one, "
                "or pay at the front desk."
            )
        )


class UnknownGateway(PaymentError):
    """A payment method (gateway) that is not one a member may choose here."""

    status = 400
    code = "unknown_gateway"

    def __init__(self, offered: list[str]) -> None:
        super().__init__(
            _("Choose one of the payment methods offered here: %(offered)s.")
            % {"offered": " / ".join(str(Gateway(name).label) for name in offered)},
            field="gateway",
        )


class OpenidRequired(PaymentError):
    """WeChat Pay inside WeChat (JSAPI) charges the WeChat user who pays: the app must say who."""

    status = 400
    code = "openid_required"

    def __init__(self) -> None:
        super().__init__(
            _(
                "Paying inside WeChat needs the payer's openid: send the openid your WeChat "
                "login gave for this user."
            ),
            field="openid",
        )


class IdempotencyKeyReused(DomainError):
    """An Idempotency-Key sent again with a different request: the key names another booking."""

    status = 422
    code = "idempotency_key_reused"

    def __init__(self) -> None:
        super().__init__(
            _(
                "This Idempotency-Key was already used for a different booking request. Use a "
                "new key for a new booking."
            ),
            field="Idempotency-Key",
        )


class CancelledNotPayable(PaymentError):
    code = "cancelled"

    def __init__(self) -> None:
        super().__init__(_("This appointment is cancelled; there is nothing to pay."))


class RescheduleCostsMore(PaymentError):
    """Rescheduling a free visit into a session with a fee: there is no payment to top up (a
    paid booking moving to a dearer session pays the difference instead)."""

    code = "fee_higher"

    def __init__(self, extra: object) -> None:
        self.extra = extra
        super().__init__(
            _(
                "That session costs ¥%(extra)s and this visit was free, so it cannot be swapped "
                "in. Choose a free session, or cancel and book it instead."
            )
            % {"extra": extra}
        )


class TooManyAttempts(DomainError):
    """Booking or moving attempts of one member beyond ``MEDBOOK_BOOKING_RATE_MEMBER``."""

    status = 429
    code = "throttled"

    def __init__(self) -> None:
        super().__init__(
            _("Too many booking attempts in a short time. Please wait a minute and try again.")
        )
