"""The clinic's setup from the staff console (appointments.services.setup): every change is one
service that writes its operation-log row, including the two that used to skip it (removing a
holiday, switching a weekly template off)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from appointments import exceptions as errors
from appointments import services
from appointments.choices import DoctorTitle, ScheduleStatus, Session
from appointments.models import (
    Department,
    Doctor,
    Holiday,
    ReleaseRule,
    Schedule,
    ScheduleTemplate,
    TitleFee,
)
from medbook.errors import Invalid
from medbook.models import OperationLog
from tests.appointments.factories import DepartmentFactory, DoctorFactory, ScheduleFactory
from tests.conftest import started_ago
from tests.members.factories import MemberFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def logged(action: str) -> list[OperationLog]:
    return list(OperationLog.objects.filter(action=action).order_by("pk"))


def weekly(doctor: Doctor, **fields) -> ScheduleTemplate:
    values = {
        "doctor": doctor,
        "weekday": 0,
        "session": Session.MORNING,
        "start_time": dt.time(8, 0),
        "end_time": dt.time(11, 30),
        "capacity": 10,
        "minutes_per_visit": 15,
        "room": "101",
        "fee": None,
    }
    return ScheduleTemplate.objects.create(**{**values, **fields})


# -- weekly templates -----------------------------------------------------------------------------


def test_adding_a_template_is_logged(clinic_admin) -> None:
    doctor = DoctorFactory()

    template = services.add_schedule_template(
        by=clinic_admin,
        fields={
            "doctor": doctor,
            "weekday": 2,
            "session": Session.AFTERNOON,
            "start_time": dt.time(14, 0),
            "end_time": dt.time(17, 0),
            "capacity": 12,
            "minutes_per_visit": 15,
            "room": "203",
            "fee": None,
        },
    )

    (row,) = logged("schedule_template.add")
    assert (row.actor, row.target_id) == (clinic_admin, str(template.pk))


def test_a_second_template_for_the_same_session_is_refused_and_not_logged(clinic_admin) -> None:
    doctor = DoctorFactory()
    weekly(doctor)

    with pytest.raises(Invalid):
        services.add_schedule_template(
            by=clinic_admin,
            fields={
                "doctor": doctor,
                "weekday": 0,
                "session": Session.MORNING,
                "start_time": dt.time(9, 0),
                "end_time": dt.time(11, 0),
                "capacity": 5,
                "minutes_per_visit": 15,
                "room": "",
                "fee": None,
            },
        )

    assert ScheduleTemplate.objects.count() == 1
    assert logged("schedule_template.add") == []


def test_switching_a_template_off_from_the_page_is_logged_and_keeps_its_sessions(
    client, clinic_admin
) -> None:
    template = weekly(DoctorFactory())
    session = ScheduleFactory(doctor=template.doctor, template=template)
    client.force_login(clinic_admin)

    response = client.post(
        reverse("staff:templates"), {"action": "delete_template", "pk": template.pk}
    )

    assert response.status_code == 302
    template.refresh_from_db()
    assert template.is_active is False
    assert Schedule.objects.filter(pk=session.pk).exists()
    (row,) = logged("schedule_template.deactivate")
    assert (row.actor, row.target_type, row.target_id) == (
        clinic_admin,
        "appointments.scheduletemplate",
        str(template.pk),
    )


def test_switching_off_a_template_that_is_off_or_gone_logs_nothing(clinic_admin) -> None:
    template = weekly(DoctorFactory(), is_active=False)

    assert services.deactivate_schedule_template(by=clinic_admin, pk=template.pk) == template
    assert services.deactivate_schedule_template(by=clinic_admin, pk=999_999) is None
    assert logged("schedule_template.deactivate") == []


# -- building and releasing sessions --------------------------------------------------------------


def test_building_sessions_is_logged_with_its_counts(clinic_admin, levels) -> None:
    department = DepartmentFactory()
    weekly(DoctorFactory(department=department), weekday=0)
    weekly(DoctorFactory(), weekday=0)  # another department: not built
    today = timezone.localdate()
    monday = today + dt.timedelta(days=7 - today.weekday())

    result = services.build_sessions(by=clinic_admin, start=monday, weeks=2, department=department)

    assert result.created == 2
    assert Schedule.objects.filter(doctor__department=department).count() == 2
    (row,) = logged("schedule.generate")
    assert row.target_id == str(department.pk)
    assert row.detail == {
        "start": monday.isoformat(),
        "weeks": 2,
        "created": 2,
        "existing": 0,
        "holidays": 0,
    }


def test_running_the_release_job_from_the_console_is_logged(clinic_admin, levels) -> None:
    ScheduleFactory(
        status=ScheduleStatus.DRAFT, release_at=timezone.now() - dt.timedelta(minutes=1)
    )

    assert services.release_now(by=clinic_admin) == 1

    (row,) = logged("schedule.release")
    assert (row.actor, row.detail) == (clinic_admin, {"released": 1})


# -- holidays and the release rule -----------------------------------------------------------------


def test_removing_a_holiday_from_the_page_is_logged(client, clinic_admin) -> None:
    holiday = Holiday.objects.create(date=dt.date(2030, 10, 1), name="国庆节")
    client.force_login(clinic_admin)

    response = client.post(
        reverse("staff:templates"), {"action": "delete_holiday", "pk": holiday.pk}
    )

    assert response.status_code == 302
    assert not Holiday.objects.exists()
    (row,) = logged("holiday.remove")
    assert (row.actor, row.target_type, row.target_id) == (
        clinic_admin,
        "appointments.holiday",
        str(holiday.pk),
    )
    assert "国庆节" in row.target_label


def test_removing_a_holiday_that_is_gone_changes_and_logs_nothing(clinic_admin) -> None:
    assert services.remove_holiday(by=clinic_admin, pk=999_999) is False
    assert logged("holiday.remove") == []


def test_adding_a_holiday_is_logged_and_a_second_one_that_day_is_refused(clinic_admin) -> None:
    services.add_holiday(by=clinic_admin, date=dt.date(2030, 10, 1), name="国庆节")

    with pytest.raises(Invalid) as refused:
        services.add_holiday(by=clinic_admin, date=dt.date(2030, 10, 1), name="again")

    assert refused.value.field == "date"
    assert Holiday.objects.count() == 1
    assert len(logged("holiday.add")) == 1


def test_changing_the_release_rule_is_logged(client, clinic_admin) -> None:
    client.force_login(clinic_admin)

    response = client.post(
        reverse("staff:templates"),
        {"action": "rule", "days_ahead": 5, "release_time": "07:30"},
    )

    assert response.status_code == 302
    rule = ReleaseRule.current()
    assert (rule.days_ahead, rule.release_time) == (5, dt.time(7, 30))
    (row,) = logged("release_rule.change")
    assert row.detail == {"days_ahead": 5, "release_time": "07:30"}


# -- departments, fees by title, doctors -----------------------------------------------------------


def test_adding_a_department_from_the_page_is_logged(client, clinic_admin) -> None:
    client.force_login(clinic_admin)

    response = client.post(
        reverse("staff:doctors"),
        {"action": "department", "code": "derm", "name": "皮肤科", "sort_order": 3},
    )

    assert response.status_code == 302
    department = Department.objects.get(code="derm")
    (row,) = logged("department.add")
    assert (row.actor, row.target_id) == (clinic_admin, str(department.pk))


def test_setting_a_title_fee_is_logged_with_the_fee_before(client, clinic_admin) -> None:
    client.force_login(clinic_admin)
    TitleFee.objects.create(title=DoctorTitle.CHIEF, fee=Decimal("80.00"))

    response = client.post(
        reverse("staff:doctors"), {"action": "fee", "title": DoctorTitle.CHIEF, "fee": "100.00"}
    )

    assert response.status_code == 302
    assert TitleFee.objects.get(title=DoctorTitle.CHIEF).fee == Decimal("100.00")
    (row,) = logged("title_fee.change")
    assert row.detail == {"title": DoctorTitle.CHIEF, "fee": "100.00", "before": "80.00"}


def test_a_new_doctor_with_no_fee_takes_the_fee_of_their_title(client, clinic_admin) -> None:
    TitleFee.objects.create(title=DoctorTitle.CHIEF, fee=Decimal("90.00"))
    department = DepartmentFactory()
    client.force_login(clinic_admin)

    response = client.post(
        reverse("staff:doctor_new"),
        {
            "name": "李主任",
            "department": department.pk,
            "title": DoctorTitle.CHIEF,
            "registration_fee": "0",
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    doctor = Doctor.objects.get(name="李主任")
    assert doctor.registration_fee == Decimal("90.00")
    (row,) = logged("doctor.add")
    assert row.target_id == str(doctor.pk)


def test_editing_a_doctor_logs_what_changed_and_an_unchanged_save_writes_nothing(
    clinic_admin,
) -> None:
    doctor = DoctorFactory(name="王医生", registration_fee=Decimal("50.00"))
    fields = {
        "name": "王医生",
        "department": doctor.department,
        "title": doctor.title,
        "introduction": "",
        "specialties": "",
        "registration_fee": Decimal("60.00"),
        "is_active": True,
        "allows_extra_numbers": False,
        "user": None,
    }

    services.change_doctor(doctor=doctor, by=clinic_admin, fields=fields)
    services.change_doctor(doctor=doctor, by=clinic_admin, fields=fields)

    doctor.refresh_from_db()
    assert doctor.registration_fee == Decimal("60.00")
    (row,) = logged("doctor.change")
    assert row.detail == {"registration_fee": "60.00"}


# -- one session ---------------------------------------------------------------------------------


def test_editing_a_session_is_logged(client, clinic_admin, levels) -> None:
    opened = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(days=1)
    schedule = ScheduleFactory(capacity=10, release_at=opened)
    client.force_login(clinic_admin)

    response = client.post(
        reverse("staff:schedule_edit", args=[schedule.pk]),
        {
            "start_time": "08:00",
            "end_time": "11:30",
            "capacity": 12,
            "minutes_per_visit": 15,
            "room": "",
            "fee": "50.00",
            "release_at": timezone.localtime(schedule.release_at).strftime("%Y-%m-%dT%H:%M"),
            "status": ScheduleStatus.PUBLISHED,
        },
    )

    assert response.status_code == 302
    (row,) = logged("schedule.change")
    assert (row.actor, row.target_id, row.detail) == (
        clinic_admin,
        str(schedule.pk),
        {"capacity": 12},
    )


def test_a_refused_session_edit_is_not_logged(clinic_admin, levels) -> None:
    schedule = ScheduleFactory(capacity=10, booked=4)

    with pytest.raises(Invalid):
        services.change_schedule(schedule=schedule, by=clinic_admin, changes={"capacity": 3})

    assert logged("schedule.change") == []


# -- checking in at the desk ----------------------------------------------------------------------


def test_checking_in_an_unpaid_appointment_is_refused_as_not_paid(levels) -> None:
    schedule = ScheduleFactory(fee=Decimal("50.00"))
    appointment = services.book_appointment(
        member=MemberFactory(), schedule=schedule, channel="web"
    )

    with pytest.raises(errors.NotPaidYet):
        services.check_in_patient(appointment=appointment)


def test_todays_board_costs_the_same_queries_for_more_patients(
    client, front_desk, levels, django_assert_max_num_queries
) -> None:
    start = started_ago(dt.timedelta(minutes=5))
    schedule = ScheduleFactory(
        date=start.date(),
        start_time=dt.time(0, 0),
        end_time=dt.time(23, 59),
        fee=0,
        release_at=timezone.now() - dt.timedelta(days=2),
    )
    client.force_login(front_desk)
    services.book_appointment(
        member=MemberFactory(),
        schedule=schedule,
        channel="web",
        now=schedule.starts_at - dt.timedelta(minutes=1),
    )
    client.get(reverse("staff:today"))  # warm the session and permission caches
    with CaptureQueriesContext(connection) as one:
        assert client.get(reverse("staff:today")).status_code == 200
    for _ in range(4):
        services.book_appointment(
            member=MemberFactory(),
            schedule=schedule,
            channel="web",
            now=schedule.starts_at - dt.timedelta(minutes=1),
        )

    with django_assert_max_num_queries(len(one)):
        page = client.get(reverse("staff:today"))

    assert page.content.decode().count('class="button small"') == 5  # five "Check in" buttons
