"""The "textbook" booking view the HTTP benchmark compares MedBook's with (bench only).

What most booking code does: one transaction that locks the schedule row
(``SELECT … FOR UPDATE``), checks ``booked < capacity``, inserts the appointment and its order,
adds one to ``booked`` and commits (the holder patient is read before it). Every request,
winner or loser, queues on that row lock; there is no "sold out" hint and none of MedBook's
member rules (already booked, one visit per department and day, level cap, ban) — only the
capacity. The request around it is MedBook's:
same middleware, login and member look-up (``member_required``), the same booking rate limits,
the same redirect to the cashier for a winner and the same page (``billing/book.html``, 409)
for a loser, so the two differ in the booking core alone.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from appointments import exceptions as errors
from appointments.choices import AppointmentStatus, Channel
from appointments.models import Appointment, Schedule
from billing import selectors
from billing.models import Order
from billing.services import new_out_trade_no
from medbook import money, throttle
from medbook.audit import client_ip
from members.decorators import member_required
from members.models import Patient, Relation


@require_POST
@member_required
def book(request: HttpRequest, schedule_id: int) -> HttpResponse:
    member = request.member
    selectors.bookable_schedule(pk=schedule_id)  # a draft or unknown session: 404, as MedBook
    now = timezone.now()
    if not _booking_allowed(request):
        error = errors.AppointmentError("Too many booking attempts in a short time.")
        return _refused(request, schedule_id, error, status=429)
    appointment = None
    patient = Patient.objects.filter(member=member, relation=Relation.SELF).first()
    with transaction.atomic():
        schedule = Schedule.objects.select_for_update().get(pk=schedule_id)
        if schedule.booked < schedule.capacity:
            number = schedule.booked + 1
            appointment = Appointment.objects.create(
                member=member,
                patient=patient,
                schedule=schedule,
                queue_number=number,
                estimated_time=schedule.estimated_time(number),
                status=AppointmentStatus.PENDING_PAYMENT,
                channel=Channel.WEB,
                fee=schedule.fee,
                created_at=now,
            )
            rate = member.level.discount_rate
            Order.objects.create(
                appointment=appointment,
                member=member,
                out_trade_no=new_out_trade_no(now),
                gateway=settings.MEDBOOK_PAYMENT_GATEWAY,
                original_amount=schedule.fee,
                discount_rate=rate,
                amount=money.payable(fee=schedule.fee, discount_rate=rate),
                created_at=now,
                expires_at=now + dt.timedelta(minutes=settings.MEDBOOK_HOLD_MINUTES),
            )
            Schedule.objects.filter(pk=schedule.pk).update(booked=F("booked") + 1)
    if appointment is not None:
        return redirect("billing:appointment_pay", appointment.pk)
    return _refused(request, schedule_id, errors.SoldOut(), status=409)


def _booking_allowed(request: HttpRequest) -> bool:
    """The same two limits (and counters) as MedBook's booking view."""
    member_ok = throttle.allow(
        scope="book-member", who=str(request.member.pk), rate=settings.MEDBOOK_BOOKING_RATE_MEMBER
    )
    ip_ok = throttle.allow(
        scope="book-ip", who=client_ip(request) or "-", rate=settings.MEDBOOK_BOOKING_RATE_IP
    )
    return member_ok and ip_ok


def _refused(
    request: HttpRequest, schedule_id: int, error: errors.AppointmentError, *, status: int
) -> HttpResponse:
    """MedBook's booking page with the refusal, as its own view renders it."""
    schedule = selectors.bookable_schedule(pk=schedule_id)
    now = timezone.now()
    preview = selectors.booking_preview(schedule=schedule, member=request.member, now=now)
    context = {
        "schedule": schedule,
        "member": request.member,
        "patient": Patient.objects.filter(member=request.member, relation=Relation.SELF).first(),
        "availability": preview.availability,
        "error": error,
        "payable": preview.payable,
        "hold_minutes": settings.MEDBOOK_HOLD_MINUTES,
        "cutoff_hours": settings.MEDBOOK_CANCEL_CUTOFF_HOURS,
    }
    return render(request, "billing/book.html", context, status=status)
