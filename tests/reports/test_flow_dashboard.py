"""The waiting and flow dashboard on a small clinic worked out by hand (below), through its
selector and its page: average waits and visits, visits per doctor-hour by the hour of the
clinic's clock (an evening visit completed around midnight in Shanghai), the previous period
and the filters."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.urls import reverse

from appointments.choices import AppointmentStatus
from appointments.models import Appointment, Schedule
from reports import services
from reports.models import DailyFlowStat
from reports.selectors import BookingFilters, flow_dashboard
from tests.appointments.factories import DepartmentFactory, DoctorFactory
from tests.members.factories import MemberFactory
from tests.reports.clinic import SHANGHAI, session, visit

pytestmark = pytest.mark.django_db

WEEK = (dt.date(2026, 3, 2), dt.date(2026, 3, 8))


def _at(day: dt.date, hhmm: str | None) -> dt.datetime | None:
    if hhmm is None:
        return None
    hour, minute = map(int, hhmm.split(":"))
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI)


def flow_visit(schedule: Schedule, number: int, checked_in, called, completed, *, next_day=()):
    """An appointment checked in, called and completed at these times of the session's day in
    Shanghai (those named in ``next_day`` on the day after); completed when it has a completion
    time, else still checked in."""
    times = {}
    for name, hhmm in (
        ("checked_in_at", checked_in),
        ("called_at", called),
        ("completed_at", completed),
    ):
        day = schedule.date + dt.timedelta(days=1 if name in next_day else 0)
        times[name] = _at(day, hhmm)
    return Appointment.objects.create(
        member=MemberFactory(),
        schedule=schedule,
        queue_number=number,
        estimated_time=schedule.start_time,
        status=AppointmentStatus.COMPLETED if completed else AppointmentStatus.CHECKED_IN,
        channel="web",
        fee=schedule.fee,
        created_at=_at(schedule.date, "00:00") - dt.timedelta(days=3),
        **times,
    )


@pytest.fixture
def clinic(levels):
    """内科 (doctor A), 儿科 (doctor C); times are Shanghai's.

    ====  =================  ========  =====  =========  =====  =====  ======
    no.   session            check-in  call   completed  wait   visit  hour
    ====  =================  ========  =====  =========  =====  =====  ======
    v1    A Mon 08:00        08:00     08:10  08:25      10     15     8
    v2    A Mon 08:00        08:05     08:35  09:05      30     30     9
    v3    A Mon 08:00        08:20     —      09:10      —      —      9 (no call)
    v4    A Mon 08:00        08:30     09:20  —          50     —      9 (the call's)
    v5    C Tue 20:00        23:00     23:30  23:50      30     20     23 (15:50 UTC)
    v6    C Tue 20:00        23:40     23:55  00:05 Wed  15     10     0, Tuesday's
    v7    A Mon 23 Feb 08:00 08:00     08:20  08:40      20     20     8 (previous week)
    ====  =================  ========  =====  =========  =====  =====  ======

    Plus a no-show and a cancellation in A's Monday session (no times: not in the figures).
    Week: 6 checked in; waits (10 + 30 + 50 + 30 + 15) / 5 = 27.0 min; visits (15 + 30 + 20 +
    10) / 4 = 18.75 → 18.8 min; 5 completed in 4 doctor-hours (A: 8h, 9h on Monday; C: 23h on
    Tuesday and 0h, still Tuesday's session) = 1.25 → 1.3 per doctor-hour. A: wait 30.0, visit
    22.5, 3 in 2 h = 1.5; C: wait 22.5, visit 15.0, 2 in 2 h = 1.0. Previous week: 20.0, 20.0,
    1 in 1 h.
    """
    internal = DepartmentFactory(name="内科", sort_order=1)
    children = DepartmentFactory(name="儿科", sort_order=2)
    a = DoctorFactory(name="A医生", department=internal)
    c = DoctorFactory(name="C医生", department=children)
    monday = session(a, dt.date(2026, 3, 2), dt.time(8), capacity=8)
    flow_visit(monday, 1, "08:00", "08:10", "08:25")
    flow_visit(monday, 2, "08:05", "08:35", "09:05")
    flow_visit(monday, 3, "08:20", None, "09:10")
    flow_visit(monday, 4, "08:30", "09:20", None)
    booked = _at(monday.date, "00:00") - dt.timedelta(days=2)
    visit(monday, MemberFactory(), "no_show", booked_at=booked)
    visit(monday, MemberFactory(), "cancelled", booked_at=booked)
    evening = session(c, dt.date(2026, 3, 3), dt.time(20))
    flow_visit(evening, 1, "23:00", "23:30", "23:50")
    flow_visit(evening, 2, "23:40", "23:55", "00:05", next_day=("completed_at",))
    before = session(a, dt.date(2026, 2, 23), dt.time(8))
    flow_visit(before, 1, "08:00", "08:20", "08:40")
    services.rebuild_rollups(start=dt.date(2026, 2, 1), end=dt.date(2026, 3, 31))
    return {"internal": internal, "children": children, "a": a, "c": c}


def dashboard(**filters):
    return flow_dashboard(filters=BookingFilters(*WEEK, **filters))


def test_the_totals_and_the_previous_period(clinic) -> None:
    board = dashboard()
    totals = board.totals
    assert (totals.arrived, totals.waited, totals.seen, totals.completed) == (6, 5, 4, 5)
    assert totals.average_wait == Decimal("27.0")
    assert totals.average_visit == Decimal("18.8")
    assert totals.doctor_hours == 4
    assert totals.per_hour == Decimal("1.3")
    previous = board.previous
    assert (previous.average_wait, previous.average_visit, previous.per_hour) == (
        Decimal("20.0"),
        Decimal("20.0"),
        Decimal("1.0"),
    )


def test_visits_count_in_the_hour_of_the_clinics_clock_and_the_sessions_day(clinic) -> None:
    rows = {
        (row.date, row.hour): (row.arrived, row.waited, row.seen, row.completed)
        for row in DailyFlowStat.objects.filter(doctor=clinic["c"])
    }
    # 23:50 in Shanghai is 15:50 UTC, and 00:05 the next day still counts on Tuesday.
    assert rows == {(dt.date(2026, 3, 3), 23): (1, 1, 1, 1), (dt.date(2026, 3, 3), 0): (1, 1, 1, 1)}


def test_the_figures_by_day_department_doctor_and_hour(clinic) -> None:
    board = dashboard()
    by_day = {row.key: row.figures for row in board.by_day}
    assert len(board.by_day) == 7
    assert (by_day[dt.date(2026, 3, 2)].completed, by_day[dt.date(2026, 3, 3)].completed) == (3, 2)
    assert by_day[dt.date(2026, 3, 4)].completed == 0
    doctors = {row.label: row.figures for row in board.by_doctor}
    assert (doctors["A医生"].average_wait, doctors["A医生"].average_visit) == (
        Decimal("30.0"),
        Decimal("22.5"),
    )
    assert (doctors["A医生"].doctor_hours, doctors["A医生"].per_hour) == (2, Decimal("1.5"))
    assert (doctors["C医生"].average_wait, doctors["C医生"].per_hour) == (
        Decimal("22.5"),
        Decimal("1.0"),
    )
    assert [row.label for row in board.by_department] == ["内科", "儿科"]
    assert [(row.key, row.figures.completed, row.figures.per_hour) for row in board.by_hour] == [
        (0, 1, Decimal("1.0")),
        (8, 1, Decimal("1.0")),
        (9, 2, Decimal("2.0")),
        (23, 1, Decimal("1.0")),
    ]


def test_department_and_doctor_narrow_the_figures(clinic) -> None:
    assert dashboard(department=clinic["children"]).totals.completed == 2
    assert dashboard(doctor=clinic["a"]).totals.average_wait == Decimal("30.0")


def test_the_selector_reads_the_rollup_in_seven_queries(clinic, django_assert_num_queries):
    with django_assert_num_queries(7):
        flow_dashboard(filters=BookingFilters(dt.date(2025, 3, 9), dt.date(2026, 3, 8)))


def test_the_page_shows_the_headline_and_the_chart_data(client, clinic, clinic_admin) -> None:
    client.force_login(clinic_admin)
    response = client.get(
        reverse("staff:reports_flow"),
        {"range": "custom", "start": "2026-03-02", "end": "2026-03-08"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    headline = {item.name: item for item in response.context["headline"]}
    assert headline["average_wait"].delta == Decimal("7.0")
    assert headline["average_wait"].tone == "bad"  # longer waits
    assert headline["per_hour"].tone == "good"
    page = response.content.decode()
    charts = json.loads(
        page.split('<script id="report-charts" type="application/json">')[1].split("</script>")[0]
    )
    assert charts["by_hour"]["categories"] == ["00:00", "08:00", "09:00", "23:00"]
    assert charts["by_department"]["series"][0]["data"] == [30.0, 22.5]
    assert charts["by_day"]["series"][0]["data"] == [3, 2, 0, 0, 0, 0, 0]
    assert 'name="level"' not in page
    assert "<script>" not in page


def test_the_reports_index_links_the_dashboard(client, clinic_admin) -> None:
    client.force_login(clinic_admin)
    assert reverse("staff:reports_flow") in client.get(reverse("staff:reports")).content.decode()


@pytest.mark.parametrize(
    "query",
    [
        {"range": "custom", "start": "2026-03-08", "end": "2026-03-02"},
        {"range": "custom", "start": "2020-01-01", "end": "2026-03-02"},
        {"range": "30d", "department": "abc"},
    ],
)
def test_bad_filters_are_a_400_with_the_reason(client, clinic_admin, levels, query) -> None:
    client.force_login(clinic_admin)
    response = client.get(reverse("staff:reports_flow"), query)
    assert response.status_code == 400
    assert 'class="error"' in response.content.decode()
