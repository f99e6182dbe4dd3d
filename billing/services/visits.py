"""Visits: completing a visit awards the points of what the member paid, in one transaction."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from appointments import services as appointment_services
from appointments.models import Appointment
from medbook import audit, money
from members import services as member_services
from members.models import Member, PointsReason, User

from .orders import lock_booking_orders
from .refunds import REFUNDABLE_STATUSES

__all__ = ["complete_visit"]


def complete_visit(
    *,
    appointment: Appointment,
    by: User | None = None,
    now: dt.datetime | None = None,
    note: str = "",
) -> Appointment:
    """Mark a checked-in visit completed and, if it was paid, award its points: one transaction.

    The points come from what the member actually paid (after refunds) times their level's
    multiplier; the ledger entry references the appointment, and the level rises with it.
    Completed by staff (``by``), it is in the operation log.
    """
    now = now or timezone.now()
    with transaction.atomic():
        orders = lock_booking_orders(appointment.pk)  # with those a top-up was paid on top of
        order = orders[-1] if orders else None
        appointment = appointment_services.complete_appointment(
            appointment=appointment, now=now, note=note
        )
        if by is not None:
            audit.record(actor=by, action="appointment.complete", target=appointment)
        if order is None or order.status not in REFUNDABLE_STATUSES:
            return appointment
        member = Member.objects.select_related("level").get(pk=appointment.member_id)
        points = money.points_for(
            paid=sum((paid.amount - paid.refunded_amount for paid in orders), money.ZERO),
            multiplier=member.level.points_multiplier,
        )
        if points > 0:
            member_services.add_points(
                member=member,
                delta=points,
                reason=PointsReason.VISIT,
                reference=f"appointment:{appointment.pk}",
                now=now,
            )
    return appointment
