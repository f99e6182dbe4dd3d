"""Issue 14: the catalogue API — departments, doctors by department and by search, and a
doctor's sessions with what the caller can do, from the doctor page's own selectors."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.api.helpers import call, error, pair_for
from tests.appointments import factories as appointments
from tests.appointments.factories import DepartmentFactory, DoctorFactory, ScheduleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinic(levels):
    internal = DepartmentFactory(code="internal", name="内科", sort_order=1)
    surgery = DepartmentFactory(code="surgery", name="外科", sort_order=2)
    DepartmentFactory(code="closed", name="停用科室", is_active=False)
    wang = DoctorFactory(name="王建国", department=internal, title="chief", specialties="高血压")
    li = DoctorFactory(name="李明", department=internal, title="resident")
    zhao = DoctorFactory(name="赵强", department=surgery, title="attending")
    DoctorFactory(name="离职医生", department=internal, is_active=False)
    return {"internal": internal, "surgery": surgery, "wang": wang, "li": li, "zhao": zhao}


def test_it_lists_active_departments_in_the_clinics_order(client, clinic) -> None:
    response = call(client, "get", "departments")
    assert response.status_code == 200
    assert [d["code"] for d in response.json()] == ["internal", "surgery"]


def test_it_lists_doctors_by_seniority_and_filters_them(client, clinic) -> None:
    names = [d["name"] for d in call(client, "get", "doctors").json()]
    assert names == ["王建国", "赵强", "李明"]
    internal = call(client, "get", "doctors", query={"department": "internal"}).json()
    assert [d["name"] for d in internal] == ["王建国", "李明"]
    assert internal[0]["department"]["name"] == "内科"
    assert internal[0]["title_label"]
    found = call(client, "get", "doctors", query={"q": "高血压"}).json()
    assert [d["name"] for d in found] == ["王建国"]
    found = call(client, "get", "doctors", query={"q": "赵"}).json()
    assert [d["name"] for d in found] == ["赵强"]
    assert call(client, "get", "doctors", query={"department": "closed"}).json() == []


def test_doctor_filters_refuse_bad_input(client, clinic) -> None:
    response = call(client, "get", "doctors", query={"department": "not a slug!"})
    assert error(response) == (400, "invalid")
    assert list(response.json()["error"]["fields"]) == ["department"]


def test_an_empty_search_or_department_lists_every_doctor(client, clinic) -> None:
    """An app's empty search box and its "all departments" (the schema allows both)."""
    everyone = [d["name"] for d in call(client, "get", "doctors").json()]
    empty = call(client, "get", "doctors", query={"q": "", "department": ""})
    assert [d["name"] for d in empty.json()] == everyone


@pytest.mark.parametrize("query", [{"days": ""}, {"start": ""}, {"days": "0"}, {"days": "1.5"}])
def test_a_session_filter_sent_empty_is_checked_not_ignored(client, clinic, query) -> None:
    response = _sessions(client, clinic["wang"], **query)
    assert error(response) == (400, "invalid")
    assert list(response.json()["error"]["fields"]) == list(query)


def test_the_doctor_list_is_one_query(client, clinic, django_assert_num_queries) -> None:
    with django_assert_num_queries(1):
        assert call(client, "get", "doctors").status_code == 200


def test_an_inactive_doctor_is_not_found(client, clinic) -> None:
    gone = DoctorFactory(name="停诊", department=clinic["internal"], is_active=False)
    assert error(call(client, "get", "doctor", args=[gone.pk])) == (404, "not_found")
    assert call(client, "get", "doctor", args=[clinic["wang"].pk]).json()["name"] == "王建国"


def _sessions(client, doctor, token=None, **query):
    return call(client, "get", "doctor_sessions", args=[doctor.pk], token=token, query=query)


def test_sessions_show_live_availability_for_the_public(client, clinic, other_member) -> None:
    wang = clinic["wang"]
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    open_one = ScheduleFactory(doctor=wang, date=tomorrow, capacity=2, fee=Decimal("30.00"))
    full = ScheduleFactory(doctor=wang, date=tomorrow + dt.timedelta(days=1), capacity=1)
    appointments.book(other_member, full)
    later = ScheduleFactory(
        doctor=wang,
        date=tomorrow + dt.timedelta(days=2),
        release_at=timezone.now() + dt.timedelta(days=1),
    )
    response = _sessions(client, wang)
    assert response.status_code == 200
    rows = {row["id"]: row for row in response.json()}
    assert rows[open_one.pk]["availability"]["state"] == "bookable"
    assert rows[open_one.pk]["availability"]["remaining"] == 2
    assert rows[open_one.pk]["availability"]["can_book"] is True
    assert rows[open_one.pk]["fee"] == "30.00"
    assert rows[full.pk]["availability"]["state"] == "full"
    assert rows[full.pk]["availability"]["remaining"] == 0
    assert rows[full.pk]["availability"]["reason_code"] == "sold_out"
    assert rows[later.pk]["availability"]["state"] == "not_open"
    assert rows[later.pk]["availability"]["can_book"] is False
    assert rows[later.pk]["availability"]["reason_code"]
    assert response["Cache-Control"] == "no-cache"


def test_a_members_token_shows_their_own_limits(client, clinic, member) -> None:
    wang = clinic["wang"]
    schedule = ScheduleFactory(doctor=wang, date=timezone.localdate() + dt.timedelta(days=1))
    appointments.book(member, schedule)
    public = {r["id"]: r for r in _sessions(client, wang).json()}[schedule.pk]
    assert public["availability"]["can_book"] is True
    access = pair_for(member.user).access
    response = _sessions(client, wang, token=access)
    own = {r["id"]: r for r in response.json()}[schedule.pk]
    assert own["availability"]["can_book"] is False
    assert own["availability"]["reason_code"] == "already_booked"
    assert own["availability"]["remaining"] == public["availability"]["remaining"]
    assert {"private", "no-cache", "no-store"} <= set(response["Cache-Control"].split(", "))


def test_sessions_take_a_window(client, clinic) -> None:
    wang = clinic["wang"]
    today = timezone.localdate()
    near = ScheduleFactory(doctor=wang, date=today + dt.timedelta(days=1))
    far = ScheduleFactory(doctor=wang, date=today + dt.timedelta(days=20))
    ids = [r["id"] for r in _sessions(client, wang).json()]
    assert near.pk in ids and far.pk not in ids
    ids = [
        r["id"]
        for r in _sessions(client, wang, start=str(today + dt.timedelta(days=19)), days=3).json()
    ]
    assert ids == [far.pk]


@pytest.mark.parametrize(
    "query",
    [
        {"days": "0"},
        {"days": "29"},
        {"days": "x"},
        {"start": "2026-13-01"},
        {"start": "0001-01-01"},
    ],
)
def test_session_windows_refuse_bad_input(client, clinic, query) -> None:
    assert error(_sessions(client, clinic["wang"], **query))[0] == 400


def test_sessions_of_an_unknown_doctor_are_not_found(client, clinic) -> None:
    assert error(call(client, "get", "doctor_sessions", args=[999999])) == (404, "not_found")
