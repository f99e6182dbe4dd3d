"""改约 from the pages and the API: the member's page offers the doctor's other sessions with
what each means for the money and moves the booking; refusals are 4xx and write nothing; the
staff console moves a member's booking with a reason; the API does what the page does."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from appointments.choices import AppointmentStatus
from appointments.models import Appointment, Reschedule, Schedule
from billing.models import Order, Refund
from medbook.models import OperationLog
from tests.api.helpers import call, error, pair_for
from tests.appointments.factories import ScheduleFactory
from tests.billing.factories import paid_order
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db


def later(schedule: Schedule, *, days: int = 1, **fields) -> Schedule:
    return ScheduleFactory(
        doctor=schedule.doctor, date=schedule.date + dt.timedelta(days=days), **fields
    )


def page(appointment: Appointment) -> str:
    return reverse("billing:appointment_reschedule", args=[appointment.pk])


def unchanged(appointment: Appointment) -> None:
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CONFIRMED
    assert not Reschedule.objects.exists()


def test_the_appointment_page_offers_the_move_and_the_page_lists_sessions_with_the_money(
    client, member
) -> None:
    order = paid_order(member)
    same = later(order.appointment.schedule)
    cheaper = later(order.appointment.schedule, days=2, fee=Decimal("30.00"))
    dearer = later(order.appointment.schedule, days=3, fee=Decimal("80.00"))
    client.force_login(member.user)

    detail = client.get(reverse("billing:appointment_detail", args=[order.appointment_id]))
    assert page(order.appointment) in detail.content.decode()

    response = client.get(page(order.appointment))
    html = response.content.decode()
    assert response.status_code == 200
    assert f'value="{same.pk}"' in html and f'value="{cheaper.pk}"' in html
    assert "¥20.00" in html  # what the cheaper session gives back
    assert "¥30.00" in html  # the difference the dearer one costs
    assert f'value="{dearer.pk}" disabled' not in html


def test_confirming_moves_the_paid_booking_without_paying_again(client, member) -> None:
    order = paid_order(member)
    target = later(order.appointment.schedule)
    client.force_login(member.user)

    response = client.post(page(order.appointment), {"schedule": target.pk})

    new = Appointment.objects.get(schedule=target)
    assert response.status_code == 302
    assert response["Location"] == reverse("billing:appointment_detail", args=[new.pk])
    assert Order.objects.get(pk=order.pk).appointment_id == new.pk
    followed = client.get(response["Location"]).content.decode()
    assert "There is nothing more to pay" in followed or "无需再次支付" in followed
    old_page = client.get(reverse("billing:appointment_detail", args=[order.appointment_id]))
    assert reverse("billing:appointment_detail", args=[new.pk]) in old_page.content.decode()
    # Once is the default: the new appointment offers no second move.
    assert page(new) not in followed


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({}, 400),  # no session chosen
        ({"schedule": "abc"}, 400),
        ({"schedule": 999999}, 409),  # no such session
    ],
)
def test_bad_input_is_a_4xx_and_moves_nothing(client, member, fields, status) -> None:
    order = paid_order(member)
    client.force_login(member.user)

    response = client.post(page(order.appointment), fields)

    assert response.status_code == status
    unchanged(order.appointment)


def test_refusals_are_said_on_the_page_and_write_nothing(client, member) -> None:
    order = paid_order(member)
    target = later(order.appointment.schedule)
    elsewhere = ScheduleFactory(date=order.appointment.schedule.date + dt.timedelta(days=2))
    client.force_login(member.user)

    response = client.post(page(order.appointment), {"schedule": elsewhere.pk})
    assert response.status_code == 400
    member.level.reschedules_per_month = 0
    member.level.save()
    response = client.post(page(order.appointment), {"schedule": target.pk})
    assert response.status_code == 409
    assert response.context["error"].code == "reschedule_monthly_limit"
    assert response.context["error"].message in response.content.decode()
    unchanged(order.appointment)
    assert not Refund.objects.exists()


def test_a_dearer_session_holds_the_slot_until_the_difference_is_paid(client, member) -> None:
    order = paid_order(member)
    dearer = later(order.appointment.schedule, fee=Decimal("80.00"))
    client.force_login(member.user)

    response = client.post(page(order.appointment), {"schedule": dearer.pk})

    held = Appointment.objects.get(schedule=dearer)
    assert response.status_code == 302
    assert response["Location"] == reverse("billing:appointment_detail", args=[held.pk])
    followed = client.get(response["Location"]).content.decode()
    assert "¥30.00" in followed and "move-awaiting" in followed
    old_page = client.get(reverse("billing:appointment_detail", args=[order.appointment_id]))
    assert reverse("billing:appointment_detail", args=[held.pk]) in old_page.content.decode()
    assert client.get(page(order.appointment)).status_code == 200  # says why not, no move
    refused = client.post(page(order.appointment), {"schedule": later(dearer, days=1).pk})
    assert refused.status_code == 409
    assert Reschedule.objects.count() == 1
    assert Appointment.objects.get(pk=order.appointment_id).status == AppointmentStatus.CONFIRMED


def test_another_members_booking_is_a_404(client, member) -> None:
    order = paid_order(member)
    client.force_login(MemberFactory().user)

    assert client.get(page(order.appointment)).status_code == 404
    response = client.post(
        page(order.appointment), {"schedule": later(order.appointment.schedule).pk}
    )
    assert response.status_code == 404
    unchanged(order.appointment)


def test_a_session_inside_the_cutoff_needs_the_tick(client, member) -> None:
    order = paid_order(member)
    soon = timezone.localtime() + dt.timedelta(hours=5)
    target = ScheduleFactory(
        doctor=order.appointment.schedule.doctor,
        date=soon.date(),
        start_time=soon.time().replace(microsecond=0),
        end_time=dt.time(23, 59, 59),
    )
    client.force_login(member.user)

    refused = client.post(page(order.appointment), {"schedule": target.pk})
    assert refused.status_code == 400
    unchanged(order.appointment)

    moved = client.post(page(order.appointment), {"schedule": target.pk, "accept_late": "1"})
    assert moved.status_code == 302


def test_the_front_desk_moves_a_booking_for_the_member_with_a_reason(
    client, member, front_desk
) -> None:
    order = paid_order(member)
    first = client
    first.force_login(member.user)
    first.post(page(order.appointment), {"schedule": later(order.appointment.schedule).pk})
    new = Appointment.objects.get(status=AppointmentStatus.CONFIRMED)
    target = later(order.appointment.schedule, days=2)
    client.force_login(front_desk)
    url = reverse("staff:appointment_reschedule", args=[new.pk])

    assert url in client.get(reverse("staff:appointment", args=[new.pk])).content.decode()
    no_reason = client.post(url, {"schedule": target.pk})
    assert no_reason.status_code == 400
    assert Reschedule.objects.count() == 1

    done = client.post(url, {"schedule": target.pk, "reason": "医生停诊，电话告知"})

    moved = Appointment.objects.get(schedule=target)
    assert done.status_code == 302
    assert done["Location"] == reverse("staff:appointment", args=[moved.pk])
    assert OperationLog.objects.filter(
        action="appointment.reschedule_for_member", actor=front_desk
    ).exists()


def test_the_api_moves_a_booking_as_the_page_does(client, member) -> None:
    order = paid_order(member)
    cheaper = later(order.appointment.schedule, fee=Decimal("30.00"))
    token = pair_for(member.user).access
    other = pair_for(MemberFactory().user).access
    args = [order.appointment_id]

    assert error(call(client, "post", "appointment_reschedule", {}, token=token, args=args)) == (
        400,
        "invalid",
    )
    assert (
        call(
            client,
            "post",
            "appointment_reschedule",
            {"schedule": cheaper.pk},
            token=other,
            args=args,
        ).status_code
        == 404
    )
    same = call(
        client,
        "post",
        "appointment_reschedule",
        {"schedule": order.appointment.schedule_id},
        token=token,
        args=args,
    )
    assert error(same) == (400, "same_session")
    unchanged(order.appointment)

    done = call(
        client, "post", "appointment_reschedule", {"schedule": cheaper.pk}, token=token, args=args
    )

    assert done.status_code == 200
    body = done.json()
    assert body["previous"] == order.appointment_id and body["refund"] == "20.00"
    assert body["appointment"]["schedule"]["id"] == cheaper.pk
    assert body["appointment"]["status"] == AppointmentStatus.CONFIRMED
    assert body["appointment"]["refunds"] == {"requested": "20.00", "refunded": "0.00"}
    again = call(
        client,
        "post",
        "appointment_reschedule",
        {"schedule": later(order.appointment.schedule, days=4).pk},
        token=token,
        args=[body["appointment"]["id"]],
    )
    assert error(again) == (409, "reschedule_limit")


def test_moves_count_against_the_booking_attempt_limit(client, member, settings) -> None:
    settings.MEDBOOK_BOOKING_RATE_MEMBER = "1/60"
    order = paid_order(member)
    elsewhere = ScheduleFactory(date=order.appointment.schedule.date + dt.timedelta(days=2))
    client.force_login(member.user)

    assert client.post(page(order.appointment), {"schedule": elsewhere.pk}).status_code == 400
    second = client.post(
        page(order.appointment), {"schedule": later(order.appointment.schedule).pk}
    )

    assert second.status_code == 429
    unchanged(order.appointment)


def test_the_api_holds_a_dearer_session_for_the_difference(client, member) -> None:
    order = paid_order(member)
    dearer = later(order.appointment.schedule, fee=Decimal("80.00"))
    token = pair_for(member.user).access
    args = [order.appointment_id]

    done = call(
        client, "post", "appointment_reschedule", {"schedule": dearer.pk}, token=token, args=args
    )

    assert done.status_code == 200
    body = done.json()
    assert (body["completed"], body["difference"], body["refund"]) == (False, "30.00", "0.00")
    assert body["appointment"]["status"] == AppointmentStatus.PENDING_PAYMENT
    assert body["appointment"]["order"]["amount"] == "30.00" and body["appointment"]["can_pay"]
    again = call(
        client,
        "post",
        "appointment_reschedule",
        {"schedule": later(dearer, days=1).pk},
        token=token,
        args=args,
    )
    assert error(again) == (409, "move_pending")
    assert Reschedule.objects.count() == 1
    assert Appointment.objects.get(pk=order.appointment_id).status == AppointmentStatus.CONFIRMED


def test_the_api_says_the_monthly_limit_as_a_409(client, member) -> None:
    member.level.reschedules_per_month = 0
    member.level.save()
    order = paid_order(member)
    token = pair_for(member.user).access

    refused = call(
        client,
        "post",
        "appointment_reschedule",
        {"schedule": later(order.appointment.schedule).pk},
        token=token,
        args=[order.appointment_id],
    )

    assert error(refused) == (409, "reschedule_monthly_limit")
    unchanged(order.appointment)


def test_the_desk_moves_to_a_dearer_session_and_takes_the_difference_at_the_counter(
    client, member, front_desk
) -> None:
    order = paid_order(member)
    dearer = later(order.appointment.schedule, fee=Decimal("80.00"))
    client.force_login(front_desk)

    response = client.post(
        reverse("staff:appointment_reschedule", args=[order.appointment_id]),
        {"schedule": dearer.pk, "reason": "会员来电改到专家号"},
    )

    held = Appointment.objects.get(schedule=dearer)
    assert response["Location"] == reverse("staff:appointment", args=[held.pk])
    console = client.get(response["Location"]).content.decode()
    counter = reverse("staff:appointment_counter_payment", args=[held.pk])
    assert counter in console and "move-awaiting" in console
    client.post(counter)
    held.refresh_from_db()
    assert held.status == AppointmentStatus.CONFIRMED
    assert Appointment.objects.get(pk=order.appointment_id).status == AppointmentStatus.CANCELLED
    assert Order.objects.get(appointment=held).gateway == "counter"


def test_the_level_editor_sets_the_moves_a_level_allows(client, clinic_admin, levels) -> None:
    level = levels["金卡"]
    client.force_login(clinic_admin)
    url = reverse("staff:level_edit", args=[level.pk])
    form = {
        "name": level.name,
        "min_points": level.min_points,
        "booking_lead_hours": level.booking_lead_hours,
        "can_cancel_late": "on",
        "discount_rate": level.discount_rate,
        "max_active_appointments": level.max_active_appointments,
        "points_multiplier": level.points_multiplier,
        "reschedules_per_booking": 3,
        "reschedules_per_month": 6,
    }

    assert client.post(url, form).status_code == 302
    level.refresh_from_db()
    assert (level.reschedules_per_booking, level.reschedules_per_month) == (3, 6)
    assert client.post(url, {**form, "reschedules_per_booking": -1}).status_code == 400
    assert "3" in client.get(reverse("staff:levels")).content.decode()
