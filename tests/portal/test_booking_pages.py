"""The member's booking pages: confirm, book, pay, result, cancel, calendar file, messages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from appointments.models import Appointment
from billing.gateways.sandbox import pay
from billing.models import Order, Refund
from members.models import Message
from tests.appointments.factories import ScheduleFactory
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def gold(levels, client):
    member = MemberFactory(name="王五", level=levels["金卡"])
    client.force_login(member.user)
    return member


def test_it_shows_the_fee_the_discount_and_what_to_pay(client, gold) -> None:
    schedule = ScheduleFactory(fee=Decimal("80.00"))
    page = client.get(reverse("billing:book", args=[schedule.pk])).content.decode()
    assert "¥80.00" in page
    assert "10%" in page  # 金卡: 0.90
    assert "¥72.00" in page


def test_booking_sends_the_member_to_the_cashier_and_writes_a_message(client, gold) -> None:
    schedule = ScheduleFactory(fee=Decimal("80.00"))
    response = client.post(reverse("billing:book", args=[schedule.pk]))
    appointment = Appointment.objects.get(member=gold)
    assert response["Location"] == reverse("billing:appointment_pay", args=[appointment.pk])
    cashier = client.get(response["Location"])["Location"]
    assert cashier.startswith(f"/payments/sandbox/{appointment.order.out_trade_no}/?t=")
    assert Message.objects.filter(member=gold, kind="booked").count() == 1


def test_pressing_book_twice_books_once(client, gold) -> None:
    schedule = ScheduleFactory()
    client.post(reverse("billing:book", args=[schedule.pk]))
    second = client.post(reverse("billing:book", args=[schedule.pk]))
    appointment = Appointment.objects.get(member=gold)
    assert second["Location"] == reverse("billing:appointment_detail", args=[appointment.pk])
    schedule.refresh_from_db()
    assert schedule.booked == 1


@pytest.mark.parametrize(
    ("setup", "words"),
    [
        ("full", "约满"),
        ("not_open", "开放预约"),
        ("suspended", "停诊"),
        ("past", "已结束"),
        ("banned", "暂停"),
        ("tier_limit", "最多"),
    ],
)
def test_every_booking_refusal_is_explained_on_the_page(client, gold, setup, words) -> None:
    schedule = ScheduleFactory()
    now = timezone.now()
    if setup == "full":
        schedule.capacity = schedule.booked = 1
        schedule.save()
        Appointment.objects.create(
            member=MemberFactory(),
            schedule=schedule,
            queue_number=1,
            estimated_time=dt.time(8),
            status="confirmed",
            channel="web",
            fee=0,
        )
    elif setup == "not_open":
        schedule.release_at = now + dt.timedelta(days=2)
        schedule.save()
    elif setup == "suspended":
        schedule.status = "suspended"
        schedule.save()
    elif setup == "past":
        schedule.date = timezone.localdate() - dt.timedelta(days=1)
        schedule.save()
    elif setup == "banned":
        gold.banned_until = now + dt.timedelta(days=3)
        gold.save()
    elif setup == "tier_limit":
        for _ in range(gold.level.max_active_appointments):
            client.post(reverse("billing:book", args=[ScheduleFactory().pk]))

    response = client.post(reverse("billing:book", args=[schedule.pk]))

    assert response.status_code == 409
    assert words in response.content.decode()
    assert not Appointment.objects.filter(member=gold, schedule=schedule).exists()


def test_an_unknown_or_draft_schedule_is_not_found(client, gold) -> None:
    draft = ScheduleFactory(status="draft")
    assert client.get(reverse("billing:book", args=[draft.pk])).status_code == 404
    assert client.get(reverse("billing:book", args=[999999])).status_code == 404


def _paid_appointment(client, member, *, days_ahead: int = 3) -> Appointment:
    schedule = ScheduleFactory(
        fee=Decimal("80.00"), date=timezone.localdate() + dt.timedelta(days=days_ahead)
    )
    client.post(reverse("billing:book", args=[schedule.pk]))
    appointment = Appointment.objects.get(member=member, schedule=schedule)
    trade = pay(order=appointment.order)
    from billing.gateways.sandbox import deliver_notification  # noqa: F401 - the job's own code path
    from billing.services import confirm_payment

    confirm_payment(
        out_trade_no=trade.out_trade_no, gateway_trade_no=trade.trade_no, amount=trade.amount
    )
    appointment.refresh_from_db()
    return appointment


def test_the_result_page_shows_queue_number_time_and_status(client, gold) -> None:
    appointment = _paid_appointment(client, gold)
    page = client.get(reverse("billing:appointment_detail", args=[appointment.pk])).content.decode()
    assert f'<strong class="queue-number">{appointment.queue_number}</strong>' in page
    assert appointment.estimated_time.strftime("%H:%M") in page
    assert "已确认" in page


def test_cancelling_shows_the_refund_first_then_refunds_it(client, gold) -> None:
    appointment = _paid_appointment(client, gold)
    url = reverse("billing:appointment_cancel", args=[appointment.pk])
    assert "将退还 ¥72.00" in client.get(url).content.decode()

    response = client.post(url)

    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == "cancelled"
    assert Refund.objects.get(order__appointment=appointment).amount == Decimal("72.00")
    kinds = set(Message.objects.filter(member=gold).values_list("kind", flat=True))
    assert {"booked", "paid", "cancelled"} <= kinds


def test_after_the_cutoff_a_member_without_the_privilege_cannot_cancel(
    client, levels, member, settings
) -> None:
    client.force_login(member.user)  # 普通会员: no late cancellation
    appointment = _paid_appointment(client, member, days_ahead=3)
    settings.MEDBOOK_CANCEL_CUTOFF_HOURS = 24 * 7  # so three days ahead is already late
    url = reverse("billing:appointment_cancel", args=[appointment.pk])
    detail = client.get(reverse("billing:appointment_detail", args=[appointment.pk]))
    assert url not in detail.content.decode()  # no cancel button, the rule in words instead
    assert "无法在线取消" in detail.content.decode()

    response = client.post(url)

    assert response.status_code == 409
    assert "168" in response.content.decode()  # the cutoff in hours, in the message
    appointment.refresh_from_db()
    assert appointment.status == "confirmed"
    assert not Refund.objects.exists()


def test_an_unpaid_booking_is_closed_without_refund(client, gold) -> None:
    schedule = ScheduleFactory(fee=Decimal("80.00"))
    client.post(reverse("billing:book", args=[schedule.pk]))
    appointment = Appointment.objects.get(member=gold)
    client.post(reverse("billing:appointment_cancel", args=[appointment.pk]))
    assert Order.objects.get(appointment=appointment).status == "closed"
    assert not Refund.objects.exists()


def test_my_appointments_lists_upcoming_with_pay_now_and_past_separately(client, gold) -> None:
    unpaid = ScheduleFactory(fee=Decimal("80.00"))
    client.post(reverse("billing:book", args=[unpaid.pk]))
    upcoming = client.get(reverse("billing:appointments")).content.decode()
    assert "前支付" in upcoming
    past = client.get(reverse("billing:appointments") + "?show=past").content.decode()
    assert "暂无历史预约" in past


def test_the_calendar_file_describes_the_visit_without_personal_data(client, gold) -> None:
    appointment = _paid_appointment(client, gold)
    response = client.get(reverse("billing:appointment_calendar", args=[appointment.pk]))
    body = response.content.decode()
    assert response["Content-Type"] == "text/calendar"
    assert "BEGIN:VEVENT" in body and "END:VCALENDAR" in body
    assert f"{appointment.queue_number}号" in body
    assert gold.phone[3:] not in body and gold.name not in body


def test_a_cancelled_appointment_has_no_calendar_file(client, gold) -> None:
    appointment = _paid_appointment(client, gold)
    client.post(reverse("billing:appointment_cancel", args=[appointment.pk]))
    url = reverse("billing:appointment_calendar", args=[appointment.pk])
    assert client.get(url).status_code == 404


def test_the_status_fragment_polls_only_while_payment_is_awaited(client, gold) -> None:
    schedule = ScheduleFactory(fee=Decimal("80.00"))
    client.post(reverse("billing:book", args=[schedule.pk]))
    appointment = Appointment.objects.get(member=gold)
    url = reverse("billing:appointment_detail", args=[appointment.pk])
    fragment = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert fragment.startswith('<div id="appointment-status"') and "every 3s" in fragment
    assert "<html" not in fragment


def test_reading_a_message_marks_it_read_and_the_header_counts_unread(client, gold) -> None:
    from members.services import send_message

    message = send_message(member=gold, kind="booked", title="预约成功", body="...")
    assert 'id="unread-count">1' in client.get(reverse("members:messages")).content.decode()
    client.get(reverse("members:message_detail", args=[message.pk]))
    assert 'id="unread-count"' not in client.get(reverse("members:messages")).content.decode()


def test_membership_shows_level_privileges_progress_and_ledger(client, gold) -> None:
    from members.services import add_points

    add_points(member=gold, delta=120, reason="visit")
    page = client.get(reverse("members:membership")).content.decode()
    assert "金卡会员" in page and "钻石会员" in page
    assert "120" in page
    assert "再获得 4880 积分" in page  # 钻石 at 5000


def test_profile_shows_phone_and_id_masked(client, gold) -> None:
    gold.national_id = "11010519491231002X"
    gold.save()
    page = client.get(reverse("members:profile")).content.decode()
    assert gold.phone[3:] not in page
    assert f"{gold.phone[3:6]}****{gold.phone[-4:]}" in page
    assert "110105********002X" in page
