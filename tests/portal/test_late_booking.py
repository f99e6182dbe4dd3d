"""Booking a visit that could not be cancelled online (the session starts within the
cancellation cutoff and the member's level may not cancel late): the confirm page says so and
asks for a tick; without it nothing is booked."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from appointments.models import Appointment
from medbook.clinic import update_clinic_profile
from tests.appointments.factories import ScheduleFactory
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db


def session_in(hours: float):
    """A published session starting about ``hours`` from now (the next morning at 08:00 when
    that would run past midnight), three hours long."""
    starts = (timezone.localtime() + dt.timedelta(hours=hours)).replace(second=0, microsecond=0)
    if starts.time() > dt.time(20, 59):
        starts = (starts + dt.timedelta(days=1)).replace(hour=8, minute=0)
    return ScheduleFactory(
        date=starts.date(),
        start_time=starts.time(),
        end_time=(starts + dt.timedelta(hours=3)).time(),
    )


@pytest.fixture
def ordinary(levels, client):
    member = MemberFactory(name="赵六", level=levels["普通"])  # may not cancel late
    client.force_login(member.user)
    return member


def test_the_confirm_page_warns_and_asks_for_a_tick_inside_the_cutoff(client, ordinary) -> None:
    update_clinic_profile(
        data={"name": "和睦家诊所", "address": "", "phone": "010-8888 6666", "hours": ""}, by=None
    )
    schedule = session_in(hours=2)
    page = client.get(reverse("billing:book", args=[schedule.pk])).content.decode()
    assert "本次预约不能在线取消" in page
    assert 'name="accept_late"' in page and "required" in page
    assert "010-8888 6666" in page  # whom to call instead
    assert "就诊前24小时之前可免费取消" not in page  # no promise the rule won't keep


def test_without_the_tick_nothing_is_booked(client, ordinary) -> None:
    schedule = session_in(hours=2)
    response = client.post(reverse("billing:book", args=[schedule.pk]))
    assert response.status_code == 400
    assert "请勾选确认" in response.content.decode()
    assert not Appointment.objects.exists()
    schedule.refresh_from_db()
    assert schedule.booked == 0


def test_with_the_tick_it_books(client, ordinary) -> None:
    schedule = session_in(hours=2)
    response = client.post(reverse("billing:book", args=[schedule.pk]), {"accept_late": "1"})
    assert response.status_code == 302
    assert Appointment.objects.filter(member=ordinary, schedule=schedule).exists()


def test_no_warning_for_a_level_that_may_cancel_late(client, levels) -> None:
    gold = MemberFactory(name="钱七", level=levels["金卡"])
    client.force_login(gold.user)
    schedule = session_in(hours=2)
    page = client.get(reverse("billing:book", args=[schedule.pk])).content.decode()
    assert "accept_late" not in page
    assert client.post(reverse("billing:book", args=[schedule.pk])).status_code == 302


def test_no_warning_outside_the_cutoff(client, ordinary) -> None:
    schedule = ScheduleFactory()  # three days ahead
    page = client.get(reverse("billing:book", args=[schedule.pk])).content.decode()
    assert "accept_late" not in page
    assert "免费取消" in page
    assert client.post(reverse("billing:book", args=[schedule.pk])).status_code == 302


def test_in_english_too(client, ordinary) -> None:
    client.cookies["django_language"] = "en"
    schedule = session_in(hours=2)
    response = client.post(reverse("billing:book", args=[schedule.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "Please tick the box to confirm" in response.content.decode()
