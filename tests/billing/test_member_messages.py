"""Every change a member cares about writes an in-app message, once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from appointments.choices import Channel
from billing import services
from members.models import Message
from tests.appointments.factories import ScheduleFactory
from tests.billing.factories import paid_order, run_refunds

pytestmark = [pytest.mark.core, pytest.mark.django_db]


def kinds(member) -> list[str]:
    return list(Message.objects.filter(member=member).order_by("pk").values_list("kind", flat=True))


def test_booking_paying_cancelling_and_the_refund_each_write_one_message(member) -> None:
    order = paid_order(member=member, fee="80.00")
    assert kinds(member) == ["booked", "paid"]
    services.cancel_booking(appointment=order.appointment, by=member.user, reason="行程有变")
    run_refunds()
    assert kinds(member) == ["booked", "paid", "cancelled", "refunded"]
    refunded = Message.objects.get(member=member, kind="refunded")
    assert "¥80.00" in refunded.title
    assert refunded.appointment_id == order.appointment_id


def test_a_free_session_is_confirmed_in_the_booking_message(member) -> None:
    services.place_booking(member=member, schedule=ScheduleFactory(fee=0), channel=Channel.WEB)
    message = Message.objects.get(member=member)
    assert message.kind == "booked" and "已确认" in message.body


def test_a_hold_that_runs_out_tells_the_member(member) -> None:
    appointment = services.place_booking(
        member=member, schedule=ScheduleFactory(fee=Decimal("50.00")), channel=Channel.WEB
    )
    services.expire_unpaid_orders(now=appointment.order.expires_at + dt.timedelta(seconds=1))
    assert kinds(member) == ["booked", "cancelled"]
    assert "未按时支付" in Message.objects.get(member=member, kind="cancelled").title


def test_a_paid_session_says_awaiting_payment_with_the_deadline_until_it_is_paid(member) -> None:
    """ "预约成功" only once the booking is confirmed: a held slot says 待支付 and by when."""
    order = paid_order(member=member, fee="80.00")
    held, paid = Message.objects.filter(member=member).order_by("pk")
    deadline = timezone.localtime(order.expires_at).strftime("%H:%M")
    assert held.title == f"待支付：请在 {deadline} 前完成支付"
    assert "预约成功" not in held.title
    assert paid.title == "支付成功，预约已确认"


def test_a_free_session_is_booked_in_the_title(member) -> None:
    services.place_booking(member=member, schedule=ScheduleFactory(fee=0), channel=Channel.WEB)
    assert Message.objects.get(member=member).title == "预约成功"


def test_the_message_list_previews_each_message_and_links_its_appointment(client, member) -> None:
    order = paid_order(member=member, fee="80.00")
    client.force_login(member.user)
    page = client.get(reverse("members:messages")).content.decode()
    assert 'class="message-preview"' in page and "80.00" in page
    assert reverse("billing:appointment_detail", args=[order.appointment_id]) in page
