"""Payment gateway adapters, looked up by name. The sandbox is always there; Alipay joins when
its settings are given."""

from __future__ import annotations

from functools import cache
from urllib.parse import urlsplit

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import reverse

from .base import (
    Acknowledgement,
    GatewayError,
    IgnoredNotification,
    InvalidNotification,
    PaymentGateway,
    PaymentNotice,
    Prepay,
    PrepayKind,
    StatementEntry,
)
from .counter import CounterGateway
from .sandbox import SandboxGateway


@cache
def configured_gateways() -> dict[str, PaymentGateway]:
    gateways: dict[str, PaymentGateway] = {
        "sandbox": SandboxGateway(),
        "counter": CounterGateway(),
    }
    if settings.MEDBOOK_ALIPAY_APP_ID:
        from .alipay import AlipayGateway

        gateways["alipay"] = AlipayGateway(
            app_id=settings.MEDBOOK_ALIPAY_APP_ID,
            private_key=settings.MEDBOOK_ALIPAY_PRIVATE_KEY,
            alipay_public_key=settings.MEDBOOK_ALIPAY_PUBLIC_KEY,
            notify_url=settings.MEDBOOK_PUBLIC_URL.rstrip("/")
            + reverse("billing:gateway_notify", args=["alipay"]),
            gateway_url=settings.MEDBOOK_ALIPAY_GATEWAY_URL,
        )
    if settings.MEDBOOK_WECHAT_MCH_ID:
        from .wechat import WechatPayGateway

        gateways["wechat"] = WechatPayGateway(
            mch_id=settings.MEDBOOK_WECHAT_MCH_ID,
            app_id=settings.MEDBOOK_WECHAT_APP_ID,
            private_key=settings.MEDBOOK_WECHAT_PRIVATE_KEY,
            cert_serial_no=settings.MEDBOOK_WECHAT_CERT_SERIAL_NO,
            apiv3_key=settings.MEDBOOK_WECHAT_APIV3_KEY,
            public_key=settings.MEDBOOK_WECHAT_PUBLIC_KEY,
            public_key_id=settings.MEDBOOK_WECHAT_PUBLIC_KEY_ID,
            notify_url=settings.MEDBOOK_PUBLIC_URL.rstrip("/")
            + reverse("billing:gateway_notify", args=["wechat"]),
            gateway_url=settings.MEDBOOK_WECHAT_GATEWAY_URL,
        )
    return gateways


@receiver(setting_changed)
def _reset(**kwargs: object) -> None:
    if str(kwargs.get("setting", "")).startswith("MEDBOOK_"):
        configured_gateways.cache_clear()


def get_gateway(name: str) -> PaymentGateway | None:
    return configured_gateways().get(name)


ONLINE_GATEWAYS = ("sandbox", "alipay", "wechat")


def cashier_origins(names: list[str]) -> list[str]:
    """The origins of the gateways' own cashier pages among ``names`` (Alipay's page pay),
    which a form on MedBook's pay step is sent on to (the sandbox's and WeChat Pay's QR page
    are MedBook's own)."""
    origins = []
    if "alipay" in names:
        url = urlsplit(settings.MEDBOOK_ALIPAY_GATEWAY_URL)
        origins.append(f"{url.scheme}://{url.netloc}")
    return origins


def member_gateways() -> list[str]:
    """The gateways a member may pay an order through online, the clinic's own
    (MEDBOOK_PAYMENT_GATEWAY) first, then Alipay and WeChat Pay when they are set up. The
    sandbox is offered only when it is the clinic's gateway (a demo), never beside real ones."""
    default = settings.MEDBOOK_PAYMENT_GATEWAY
    gateways = configured_gateways()
    return [default] + [
        name for name in ONLINE_GATEWAYS if name not in (default, "sandbox") and name in gateways
    ]


__all__ = [
    "ONLINE_GATEWAYS",
    "Acknowledgement",
    "GatewayError",
    "IgnoredNotification",
    "InvalidNotification",
    "PaymentGateway",
    "PaymentNotice",
    "Prepay",
    "PrepayKind",
    "StatementEntry",
    "cashier_origins",
    "configured_gateways",
    "get_gateway",
    "member_gateways",
]
