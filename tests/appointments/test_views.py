"""The public pages (departments and doctors) and Django admin, for every kind of visitor."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from medbook.clinic import clinic_profile
from tests.appointments.factories import DoctorFactory, ScheduleFactory
from tests.conftest import enable_totp
from tests.members.factories import MemberFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser():
    user = UserFactory(is_staff=True, is_superuser=True)
    enable_totp(user)
    return user


@pytest.fixture
def visitors(client, member, superuser):
    """A fresh client logged in as each kind of visitor (None: anonymous)."""

    def login(who):
        client.logout()
        if who == "member":
            client.force_login(member.user)
        elif who == "superuser":
            client.force_login(superuser)
        return client

    return login


@pytest.mark.parametrize("who", [None, "member", "superuser"])
def test_everyone_sees_departments_and_doctors(visitors, who) -> None:
    doctor = DoctorFactory(name="王建国")
    ScheduleFactory(doctor=doctor)

    home = visitors(who).get(reverse("appointments:home"))
    detail = visitors(who).get(reverse("appointments:doctor_detail", args=[doctor.pk]))

    assert home.status_code == 200
    assert "王建国" in home.content.decode()
    assert detail.status_code == 200
    assert "剩余 10 个号" in detail.content.decode()


def test_an_inactive_or_unknown_doctor_is_not_found(client, levels) -> None:
    doctor = DoctorFactory(is_active=False)

    assert client.get(reverse("appointments:doctor_detail", args=[doctor.pk])).status_code == 404
    assert client.get(reverse("appointments:doctor_detail", args=[99999])).status_code == 404


def test_public_pages_only_answer_get(client, levels) -> None:
    assert client.post(reverse("appointments:home")).status_code == 405


def test_the_home_page_costs_two_queries_whatever_the_size(
    client, levels, django_assert_num_queries
):
    for _ in range(5):
        DoctorFactory()
    clinic_profile()  # the footer's clinic details: from the cache, read once per 5 minutes

    # The department grid and the doctors (one list, cached with the grid:
    # appointments/catalogue_cache.py); the next visit within the minute reads neither.
    with django_assert_num_queries(2):
        assert client.get(reverse("appointments:home")).status_code == 200
    with django_assert_num_queries(0):
        assert client.get(reverse("appointments:home")).status_code == 200


def test_the_doctor_page_costs_a_fixed_number_of_queries(client, levels, django_assert_num_queries):
    doctor = DoctorFactory()
    for day in range(1, 8):
        ScheduleFactory(doctor=doctor, date=timezone.localdate() + dt.timedelta(days=day))
    clinic_profile()  # the footer's clinic details: from the cache, read once per 5 minutes

    with django_assert_num_queries(2):
        assert (
            client.get(reverse("appointments:doctor_detail", args=[doctor.pk])).status_code == 200
        )


ADMIN_PAGES = [
    "admin:members_member_changelist",
    "admin:members_memberlevel_changelist",
    "admin:members_pointsentry_changelist",
    "admin:members_user_changelist",
    "admin:members_message_changelist",
    "admin:appointments_department_changelist",
    "admin:appointments_doctor_changelist",
    "admin:appointments_scheduletemplate_changelist",
    "admin:appointments_schedule_changelist",
    "admin:appointments_appointment_changelist",
    "admin:billing_order_changelist",
    "admin:billing_gatewaynotification_changelist",
    "admin:billing_refund_changelist",
    "admin:billing_sandboxtrade_changelist",
    "admin:billing_sandboxrefund_changelist",
    "admin:billing_settlement_changelist",
]


@pytest.mark.parametrize("name", ADMIN_PAGES)
def test_admin_pages_are_for_staff_only(visitors, name) -> None:
    url = reverse(name)

    assert visitors(None).get(url).status_code == 302
    assert visitors("member").get(url).status_code == 302
    assert visitors("superuser").get(url).status_code == 200


def test_admin_shows_phones_masked_and_finds_a_member_by_full_phone(visitors, levels) -> None:
    member = MemberFactory(name="赵敏", phone="+8613912345678")
    MemberFactory(name="周芷若")
    client = visitors("superuser")

    listing = client.get(reverse("admin:members_member_changelist"), {"q": "139 1234 5678"})
    detail = client.get(reverse("admin:members_member_change", args=[member.pk]))

    page = listing.content.decode()
    assert "139****5678" in page
    assert "13912345678" not in page
    assert "赵敏" in page and "周芷若" not in page
    assert "13912345678" not in detail.content.decode()
    assert "139****5678" in detail.content.decode()


def test_pages_are_in_chinese_whatever_the_browser_prefers(client, levels) -> None:
    response = client.get(reverse("appointments:home"), headers={"accept-language": "en-US"})

    assert "预约挂号" in response.content.decode()
    assert response["Content-Language"] == "zh-hans"


def test_the_language_switch_remembers_english(client, levels) -> None:
    client.post(reverse("set_language"), {"language": "en", "next": "/"})

    assert "Book a doctor" in client.get(reverse("appointments:home")).content.decode()


def test_doctors_are_listed_by_seniority(client, levels) -> None:
    department = DoctorFactory(name="钱三", title="resident").department
    DoctorFactory(name="钱一", title="chief", department=department)
    DoctorFactory(name="钱二", title="attending", department=department)

    page = client.get(reverse("appointments:home")).content.decode()

    assert page.index("钱一") < page.index("钱二") < page.index("钱三")


def test_an_admin_edit_of_a_schedule_keeps_the_live_booked_counter(visitors, member) -> None:
    from appointments.models import Schedule
    from appointments.services import book_appointment

    schedule = ScheduleFactory(capacity=10, room="1诊室")
    client = visitors("superuser")
    url = reverse("admin:appointments_schedule_change", args=[schedule.pk])
    local_release = timezone.localtime(schedule.release_at)
    form = {
        "doctor": schedule.doctor_id,
        "date": schedule.date.isoformat(),
        "session": schedule.session,
        "start_time": "08:00",
        "end_time": "11:30",
        "capacity": 10,
        "minutes_per_visit": 15,
        "room": "9诊室",
        "fee": "50.00",
        "status": "published",
        "release_at_0": local_release.date().isoformat(),
        "release_at_1": local_release.strftime("%H:%M:%S"),
        "suspended_reason": "",
    }
    client.get(url)
    book_appointment(member=member, schedule=schedule, channel="web")

    response = client.post(url, form)

    assert response.status_code == 302, response.content.decode()[:2000]
    schedule = Schedule.objects.get(pk=schedule.pk)
    assert (schedule.room, schedule.booked) == ("9诊室", 1)
