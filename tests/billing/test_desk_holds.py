"""A desk booking with a fee: the amount and the deadline right after booking, payment at the
counter from that page, and the desk's list of its unpaid holds (issue 17, part 4)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from appointments.models import Appointment
from billing import selectors, services
from billing.models import Order
from tests.appointments.factories import ScheduleFactory
from tests.billing.factories import book
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db


def desk_booking(front_desk, *, fee: str = "60.00", days: int = 1) -> Appointment:
    schedule = ScheduleFactory(fee=Decimal(fee), date=timezone.localdate() + dt.timedelta(days))
    return services.book_for_member(member=MemberFactory(), schedule=schedule, by=front_desk)


def test_it_shows_the_amount_and_the_deadline_right_after_booking(client, levels, front_desk):
    member = MemberFactory()
    schedule = ScheduleFactory(fee=Decimal("60.00"))
    client.force_login(front_desk)
    response = client.post(
        reverse("staff:member_book", args=[member.pk]), {"schedule": schedule.pk}, follow=True
    )
    order = Order.objects.get(member=member)
    page = response.content.decode()
    deadline = timezone.localtime(order.expires_at).strftime("%H:%M")
    assert response.redirect_chain[-1][0] == reverse(
        "staff:appointment", args=[order.appointment_id]
    )
    assert f"¥{order.amount}" in page
    assert deadline in page and "hold-deadline" in page
    assert reverse("staff:appointment_counter_payment", args=[order.appointment_id]) in page


def test_a_free_desk_booking_shows_no_deadline(client, levels, front_desk):
    appointment = desk_booking(front_desk, fee="0.00")
    client.force_login(front_desk)
    page = client.get(reverse("staff:appointment", args=[appointment.pk])).content.decode()
    assert "hold-deadline" not in page
    assert reverse("staff:appointment_counter_payment", args=[appointment.pk]) not in page


def test_it_is_paid_at_the_counter_from_the_booking_page_at_once(client, levels, front_desk):
    appointment = desk_booking(front_desk)
    client.force_login(front_desk)
    response = client.post(reverse("staff:appointment_counter_payment", args=[appointment.pk]))
    assert response.url == reverse("staff:appointment", args=[appointment.pk])
    appointment.refresh_from_db()
    assert (appointment.status, appointment.order.status) == ("confirmed", "paid")


def test_the_list_holds_the_desks_unpaid_bookings_soonest_deadline_first(levels, front_desk):
    now = timezone.now()
    later = desk_booking(front_desk, days=2)
    sooner = desk_booking(front_desk, days=1)
    Order.objects.filter(pk=later.order.pk).update(expires_at=now + dt.timedelta(minutes=14))
    Order.objects.filter(pk=sooner.order.pk).update(expires_at=now + dt.timedelta(minutes=3))
    paid = desk_booking(front_desk)
    services.pay_at_counter(order=paid.order, by=front_desk)
    expired = desk_booking(front_desk)
    Order.objects.filter(pk=expired.order.pk).update(expires_at=now - dt.timedelta(seconds=1))
    online = book(MemberFactory(), ScheduleFactory(fee=Decimal("60.00")))  # the member's own

    holds = list(selectors.unpaid_desk_holds(now=now))
    assert [order.appointment_id for order in holds] == [sooner.pk, later.pk]
    assert online.pk not in [order.appointment_id for order in holds]


def test_a_past_session_is_not_on_the_list(levels, front_desk):
    appointment = desk_booking(front_desk)
    tomorrow = timezone.now() + dt.timedelta(days=2)
    Order.objects.filter(pk=appointment.order.pk).update(
        expires_at=tomorrow + dt.timedelta(hours=1)
    )
    assert not selectors.unpaid_desk_holds(now=tomorrow).exists()


def test_the_list_page_shows_deadlines_and_pays_back_to_itself(client, levels, front_desk):
    appointment = desk_booking(front_desk)
    url = reverse("staff:unpaid_holds")
    client.force_login(front_desk)
    page = client.get(url).content.decode()
    deadline = timezone.localtime(appointment.order.expires_at).strftime("%H:%M")
    assert deadline in page and f"¥{appointment.order.amount}" in page
    assert appointment.member.masked_phone in page and appointment.member.phone not in page

    response = client.post(
        reverse("staff:appointment_counter_payment", args=[appointment.pk]), {"next": url}
    )
    assert response.url == url
    appointment.refresh_from_db()
    assert appointment.status == "confirmed"
    assert 'unpaid-hold"' not in client.get(url).content.decode()


def test_paying_never_sends_the_desk_off_site(client, levels, front_desk):
    appointment = desk_booking(front_desk)
    client.force_login(front_desk)
    response = client.post(
        reverse("staff:appointment_counter_payment", args=[appointment.pk]),
        {"next": "https://evil.example/"},
    )
    assert response.url == reverse("staff:appointment", args=[appointment.pk])


def test_the_list_page_costs_the_same_queries_for_many_holds(
    client, levels, front_desk, django_assert_max_num_queries
):
    desk_booking(front_desk)
    client.force_login(front_desk)
    url = reverse("staff:unpaid_holds")
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for _ in range(5):
        desk_booking(front_desk)
    with django_assert_max_num_queries(len(one.captured_queries)):
        client.get(url)


def test_the_cancel_button_promises_a_refund_only_when_money_was_paid(client, levels, front_desk):
    appointment = desk_booking(front_desk)
    client.force_login(front_desk)
    page = reverse("staff:appointment", args=[appointment.pk])
    unpaid = client.get(page, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "取消预约</button>" in unpaid and "取消并退款" not in unpaid
    client.post(reverse("staff:appointment_counter_payment", args=[appointment.pk]))
    paid = client.get(page, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "取消并退款</button>" in paid
