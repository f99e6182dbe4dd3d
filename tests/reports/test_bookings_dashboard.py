"""The bookings and utilisation dashboard on a small clinic whose figures are worked out by hand
(below), through the page and its selector: totals and the previous period, by day, department,
doctor, session and weekday × hour, each filter, and bad filters."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone

from appointments.choices import Channel
from reports import services
from reports.forms import BookingFilterForm
from reports.selectors import BookingFilters, bookings_dashboard
from tests.appointments.factories import DepartmentFactory, DoctorFactory
from tests.members.factories import MemberFactory
from tests.reports.clinic import SHANGHAI, change_level, joined, session, visit

pytestmark = pytest.mark.django_db

WEEK = (dt.date(2026, 3, 2), dt.date(2026, 3, 8))  # Monday to Sunday
UTC = dt.UTC


@pytest.fixture
def clinic(levels):
    """内科 (doctors A, B) and 儿科 (doctor C); the week of 2 March 2026 and the Monday before.

    ====  =====================  =====  ============================================
    no.   session                slots  appointments (member, status, channel)
    ====  =====================  =====  ============================================
    s1    A Mon 08:00 morning    4      m1 completed · m2 no-show · m3 cancelled
                                        (front desk) · m3 checked in (front desk)
    s2    A Mon 14:00 afternoon  4      m1 completed (api) · m2 cancelled
    s3    B Tue 09:00 morning    2      m1 completed · m2 completed (walk-in)
    s4    C Tue 08:00 morning    3      suspended: m3 cancelled
    s5    C Wed 14:00 afternoon  5      m2 confirmed
    p1    A Mon 23 Feb 08:00     4      m1 completed · m3 no-show (previous period)
    ====  =====================  =====  ============================================

    m1 is 普通 until midnight of 2 March in Shanghai (16:00 UTC on 1 March), then 银卡: their
    s1 booking (28 Feb) and s3 booking (15:59 UTC on 1 March) count as 普通, their s2 booking
    (16:30 UTC) as 银卡. m2 is 金卡, m3 普通.
    """
    internal = DepartmentFactory(name="内科", sort_order=1)
    children = DepartmentFactory(name="儿科", sort_order=2)
    a = DoctorFactory(name="A医生", department=internal)
    b = DoctorFactory(name="B医生", department=internal)
    c = DoctorFactory(name="C医生", department=children)
    start = dt.datetime(2026, 1, 1, tzinfo=UTC)
    m1 = joined(MemberFactory(level=levels["普通"]), start)
    m2 = joined(MemberFactory(level=levels["金卡"]), start)
    m3 = joined(MemberFactory(level=levels["普通"]), start)
    change_level(m1, levels["银卡"], dt.datetime(2026, 3, 2, tzinfo=SHANGHAI))
    early = dt.datetime(2026, 2, 27, 2, tzinfo=UTC)

    s1 = session(a, dt.date(2026, 3, 2), dt.time(8), capacity=4)
    visit(s1, m1, "completed", booked_at=dt.datetime(2026, 2, 28, 2, tzinfo=UTC))
    visit(s1, m2, "no_show", booked_at=early)
    visit(s1, m3, "cancelled", channel=Channel.FRONT_DESK, booked_at=early)
    visit(s1, m3, "checked_in", channel=Channel.FRONT_DESK, booked_at=early)
    s2 = session(a, dt.date(2026, 3, 2), dt.time(14), capacity=4)
    visit(
        s2,
        m1,
        "completed",
        channel=Channel.API,
        booked_at=dt.datetime(2026, 3, 1, 16, 30, tzinfo=UTC),
    )
    visit(s2, m2, "cancelled", booked_at=early)
    s3 = session(b, dt.date(2026, 3, 3), dt.time(9), capacity=2)
    visit(s3, m1, "completed", booked_at=dt.datetime(2026, 3, 1, 15, 59, tzinfo=UTC))
    visit(s3, m2, "completed", channel=Channel.WALK_IN, booked_at=early)
    s4 = session(c, dt.date(2026, 3, 3), dt.time(8), capacity=3, suspended=True)
    visit(s4, m3, "cancelled", booked_at=early)
    s5 = session(c, dt.date(2026, 3, 4), dt.time(14), capacity=5)
    visit(s5, m2, "confirmed", booked_at=early)
    p1 = session(a, dt.date(2026, 2, 23), dt.time(8), capacity=4)
    visit(p1, m1, "completed", booked_at=dt.datetime(2026, 2, 20, tzinfo=UTC))
    visit(p1, m3, "no_show", booked_at=dt.datetime(2026, 2, 20, tzinfo=UTC))
    services.rebuild_rollups(start=dt.date(2026, 2, 1), end=dt.date(2026, 3, 31))
    return {"internal": internal, "children": children, "a": a, "b": b, "c": c, "levels": levels}


def figures(f) -> tuple:
    return (f.capacity, f.booked, f.cancelled, f.no_show, f.checked_in, f.completed)


def test_the_totals_and_the_previous_period(clinic) -> None:
    board = bookings_dashboard(filters=BookingFilters(*WEEK))
    # slots 4+4+2+5 (s4 suspended); booked: every appointment but the 3 cancelled
    assert figures(board.totals) == (15, 7, 3, 1, 5, 4)
    assert board.totals.sessions == 4
    assert board.totals.utilisation == Decimal("46.7")  # 7 / 15
    assert board.totals.cancel_rate == Decimal("30.0")  # 3 / 10
    assert board.totals.no_show_rate == Decimal("14.3")  # 1 / 7
    assert (board.previous_filters.start, board.previous_filters.end) == (
        dt.date(2026, 2, 23),
        dt.date(2026, 3, 1),
    )
    assert figures(board.previous) == (4, 2, 0, 1, 1, 1)
    assert board.previous.utilisation == Decimal("50.0")


def test_the_figures_by_day_department_doctor_and_session(clinic) -> None:
    board = bookings_dashboard(filters=BookingFilters(*WEEK))
    assert [(r.label, r.figures.capacity, r.figures.booked) for r in board.by_day] == [
        ("2026-03-02", 8, 4),
        ("2026-03-03", 2, 2),
        ("2026-03-04", 5, 1),
        ("2026-03-05", 0, 0),
        ("2026-03-06", 0, 0),
        ("2026-03-07", 0, 0),
        ("2026-03-08", 0, 0),
    ]
    assert [(r.label, figures(r.figures)) for r in board.by_department] == [
        ("内科", (10, 6, 2, 1, 5, 4)),
        ("儿科", (5, 1, 1, 0, 0, 0)),
    ]
    assert [(r.label, r.figures.capacity, r.figures.booked) for r in board.by_doctor] == [
        ("A医生", 8, 4),
        ("B医生", 2, 2),
        ("C医生", 5, 1),
    ]
    assert [(r.key, r.figures.capacity, r.figures.booked) for r in board.by_session] == [
        ("morning", 6, 5),
        ("afternoon", 9, 2),
    ]


def test_the_heat_map_by_weekday_and_start_hour(clinic) -> None:
    board = bookings_dashboard(filters=BookingFilters(*WEEK))
    assert board.heat_hours == [8, 9, 14]
    cells = {
        (weekday, hour): (f.booked, f.capacity)
        for weekday, row in board.heat.items()
        for hour, f in row.items()
        if f.booked or f.capacity or f.cancelled
    }
    # Tuesday 08:00 is the suspended session: no slots, one cancellation.
    assert cells == {
        (0, 8): (3, 4),
        (0, 14): (1, 4),
        (1, 8): (0, 0),
        (1, 9): (2, 2),
        (2, 14): (1, 5),
    }
    assert board.heat[0][8].utilisation == Decimal("75.0")


def test_level_and_channel_narrow_the_bookings_not_the_slots(clinic) -> None:
    levels = clinic["levels"]
    plain = bookings_dashboard(filters=BookingFilters(*WEEK, level=levels["普通"])).totals
    assert figures(plain) == (15, 3, 2, 0, 3, 2)  # m1's s1 and s3, m3's check-in; 2 cancelled
    silver = bookings_dashboard(filters=BookingFilters(*WEEK, level=levels["银卡"])).totals
    assert figures(silver) == (15, 1, 0, 0, 1, 1)  # m1's s2, booked after midnight
    desk = bookings_dashboard(filters=BookingFilters(*WEEK, channel="front_desk")).totals
    assert figures(desk) == (15, 1, 1, 0, 1, 0)


def test_department_and_doctor_narrow_both(clinic) -> None:
    children = bookings_dashboard(filters=BookingFilters(*WEEK, department=clinic["children"]))
    assert figures(children.totals) == (5, 1, 1, 0, 0, 0)
    assert figures(children.previous) == (0, 0, 0, 0, 0, 0)
    assert children.previous.utilisation is None
    b = bookings_dashboard(filters=BookingFilters(*WEEK, doctor=clinic["b"])).totals
    assert figures(b) == (2, 2, 0, 0, 2, 2)


def test_the_selector_reads_the_rollups_in_thirteen_queries(clinic, django_assert_num_queries):
    with django_assert_num_queries(13):
        bookings_dashboard(filters=BookingFilters(dt.date(2025, 3, 9), dt.date(2026, 3, 8)))


def test_the_page_shows_the_figures_the_change_and_the_chart_data(client, clinic, clinic_admin):
    client.force_login(clinic_admin)
    response = client.get(
        reverse("staff:reports_bookings"),
        {"range": "custom", "start": "2026-03-02", "end": "2026-03-08"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    headline = {item.name: item for item in response.context["headline"]}
    assert headline["utilisation"].delta == Decimal("-3.3")  # 46.7 % against 50.0 %
    assert (headline["booked"].delta, headline["booked"].relative) == (5, Decimal("250.0"))
    page = response.content.decode()
    assert "2026-02-23" in page and "2026-03-01" in page  # the previous period is named
    charts = json.loads(
        page.split('<script id="report-charts" type="application/json">')[1].split("</script>")[0]
    )
    assert charts["by_day"]["series"][1]["data"] == [4, 2, 1, 0, 0, 0, 0]
    assert charts["by_department"]["categories"] == ["内科", "儿科"]
    assert charts["heat"]["cells"][0] == [0, 0, 75.0, 3]
    assert "<script>" not in page  # no inline script: the CSP allows none


def test_a_preset_ends_today_in_the_clinics_time_zone(clinic) -> None:
    """At 00:30 in Shanghai on 3 March (16:30 UTC on 2 March) 今天 is 3 March, 近7天 starts on
    25 February and 本月 on 1 March: the page's ``today`` is ``timezone.localdate()``."""
    today = timezone.localdate(dt.datetime(2026, 3, 2, 16, 30, tzinfo=UTC))
    assert today == dt.date(2026, 3, 3)

    def shown(query: str) -> BookingFilters:
        form = BookingFilterForm(QueryDict(query), today=today)
        assert form.is_valid(), form.errors
        return form.filters()

    assert (shown("range=today").start, shown("range=today").end) == (today, today)
    assert shown("range=7d").start == dt.date(2026, 2, 25)
    assert shown("range=30d").start == dt.date(2026, 2, 2)
    assert shown("").start == dt.date(2026, 2, 2)  # no query: the last 30 days
    assert (shown("range=month").start, shown("range=month").end) == (dt.date(2026, 3, 1), today)
    assert figures(bookings_dashboard(filters=shown("range=today")).totals)[:2] == (2, 2)


@pytest.mark.parametrize(
    "query",
    [
        {"range": "custom", "start": "2026-03-08", "end": "2026-03-02"},
        {"range": "custom", "start": "2026-03-02"},
        {"range": "custom", "start": "2020-01-01", "end": "2026-03-02"},
        {"range": "week"},
        {"range": "custom", "start": "yesterday", "end": "2026-03-02"},
        {"range": "30d", "department": "999999"},
        {"range": "30d", "channel": "fax"},
    ],
)
def test_bad_filters_are_a_400_with_the_reason(client, clinic, clinic_admin, query) -> None:
    client.force_login(clinic_admin)
    response = client.get(reverse("staff:reports_bookings"), query)
    assert response.status_code == 400
    assert response.context["form"].errors
    assert 'class="error"' in response.content.decode()
