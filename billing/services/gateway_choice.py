"""The member's choice of how to pay (支付方式): an unpaid order's gateway switched to another
online gateway the clinic offers (Alipay, WeChat Pay).

No payment can be lost or taken twice by a switch, without closing anything at the gateway left
behind (closing a WeChat Pay order would stop the member from coming back to WeChat Pay with the
same order number, and Alipay cannot close a page-pay trade the payer has not opened yet):
- a payment that still arrives from the gateway left behind is applied like any other, and the
  order's gateway becomes the one that took the money (refunds go back through it);
- a second payment of a paid order is sent back through the gateway that took it
  (payments.confirm_payment / refunds.return_stray_payment);
- the sweep of orders closed unpaid asks every gateway the order was offered at
  (payments.check_closed_orders_with_gateways, from the order's history).
The switch, the payment and the expiry lock the order row, so exactly one of them decides.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from appointments.choices import AppointmentStatus
from medbook import audit
from members.models import User

from .. import exceptions as errors
from ..choices import OrderStatus
from ..gateways import member_gateways
from ..models import Order
from .orders import EXPIRED_HOLD_REASON

__all__ = ["choose_gateway", "offered_gateways"]


def offered_gateways(order: Order) -> list[str]:
    """Every gateway ``order`` was ever payable through (its history), the current one first."""
    earlier = order.history.order_by("history_id").values_list("gateway", flat=True)
    names = [order.gateway]
    for name in earlier:
        if name not in names:
            names.append(name)
    return names


def choose_gateway(
    *, order: Order, gateway: str, by: User, now: dt.datetime | None = None
) -> Order:
    """Pay ``order`` (unpaid, still held) through ``gateway`` from now on: one of
    :func:`member_gateways`. Choosing the order's own gateway changes nothing.

    Raises UnknownGateway (400) for any other name, AlreadyPaid once it is paid, HoldExpired
    once its hold ran out, CancelledNotPayable when the appointment is cancelled; each writes
    nothing. The switch is kept in the order's history (with its reason) and the operation log.
    """
    offered = member_gateways()
    if gateway not in offered:
        raise errors.UnknownGateway(offered)
    now = now or timezone.now()
    with transaction.atomic():
        locked = (
            Order.objects.select_for_update(of=("self",))
            .select_related("appointment")
            .get(pk=order.pk)
        )
        appointment = locked.appointment
        if locked.paid_at is not None:
            raise errors.AlreadyPaid()
        if appointment.status != AppointmentStatus.PENDING_PAYMENT:
            if appointment.cancel_reason == EXPIRED_HOLD_REASON:
                raise errors.HoldExpired()
            raise errors.CancelledNotPayable()
        if locked.status != OrderStatus.UNPAID or locked.expires_at <= now:
            raise errors.HoldExpired()
        if locked.gateway == gateway:
            return locked
        previous = locked.gateway
        locked.gateway = gateway
        locked._change_reason = f"member chose {gateway} (was {previous})"
        locked.save(update_fields=["gateway"])
        audit.record(
            actor=by,
            action="billing.choose_gateway",
            target=locked,
            detail={"from": previous, "to": gateway},
        )
    return locked
