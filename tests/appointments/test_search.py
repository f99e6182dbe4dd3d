"""Finding a doctor: search by alias, pinyin, initials and English name over the demo clinic,
ranked; the home page's department grid with "有号" counts, its filter and its pages."""

from __future__ import annotations

import datetime as dt
import io
import time

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone

from appointments import selectors
from appointments.models import Department, Doctor
from demo.management.commands.seed_demo import Command
from medbook.clinic import clinic_profile
from tests.appointments.factories import DepartmentFactory, DoctorFactory, ScheduleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_clinic() -> None:
    """The demo's departments (with their aliases and English names) and doctors, loaded by
    the demo seed itself."""
    command = Command(stdout=io.StringIO())
    command.started = time.monotonic()
    command.load_departments_and_doctors()


def found(query: str) -> tuple[list[str], list[str]]:
    now = timezone.now()
    departments = [d.code for d in selectors.search_departments(query=query, now=now)]
    doctors = [d.name for d in selectors.search_doctors(query=query, now=now)]
    return departments, doctors


@pytest.mark.parametrize("query", ["心内", "xinnei", "XinNei", "心血管", "xxgnk", "cardiology"])
def test_it_finds_cardiology_by_alias_pinyin_initials_and_english(demo_clinic, query) -> None:
    departments, doctors = found(query)

    assert departments[0] == "cardiology"
    assert "王建国" in doctors


@pytest.mark.parametrize("query", ["wjg", "wangjianguo", "Wang Jianguo", "王建国", "wangjian"])
def test_it_finds_the_doctor_by_name_pinyin_and_initials_first(demo_clinic, query) -> None:
    _, doctors = found(query)

    assert doctors[0] == "王建国"


def test_exact_names_come_before_prefixes_before_the_rest_then_departments(client) -> None:
    department = DepartmentFactory(name="王建科", code="wjk")
    DoctorFactory(name="李王建")
    DoctorFactory(name="王建国")
    DoctorFactory(name="王建")
    DoctorFactory(name="张三", department=department)

    _, doctors = found("wangjian")

    assert doctors == ["王建", "王建国", "李王建", "张三"]


def test_a_surname_is_found_read_as_a_surname(client) -> None:
    DoctorFactory(name="曾小贤")
    DoctorFactory(name="单田芳")

    assert found("zengxiaoxian")[1] == ["曾小贤"] == found("zxx")[1]
    assert found("shantianfang")[1] == ["单田芳"] == found("stf")[1]


def test_renaming_a_department_renews_its_keys(client) -> None:
    department = DepartmentFactory(name="心血管内科")
    department.aliases = "心内"
    department.save(update_fields=["aliases"])

    department.refresh_from_db()
    assert " xinnei " in department.search_keys


def test_the_data_migration_fills_keys_of_existing_rows(client) -> None:
    from importlib import import_module

    migration = import_module("appointments.migrations.0008_search_keys")
    DoctorFactory(name="王建国", department=DepartmentFactory(name="消化内科", aliases="消化"))
    Doctor.objects.update(search_keys="")
    Department.objects.update(search_keys="")

    migration.fill_search_keys(apps, None)

    assert " wjg " in Doctor.objects.get().search_keys
    assert " xiaohua " in Department.objects.get().search_keys


def test_the_api_doctor_list_searches_the_same_way(client, demo_clinic) -> None:
    response = client.get("/api/v1/doctors/", {"q": "wjg"})

    assert response.status_code == 200
    assert response.json()[0]["name"] == "王建国"


def test_the_search_page_shows_the_department_and_its_doctors(client, demo_clinic) -> None:
    page = client.get(reverse("appointments:home"), {"q": "xinnei"}).content.decode()

    assert "心血管内科" in page and "王建国" in page


def open_session(doctor: Doctor, days: int = 2) -> None:
    ScheduleFactory(doctor=doctor, date=timezone.localdate() + dt.timedelta(days=days))


