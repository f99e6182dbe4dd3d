"""Linking a login to a doctor when another doctor has it (issue 17, part 7): the console says
which doctor holds it and moves it only when staff tick the box."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from appointments import exceptions as errors
from appointments import services
from appointments.models import Doctor
from medbook.models import OperationLog
from members.models import User
from tests.appointments.factories import DoctorFactory
from tests.appointments.test_concurrency import run_in_threads
from tests.conftest import staff_user

pytestmark = pytest.mark.django_db


def form_data(doctor: Doctor, **changes) -> dict:
    data = {
        "name": doctor.name,
        "department": doctor.department_id,
        "title": doctor.title,
        "introduction": "",
        "specialties": "",
        "registration_fee": "50.00",
        "is_active": "on",
        "user": "",
    }
    data.update(changes)
    return data


def test_it_names_the_doctor_who_holds_the_login_and_changes_nothing(
    client, clinic_admin, doctor_user
):
    other = DoctorFactory(name="李医生")
    client.force_login(clinic_admin)
    response = client.post(
        reverse("staff:doctor_edit", args=[other.pk]), form_data(other, user=doctor_user.pk)
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "王医生" in page and "已存在" not in page
    assert 'name="move_login"' in page
    assert Doctor.objects.get(user=doctor_user).name == "王医生"


def test_ticking_the_box_moves_the_login_and_logs_it(client, clinic_admin, doctor_user):
    other = DoctorFactory(name="李医生")
    client.force_login(clinic_admin)
    response = client.post(
        reverse("staff:doctor_edit", args=[other.pk]),
        form_data(other, user=doctor_user.pk, move_login="on"),
    )
    assert response.status_code == 302
    assert Doctor.objects.get(user=doctor_user).name == "李医生"
    assert Doctor.objects.get(name="王医生").user is None
    moved = OperationLog.objects.filter(action="doctor.change", target_label__contains="王医生")
    assert moved.exists()


def test_a_new_doctor_can_take_a_login_only_when_told_to(clinic_admin, doctor_user):
    holder = Doctor.objects.get(user=doctor_user)
    fields = {
        "name": "赵医生",
        "department": holder.department,
        "title": holder.title,
        "introduction": "",
        "specialties": "",
        "registration_fee": Decimal("30.00"),
        "is_active": True,
        "allows_extra_numbers": False,
        "user": doctor_user,
    }
    with pytest.raises(errors.LoginHeldByAnotherDoctor, match="王医生"):
        services.add_doctor(by=clinic_admin, fields=fields)
    assert not Doctor.objects.filter(name="赵医生").exists()

    services.add_doctor(by=clinic_admin, fields=fields, move_login=True)
    assert Doctor.objects.get(user=doctor_user).name == "赵医生"


def test_saving_a_doctor_with_their_own_login_needs_no_tick(client, clinic_admin, doctor_user):
    holder = Doctor.objects.get(user=doctor_user)
    client.force_login(clinic_admin)
    response = client.post(
        reverse("staff:doctor_edit", args=[holder.pk]),
        form_data(holder, user=doctor_user.pk, specialties="高血压"),
    )
    assert response.status_code == 302
    holder.refresh_from_db()
    assert (holder.user_id, holder.specialties) == (doctor_user.pk, "高血压")


def doctor_fields(doctor: Doctor, **changes) -> dict:
    fields = {
        "name": doctor.name,
        "department": doctor.department,
        "title": doctor.title,
        "introduction": doctor.introduction,
        "specialties": doctor.specialties,
        "registration_fee": doctor.registration_fee,
        "is_active": doctor.is_active,
        "allows_extra_numbers": doctor.allows_extra_numbers,
        "user": doctor.user,
    }
    fields.update(changes)
    return fields


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_crosswise_moves_at_once_neither_deadlock_nor_share_a_login(clinic_admin):
    first_login, second_login = staff_user("doc1", "医生"), staff_user("doc2", "医生")
    first = DoctorFactory(name="甲医生", user=first_login)
    second = DoctorFactory(name="乙医生", user=second_login)

    def move(doctor_id: int, login_id: int):
        def job():
            doctor = Doctor.objects.select_related("department", "user").get(pk=doctor_id)
            login = User.objects.get(pk=login_id)
            return services.change_doctor(
                doctor=doctor,
                by=clinic_admin,
                fields=doctor_fields(doctor, user=login),
                move_login=True,
            )

        return job

    for _ in range(5):
        results = run_in_threads([move(first.pk, second_login.pk), move(second.pk, first_login.pk)])
        assert all(isinstance(result, Doctor) for result in results), results
        holders = dict(
            Doctor.objects.filter(pk__in=[first.pk, second.pk]).values_list("pk", "user")
        )
        assert holders == {first.pk: second_login.pk, second.pk: first_login.pk}
        # Back to the start for the next round.
        Doctor.objects.filter(pk__in=[first.pk, second.pk]).update(user=None)
        Doctor.objects.filter(pk=first.pk).update(user=first_login)
        Doctor.objects.filter(pk=second.pk).update(user=second_login)
