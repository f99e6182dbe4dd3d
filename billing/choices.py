from django.db import models
from django.utils.translation import gettext_lazy as _


class OrderStatus(models.TextChoices):
    UNPAID = "unpaid", _("Awaiting payment")
    PAID = "paid", _("Paid")
    REFUNDING = "refunding", _("Refund in progress")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
    REFUNDED = "refunded", _("Refunded")
    CLOSED = "closed", _("Closed unpaid")


class Gateway(models.TextChoices):
    SANDBOX = "sandbox", _("Sandbox")
    ALIPAY = "alipay", _("Alipay")
    WECHAT = "wechat", _("WeChat Pay")
