from django.db import models
from django.utils.translation import gettext_lazy as _


class OrderStatus(models.TextChoices):
    UNPAID = "unpaid", _("Awaiting payment")
    PAID = "paid", _("Paid")
    REFUNDING = "refunding", _("Refund in progress")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
    REFUNDED = "refunded", _("Refunded")
    CLOSED = "closed", _("Closed unpaid")


class NotificationOutcome(models.TextChoices):
    RECEIVED = "received", _("Received")
    APPLIED = "applied", _("Payment applied")
    DUPLICATE = "duplicate", _("Repeat of an applied payment")
    REFUND_DUE = "refund_due", _("Order no longer payable: refund due")
    IGNORED = "ignored", _("Not a payment: acknowledged only")
    BAD_SIGNATURE = "bad_signature", _("Rejected: signature or content invalid")
    AMOUNT_MISMATCH = "amount_mismatch", _("Rejected: amount does not match")
    UNKNOWN_ORDER = "unknown_order", _("Rejected: unknown order")


class RefundStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    SUCCEEDED = "succeeded", _("Refunded")
    FAILED = "failed", _("Failed")


class MismatchKind(models.TextChoices):
    MISSING_AT_GATEWAY = "missing_at_gateway", _("Recorded by MedBook, not by the gateway")
    MISSING_IN_MEDBOOK = "missing_in_medbook", _("Recorded by the gateway, not by MedBook")
    AMOUNT_DIFFERS = "amount_differs", _("Amounts differ")


class Gateway(models.TextChoices):
    SANDBOX = "sandbox", _("Sandbox")
    ALIPAY = "alipay", _("Alipay")
    WECHAT = "wechat", _("WeChat Pay")
    COUNTER = "counter", _("At the front desk")


class PaymentMethod(models.TextChoices):
    """How an app asks to pay an order (POST /api/v1/appointments/<id>/pay/): the gateway and
    the kind of payment its client opens."""

    SANDBOX = "sandbox", _("Sandbox cashier (a web page)")
    ALIPAY_PAGE = "alipay_page", _("Alipay, web page")
    ALIPAY_APP = "alipay_app", _("Alipay, in the app (order string)")
    WECHAT_JSAPI = "wechat_jsapi", _("WeChat Pay, in WeChat (JSAPI)")
    WECHAT_APP = "wechat_app", _("WeChat Pay, in the app")
    WECHAT_NATIVE = "wechat_native", _("WeChat Pay, QR code (Native)")