def test_the_grid_counts_doctors_with_slots_in_the_next_days(client) -> None:
    cardiology = DepartmentFactory(name="心血管内科", code="cardiology")
    open_session(DoctorFactory(department=cardiology))
    open_session(DoctorFactory(department=cardiology), days=10)  # beyond the window
    DoctorFactory(department=cardiology)
    DepartmentFactory(name="骨科", code="orthopedics")

    counts = {
        d.code: (d.open_doctors, d.doctor_count)
        for d in selectors.departments_with_open_counts(now=timezone.now())
    }
    page = client.get(reverse("appointments:home")).content.decode()

    assert counts == {"cardiology": (1, 3), "orthopedics": (0, 0)}
    assert "1 位医生有号" in page and "暂无号" in page


def test_only_with_slots_shows_doctors_with_open_sessions(client) -> None:
    open_session(DoctorFactory(name="有号医生"))
    DoctorFactory(name="无号医生")

    page = client.get(reverse("appointments:home"), {"open_only": "on"}).content.decode()

    assert "有号医生" in page and "无号医生" not in page


def test_a_department_card_lists_that_departments_doctors(client) -> None:
    DoctorFactory(name="甲医生", department=DepartmentFactory(code="a"))
    DoctorFactory(name="乙医生", department=DepartmentFactory(code="b"))

    page = client.get(reverse("appointments:home"), {"department": "a"}).content.decode()

    assert "甲医生" in page and "乙医生" not in page


def test_the_doctor_list_comes_a_page_at_a_time(client) -> None:
    department = DepartmentFactory()
    for n in range(30):
        DoctorFactory(name=f"医生{n:02d}", department=department)

    first = client.get(reverse("appointments:home")).context["page"]
    last = client.get(reverse("appointments:home"), {"page": "3"}).context["page"]

    assert len(first.object_list) == 12 and len(last.object_list) == 6
    assert first.paginator.num_pages == 3


@pytest.mark.parametrize(
    "params", [{"page": "abc"}, {"page": "-1"}, {"department": "<x>"}, {"open_only": "x" * 900}]
)
def test_odd_filters_still_show_the_page(client, params) -> None:
    assert client.get(reverse("appointments:home"), params).status_code == 200


def test_the_home_page_query_count_does_not_grow(client, django_assert_max_num_queries) -> None:
    for n in range(8):
        department = DepartmentFactory()
        for _ in range(4):
            open_session(DoctorFactory(department=department), days=1 + n % 5)
    clinic_profile()  # the footer's clinic details: from the cache

    with django_assert_max_num_queries(3):
        assert client.get(reverse("appointments:home"), {"open_only": "on"}).status_code == 200


# -- clinic admins keep the aliases ---------------------------------------------------------------


def edit_form(department: Department, **changes: str) -> dict[str, str]:
    return {
        "name": department.name,
        "name_en": department.name_en,
        "aliases": department.aliases,
        "location": department.location,
        "description": department.description,
        "sort_order": str(department.sort_order),
        "is_active": "on",
        **changes,
    }


def test_a_clinic_admin_adds_an_alias_and_search_finds_it(client, clinic_admin) -> None:
    from medbook.models import OperationLog

    department = DepartmentFactory(name="神经内科", code="neurology")
    DoctorFactory(name="周医生", department=department)
    client.force_login(clinic_admin)
    url = reverse("staff:department_edit", args=["neurology"])

    response = client.post(url, edit_form(department, aliases="神内, 神经科"))

    assert response.status_code == 302
    assert found("神内") == (["neurology"], ["周医生"])
    assert found("shennei")[0] == ["neurology"]
    (row,) = OperationLog.objects.filter(action="department.change")
    assert row.detail == {"aliases": "神内, 神经科"}


def test_a_bad_department_edit_is_refused_and_changes_nothing(client, clinic_admin) -> None:
    department = DepartmentFactory(name="神经内科", code="neurology")
    DepartmentFactory(name="骨科")
    client.force_login(clinic_admin)
    url = reverse("staff:department_edit", args=["neurology"])

    response = client.post(url, edit_form(department, name="骨科", aliases="x" * 201))

    assert response.status_code == 400
    department.refresh_from_db()
    assert department.name == "神经内科" and department.aliases == ""
    assert client.get(reverse("staff:department_edit", args=["nope"])).status_code == 404
