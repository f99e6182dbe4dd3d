"""Console pages doing their work: bad input gets a 4xx and writes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from appointments.models import Appointment, Schedule
from appointments.services import book_appointment
from medbook.models import OperationLog
from members.models import Member
from tests.appointments.factories import ScheduleFactory
from tests.conftest import started_ago
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db


def test_capacity_below_what_is_booked_is_refused_on_the_page(client, clinic_admin, levels):
    schedule = ScheduleFactory(capacity=3, fee=0)
    for _ in range(2):
        book_appointment(member=MemberFactory(), schedule=schedule, channel="web")
    client.force_login(clinic_admin)
    url = reverse("staff:schedule_edit", args=[schedule.pk])
    data = {
        "start_time": "08:00",
        "end_time": "11:30",
        "capacity": 1,
        "minutes_per_visit": 15,
        "room": "",
        "fee": "0",
        "release_at": timezone.localtime(schedule.release_at).strftime("%Y-%m-%dT%H:%M"),
        "status": "published",
    }
    response = client.post(url, data)
    assert response.status_code == 400
    assert "2" in response.content.decode()
    assert Schedule.objects.get(pk=schedule.pk).capacity == 3

    response = client.post(url, {**data, "capacity": 5})
    assert response.status_code == 302
    assert Schedule.objects.get(pk=schedule.pk).capacity == 5


def test_a_walk_in_of_a_new_patient_opens_a_member_and_books(client, front_desk, levels):
    start = started_ago(dt.timedelta(minutes=5))
    schedule = ScheduleFactory(
        date=start.date(),
        start_time=start.time().replace(microsecond=0),
        end_time=dt.time(23, 59),
        fee=0,
    )
    client.force_login(front_desk)
    response = client.post(
        reverse("staff:walk_in"),
        {"phone": "13812345678", "name": "周杰", "schedule": schedule.pk},
    )
    assert response.status_code == 302
    member = Member.objects.get(name="周杰")
    appointment = Appointment.objects.get(member=member)
    assert (appointment.channel, appointment.status) == ("walk_in", "confirmed")
    assert member.level == levels["普通"]


def test_a_walk_in_with_a_bad_number_writes_nothing(client, front_desk, levels):
    schedule = ScheduleFactory(fee=0, date=timezone.localdate(), end_time=dt.time(23, 59))
    client.force_login(front_desk)
    response = client.post(
        reverse("staff:walk_in"), {"phone": "12345", "name": "周杰", "schedule": schedule.pk}
    )
    assert response.status_code == 400
    assert not Member.objects.filter(name="周杰").exists()


def test_unmasking_on_the_member_page_shows_the_number_once_and_logs_it(
    client, clinic_admin, member
):
    client.force_login(clinic_admin)
    url = reverse("staff:member", args=[member.pk])
    assert member.phone not in client.get(url).content.decode()
    response = client.post(url, {"action": "unmask", "unmask-reason": "核对身份"})
    assert member.phone in response.content.decode()
    assert OperationLog.objects.filter(action="member.unmask", actor=clinic_admin).count() == 1
    assert member.phone not in client.get(url).content.decode()


def test_unmasking_without_a_reason_is_refused(client, clinic_admin, member):
    client.force_login(clinic_admin)
    response = client.post(
        reverse("staff:member", args=[member.pk]), {"action": "unmask", "unmask-reason": ""}
    )
    assert response.status_code == 400
    assert member.phone not in response.content.decode()
    assert not OperationLog.objects.filter(action="member.unmask").exists()


def test_suspending_from_the_console_needs_a_reason(client, clinic_admin, levels):
    schedule = ScheduleFactory(fee=0)
    book_appointment(member=MemberFactory(), schedule=schedule, channel="web")
    client.force_login(clinic_admin)
    url = reverse("staff:schedule_suspend", args=[schedule.pk])
    client.post(url, {"reason": " "})
    assert Schedule.objects.get(pk=schedule.pk).status == "published"
    client.post(url, {"reason": "专家外出会诊"})
    schedule.refresh_from_db()
    assert (schedule.status, schedule.booked) == ("suspended", 0)


def test_the_front_desk_books_for_a_member_within_their_rules(client, front_desk, levels):
    member = MemberFactory(banned_until=timezone.now() + dt.timedelta(days=3))
    schedule = ScheduleFactory(fee=0)
    client.force_login(front_desk)
    url = reverse("staff:member_book", args=[member.pk])
    response = client.post(url, {"schedule": schedule.pk, "override_reason": "特批"})
    assert response.status_code == 302
    assert not Appointment.objects.filter(member=member).exists()  # no override permission
    client.post(url, {"schedule": schedule.pk})
    assert not Appointment.objects.filter(member=member).exists()  # banned: the rules hold
