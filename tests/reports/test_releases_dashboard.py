"""The release behaviour dashboard on a small clinic worked out by hand (below), through its
selector and its page: the share sold out, how soon, the average time to sell out, the
attempts refused as sold out (where recorded), the previous period and the filters."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.urls import reverse

from appointments.choices import ScheduleStatus
from appointments.models import ReleaseDemand, Schedule
from reports import services
from reports.choices import SellOut
from reports.selectors import BookingFilters, releases_dashboard
from tests.appointments.factories import DepartmentFactory, DoctorFactory
from tests.reports.clinic import session

pytestmark = pytest.mark.django_db

WEEK = (dt.date(2026, 3, 2), dt.date(2026, 3, 8))


def _sold_out(schedule: Schedule, after: dt.timedelta | None) -> Schedule:
    """The session first sold out ``after`` its public release (None: it did not)."""
    schedule.sold_out_at = None if after is None else schedule.release_at + after
    Schedule.objects.filter(pk=schedule.pk).update(sold_out_at=schedule.sold_out_at)
    return schedule


def _refused(schedule: Schedule, *counts: int) -> None:
    """Refusals counted in as many periods (Redis lost its count in between)."""
    for n, count in enumerate(counts):
        ReleaseDemand.objects.create(
            schedule=schedule,
            counted_from=schedule.release_at + dt.timedelta(seconds=n),
            refused=count,
            copied_at=schedule.release_at + dt.timedelta(hours=1),
        )


@pytest.fixture
def clinic(levels):
    """内科 (doctors A, B) and 儿科 (doctor C). Each session is released to the public 7 days
    before its day at 08:00 in Shanghai.

    ====  =======================  ======  ===============================  =========
    no.   session                  slots   first sold out                   refused
    ====  =======================  ======  ===============================  =========
    r1    A Mon 08:00              4       release + 30 s (< 1 min)         10 + 5
    r2    A Mon 14:00              4       release + 5 min (1–10 min)       3
    r3    B Tue 09:00              4       release − 2 h (before: VIPs)     —
    r4    B Wed 08:00              2       never                            —
    r5    C Tue 08:00 suspended    4       (release + 10 s)                 (7)
    r6    C Thu 14:00              4       release + 2 days (after a day)   —
                                           a slot freed since: still counts
    r7    A Wed 08:00              3       release + 3 h (1 h – 1 day)      —
    r8    A Fri 08:00 draft        4       —                                —
    p1    A Mon 23 Feb 08:00       4       release + 20 min (10 min – 1 h)  6
    ====  =======================  ======  ===============================  =========

    Released in the week: r1 r2 r3 r4 r6 r7 (6 sessions, 21 slots), sold out 5 (83.3 %),
    within a minute (or before) r1 r3: 33.3 %. Average time to sell out (at or after the
    release: r1 0.5 + r2 5 + r7 180 + r6 2,880 min) = 3,065.5 / 4 = 766.4 min. Refused 18
    (3.6 per session sold out). 内科: 5 released, 4 sold out (80 %); 儿科: 1, 1 (100 %).
    Previous week: p1 alone: 100 %, 20.0 min, 6 refused.
    """
    internal = DepartmentFactory(name="内科", sort_order=1)
    children = DepartmentFactory(name="儿科", sort_order=2)
    a = DoctorFactory(name="A医生", department=internal)
    b = DoctorFactory(name="B医生", department=internal)
    c = DoctorFactory(name="C医生", department=children)
    mon, tue, wed, thu, fri = (dt.date(2026, 3, d) for d in (2, 3, 4, 5, 6))
    minute = dt.timedelta(minutes=1)
    r1 = _sold_out(session(a, mon, dt.time(8)), dt.timedelta(seconds=30))
    _refused(r1, 10, 5)
    r2 = _sold_out(session(a, mon, dt.time(14)), 5 * minute)
    _refused(r2, 3)
    _sold_out(session(b, tue, dt.time(9)), -120 * minute)
    _sold_out(session(b, wed, dt.time(8), capacity=2), None)
    r5 = _sold_out(session(c, tue, dt.time(8), suspended=True), dt.timedelta(seconds=10))
    _refused(r5, 7)
    _sold_out(session(c, thu, dt.time(14)), dt.timedelta(days=2))
    _sold_out(session(a, wed, dt.time(8), capacity=3), 180 * minute)
    draft = session(a, fri, dt.time(8))
    Schedule.objects.filter(pk=draft.pk).update(status=ScheduleStatus.DRAFT)
    p1 = _sold_out(session(a, dt.date(2026, 2, 23), dt.time(8)), 20 * minute)
    _refused(p1, 6)
    services.rebuild_rollups(start=dt.date(2026, 2, 1), end=dt.date(2026, 3, 31))
    return {"internal": internal, "children": children, "a": a, "b": b, "c": c}


def dashboard(**filters):
    return releases_dashboard(filters=BookingFilters(*WEEK, **filters))


def test_the_totals_and_the_previous_period(clinic) -> None:
    board = dashboard()
    totals = board.totals
    assert (totals.released, totals.capacity, totals.sold_out) == (6, 21, 5)
    assert totals.sold_out_rate == Decimal("83.3")
    assert totals.within_minute_rate == Decimal("33.3")
    assert totals.average_minutes == Decimal("766.4")
    assert (totals.refused, totals.sessions_refusing) == (18, 2)
    assert totals.refused_per_sold_out == Decimal("3.6")
    previous = board.previous
    assert (previous.released, previous.sold_out, previous.refused) == (1, 1, 6)
    assert previous.average_minutes == Decimal("20.0")


def test_how_soon_the_sessions_sold_out(clinic) -> None:
    assert [(bucket, n) for bucket, _label, n in dashboard().distribution] == [
        (SellOut.BEFORE_RELEASE, 1),
        (SellOut.MINUTE, 1),
        (SellOut.TEN_MINUTES, 1),
        (SellOut.HOUR, 0),
        (SellOut.DAY, 1),
        (SellOut.LATER, 1),
        (SellOut.NEVER, 1),
    ]


def test_the_bucket_bounds_are_exact_to_the_microsecond(clinic) -> None:
    """A session sold out exactly a minute after its release is in 1–10 minutes; a
    microsecond earlier, within a minute."""
    day = dt.date(2026, 3, 7)
    _sold_out(session(clinic["c"], day, dt.time(8)), dt.timedelta(minutes=1))
    _sold_out(
        session(clinic["c"], day, dt.time(14)), dt.timedelta(minutes=1) - dt.timedelta.resolution
    )
    services.rebuild_rollups(start=day, end=day)
    board = releases_dashboard(filters=BookingFilters(day, day))
    buckets = {bucket: n for bucket, _label, n in board.distribution}
    assert (buckets[SellOut.MINUTE], buckets[SellOut.TEN_MINUTES]) == (1, 1)


def test_the_figures_by_day_department_doctor_and_session(clinic) -> None:
    board = dashboard()
    by_day = {row.key: row.figures for row in board.by_day}
    assert len(board.by_day) == 7
    assert (by_day[dt.date(2026, 3, 2)].released, by_day[dt.date(2026, 3, 2)].refused) == (2, 18)
    assert by_day[dt.date(2026, 3, 3)].released == 1  # the suspended session is not counted
    assert by_day[dt.date(2026, 3, 6)].released == 0  # a draft was never released
    assert [
        (r.label, r.figures.released, r.figures.sold_out_rate) for r in board.by_department
    ] == [
        ("内科", 5, Decimal("80.0")),
        ("儿科", 1, Decimal("100.0")),
    ]
    doctors = {row.label: row.figures for row in board.by_doctor}
    assert board.by_doctor[0].label == "A医生"  # the most attempts refused first
    assert doctors["A医生"].average_minutes == Decimal("61.8")  # (0.5 + 5 + 180) / 3
    assert doctors["B医生"].average_minutes is None  # sold out before the release only
    assert [(r.key, r.figures.released) for r in board.by_session] == [
        ("morning", 4),
        ("afternoon", 2),
    ]


def test_department_and_doctor_narrow_the_figures(clinic) -> None:
    assert dashboard(department=clinic["children"]).totals.released == 1
    narrowed = dashboard(doctor=clinic["b"]).totals
    assert (narrowed.released, narrowed.sold_out, narrowed.refused) == (2, 1, 0)


def test_the_selector_reads_the_rollup_in_seven_queries(clinic, django_assert_num_queries):
    with django_assert_num_queries(7):
        releases_dashboard(filters=BookingFilters(dt.date(2025, 3, 9), dt.date(2026, 3, 8)))


def test_the_page_shows_the_headline_and_the_chart_data(client, clinic, clinic_admin) -> None:
    client.force_login(clinic_admin)
    response = client.get(
        reverse("staff:reports_releases"),
        {"range": "custom", "start": "2026-03-02", "end": "2026-03-08"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    headline = {item.name: item for item in response.context["headline"]}
    assert headline["sold_out_rate"].current == Decimal("83.3")
    assert headline["sold_out_rate"].delta == Decimal("-16.7")
    assert headline["refused"].current == 18
    assert headline["refused"].tone == "bad"  # more members turned away
    page = response.content.decode()
    charts = json.loads(
        page.split('<script id="report-charts" type="application/json">')[1].split("</script>")[0]
    )
    assert charts["distribution"]["series"][0]["data"] == [1, 1, 1, 0, 1, 1, 1]
    assert charts["by_department"]["series"][0]["data"] == [80.0, 100.0]
    assert charts["demand"]["series"][1]["data"] == [18, 0, 0, 0, 0, 0, 0]
    assert 'name="level"' not in page and 'name="channel"' not in page  # do not apply here
    assert "仅含已记录的部分" in page  # the refusals are those recorded
    assert "<script>" not in page


def test_the_reports_index_links_the_dashboard(client, clinic_admin) -> None:
    client.force_login(clinic_admin)
    assert (
        reverse("staff:reports_releases") in client.get(reverse("staff:reports")).content.decode()
    )


@pytest.mark.parametrize(
    "query",
    [
        {"range": "custom", "start": "2026-03-08", "end": "2026-03-02"},
        {"range": "custom", "start": "yesterday", "end": "2026-03-02"},
        {"range": "30d", "doctor": "999999"},
        {"range": "fortnight"},
    ],
)
def test_bad_filters_are_a_400_with_the_reason(client, clinic_admin, levels, query) -> None:
    client.force_login(clinic_admin)
    response = client.get(reverse("staff:reports_releases"), query)
    assert response.status_code == 400
    assert 'class="error"' in response.content.decode()
