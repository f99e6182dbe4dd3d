"""What billing's pages are handed: an appointment with what its viewer may do (member and
front desk), look-ups scoped to who asks (another member's appointment, another doctor's patient
and a draft session are 404s), and the lists of the console's member page."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from appointments import services as appointment_services
from appointments.choices import AppointmentStatus, Channel, ScheduleStatus
from billing import selectors, services
from billing.gateways import sandbox
from billing.selectors import Notice
from tests.appointments.factories import DepartmentFactory, DoctorFactory, ScheduleFactory

pytestmark = pytest.mark.django_db


def booked(member, fee="50.00", **schedule):
    return services.place_booking(
        member=member, schedule=ScheduleFactory(fee=Decimal(fee), **schedule), channel=Channel.WEB
    )


def paid(appointment):
    order = appointment.order
    trade = sandbox.pay(order=order)
    services.confirm_payment(
        out_trade_no=order.out_trade_no, gateway_trade_no=trade.trade_no, amount=order.amount
    )
    return selectors.member_appointment(member=appointment.member, pk=appointment.pk)


def detail(appointment, now=None):
    fresh = selectors.member_appointment(member=appointment.member, pk=appointment.pk)
    return selectors.appointment_view(
        appointment=fresh, by=appointment.member.user, now=now or timezone.now()
    )


def test_it_offers_payment_while_the_hold_lasts_and_says_when_it_ran_out(member) -> None:
    appointment = booked(member)

    holding = detail(appointment)
    expired = detail(appointment, now=appointment.order.expires_at + dt.timedelta(seconds=1))

    assert (holding.notice, holding.can_pay, holding.can_cancel) == (Notice.PAY, True, True)
    assert holding.can_add_to_calendar
    assert (expired.notice, expired.can_pay) == (Notice.HOLD_EXPIRED, False)


def test_a_paid_appointment_is_booked_with_calendar_and_cancel(member) -> None:
    view = detail(paid(booked(member)))

    assert (view.notice, view.can_pay, view.can_cancel, view.can_add_to_calendar) == (
        Notice.BOOKED,
        False,
        True,
        True,
    )
    assert view.why_not_cancel == ""


def test_after_the_cutoff_a_booked_member_is_told_why_they_cannot_cancel(member) -> None:
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    appointment = paid(booked(member, date=tomorrow))
    late = appointment.schedule.starts_at - dt.timedelta(hours=1)

    view = detail(appointment, now=late)

    assert not view.can_cancel
    assert view.why_not_cancel == view.terms.blocker.message != ""


def test_a_completed_visit_has_no_calendar_entry_or_cancel(member) -> None:
    appointment = paid(booked(member))
    appointment_services.check_in_appointment(appointment=appointment)
    services.complete_visit(appointment=appointment)

    view = detail(appointment)

    assert (view.notice, view.can_cancel, view.can_add_to_calendar) == (
        Notice.VISITED,
        False,
        False,
    )


def test_a_cancelled_appointment_says_so_and_offers_nothing(member) -> None:
    appointment = booked(member)
    services.cancel_booking(appointment=appointment, by=member.user, reason="有事")

    view = detail(appointment)

    assert (view.notice, view.can_pay, view.can_cancel, view.can_add_to_calendar) == (
        Notice.CANCELLED,
        False,
        False,
        False,
    )


def test_every_status_has_a_notice() -> None:
    assert set(selectors._NOTICE_OF_STATUS) == set(AppointmentStatus.values)


def test_another_members_appointment_is_a_404(member, other_member) -> None:
    appointment = booked(member)

    with pytest.raises(Http404):
        selectors.member_appointment(member=other_member, pk=appointment.pk)


def test_a_draft_session_or_an_inactive_doctor_cannot_be_opened_for_booking(levels) -> None:
    draft = ScheduleFactory(status=ScheduleStatus.DRAFT)
    retired = ScheduleFactory(doctor=DoctorFactory(is_active=False))
    open_ = ScheduleFactory()

    for schedule in (draft, retired):
        with pytest.raises(Http404):
            selectors.bookable_schedule(pk=schedule.pk)
    assert selectors.bookable_schedule(pk=open_.pk) == open_


def test_the_booking_preview_gives_the_members_discounted_price(levels) -> None:
    from tests.members.factories import MemberFactory

    gold = MemberFactory(level=levels["金卡"])
    schedule = ScheduleFactory(fee=Decimal("50.00"))

    preview = selectors.booking_preview(schedule=schedule, member=gold, now=timezone.now())

    assert preview.payable == Decimal("45.00")
    assert preview.error is None and preview.availability.can_book


def test_the_desk_may_take_payment_of_an_unpaid_order_and_a_doctor_may_not(
    member, front_desk, doctor_user
) -> None:
    appointment = selectors.staff_appointment(pk=booked(member).pk)
    now = timezone.now()

    desk = selectors.staff_appointment_view(appointment=appointment, user=front_desk, now=now)
    doctor = selectors.staff_appointment_view(appointment=appointment, user=doctor_user, now=now)

    assert desk.can_take_counter_payment and desk.actions.can_cancel
    assert not desk.actions.can_check_in  # not paid yet
    assert desk.cashier.startswith(
        reverse("billing:sandbox_cashier", args=[appointment.order.out_trade_no])
    )
    assert not doctor.can_take_counter_payment


def test_a_paid_order_is_not_offered_at_the_desk_again(member, front_desk) -> None:
    appointment = selectors.staff_appointment(pk=paid(booked(member)).pk)

    view = selectors.staff_appointment_view(
        appointment=appointment, user=front_desk, now=timezone.now()
    )

    assert not view.can_take_counter_payment
    assert view.actions.can_check_in
    assert view.cashier == ""


def test_another_doctors_patient_is_a_404_in_the_queue(member, doctor_user) -> None:
    own = booked(member, doctor=doctor_user.doctor)
    other = booked(member)

    assert selectors.queue_appointment(pk=own.pk, user=doctor_user) == own
    with pytest.raises(Http404):
        selectors.queue_appointment(pk=other.pk, user=doctor_user)


def test_an_unknown_appointment_or_member_or_session_is_a_404(db) -> None:
    for lookup in (
        lambda: selectors.staff_appointment(pk=999999),
        lambda: selectors.counter_order(appointment_pk=999999),
        lambda: selectors.staff_member(pk=999999),
        lambda: selectors.staff_schedule(pk=999999),
    ):
        with pytest.raises(Http404):
            lookup()


def test_the_member_page_lists_open_sessions_of_the_chosen_department_only(member) -> None:
    cardiology = DepartmentFactory(code="cardio")
    ours = ScheduleFactory(doctor=DoctorFactory(department=cardiology))
    ScheduleFactory()  # another department
    now = timezone.now()

    chosen = selectors.staff_member_page(member=member, department_code="cardio", now=now)
    none = selectors.staff_member_page(member=member, department_code="", now=now)

    assert list(chosen.sessions) == [ours]
    assert list(none.sessions) == []
    assert chosen.soon - chosen.today == dt.timedelta(days=14)


def test_the_walk_in_form_offers_todays_sessions_that_have_not_ended(levels) -> None:
    from billing.forms import WalkInForm

    now = timezone.localtime()
    running = ScheduleFactory(
        date=now.date(), start_time=dt.time(0, 0), end_time=dt.time(23, 59, 59, 999999)
    )
    ScheduleFactory()  # in three days
    ScheduleFactory(date=now.date() - dt.timedelta(days=1))  # yesterday

    form = WalkInForm(now=now)

    assert list(form.fields["schedule"].queryset) == [running]


def test_the_sandbox_cashier_knows_a_recorded_payment(member) -> None:
    appointment = booked(member)
    assert not selectors.sandbox_trade_recorded(out_trade_no=appointment.order.out_trade_no)

    sandbox.pay(order=appointment.order)

    assert selectors.sandbox_trade_recorded(out_trade_no=appointment.order.out_trade_no)


def test_the_staff_page_shows_the_desk_button_only_while_unpaid(client, member, front_desk):
    appointment = booked(member)
    client.force_login(front_desk)
    url = reverse("staff:appointment", args=[appointment.pk])
    button = reverse("staff:appointment_counter_payment", args=[appointment.pk])

    assert button in client.get(url).content.decode()
    paid(appointment)
    assert button not in client.get(url).content.decode()
