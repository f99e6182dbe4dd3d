"""The no-shows and cancellations dashboard on a small clinic whose figures are worked out by
hand (below), through the page and its selector: the rates and the previous period, by
department, doctor, level (when booked) and lead time, who cancelled, the members paused for
no-shows, and the filters."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from appointments.choices import Channel
from billing.services.orders import EXPIRED_HOLD_REASON
from medbook.roles import FRONT_DESK
from reports import services
from reports.selectors import BookingFilters, noshows_dashboard
from tests.appointments.factories import DepartmentFactory, DoctorFactory
from tests.conftest import staff_user
from tests.members.factories import MemberFactory
from tests.reports.clinic import SHANGHAI, change_level, joined, session, visit

pytestmark = pytest.mark.django_db

WEEK = (dt.date(2026, 3, 2), dt.date(2026, 3, 8))  # Monday to Sunday
TODAY = dt.date(2026, 3, 5)  # Thursday: the sessions of Monday to Wednesday are past
UTC = dt.UTC


def _pause(member, *, at: dt.datetime, until: dt.datetime) -> None:
    """The no-shows rule pauses ``member`` at ``at`` (their history records it then)."""
    member.banned_until = until
    member._history_date = at
    member.save(update_fields=["banned_until"])


def _lift(member, *, at: dt.datetime) -> None:
    member.banned_until = None
    member.no_show_ban_lifted_at = at
    member._history_date = at
    member.save(update_fields=["banned_until", "no_show_ban_lifted_at"])


@pytest.fixture
def clinic(levels):
    """内科 (doctors A, B) and 儿科 (doctor C); the week of 2 March 2026 and the Monday before.
    Lead time = the session's start in Shanghai − booked at.

    ====  =====================  ==========================================================
    no.   session                appointments (member, status, who cancelled, lead time)
    ====  =====================  ==========================================================
    s1    A Mon 08:00            m1 completed (1–3 d: 46 h) · m2 no-show (>7 d) ·
                                 m3 cancelled by m3 (>7 d)
    s2    A Mon 14:00            m1 completed (<24 h: 13.5 h, 银卡) · m2 cancelled by the
                                 front desk (>7 d)
    s3    B Tue 09:00            m1 no-show (1–3 d: 33 h, 普通: booked a minute before
                                 Shanghai midnight) · m2 completed, walk-in (3–7 d: 97 h)
    s4    C Tue 08:00 suspended  m3 cancelled by MedBook, 停诊 (>7 d)
    s5    C Wed 14:00            m2 cancelled by MedBook, the unpaid hold ran out (<24 h) ·
                                 m3 no-show (exactly 72 h: 3–7 d)
    s6    A Fri 08:00 (future)   m1 confirmed (1–3 d: 48 h, 银卡) · m2 cancelled by m2
                                 (3–7 d: 96 h)
    p1    A Mon 23 Feb 08:00     m1 completed · m3 no-show · m2 cancelled by m2 (previous)
    ====  =====================  ==========================================================

    m1 is 普通 until midnight of 2 March in Shanghai (16:00 UTC on 1 March), then 银卡; m2 is
    金卡, m3 普通. Pauses for no-shows: m2 from 00:30 on 5 March in Shanghai (16:30 UTC on 4
    March) for 30 days; m3 from 20 February, lifted by staff on 25 February (in the previous
    period only); m4, loaded without history, paused until 10 March (so from 8 February).
    """
    internal = DepartmentFactory(name="内科", sort_order=1)
    children = DepartmentFactory(name="儿科", sort_order=2)
    a = DoctorFactory(name="A医生", department=internal)
    b = DoctorFactory(name="B医生", department=internal)
    c = DoctorFactory(name="C医生", department=children)
    desk = staff_user("desk", FRONT_DESK, mfa=False)
    start = dt.datetime(2026, 1, 1, tzinfo=UTC)
    m1 = joined(MemberFactory(name="王小明", level=levels["普通"]), start)
    m2 = joined(MemberFactory(name="李雷", level=levels["金卡"]), start)
    m3 = joined(MemberFactory(name="韩梅梅", level=levels["普通"]), start)
    m4 = joined(MemberFactory(name="赵四", level=levels["银卡"]), start)
    change_level(m1, levels["银卡"], dt.datetime(2026, 3, 2, tzinfo=SHANGHAI))
    early = dt.datetime(2026, 2, 20, tzinfo=UTC)

    s1 = session(a, dt.date(2026, 3, 2), dt.time(8))
    visit(s1, m1, "completed", booked_at=dt.datetime(2026, 2, 28, 2, tzinfo=UTC))
    visit(s1, m2, "no_show", booked_at=early)
    visit(s1, m3, "cancelled", booked_at=early, cancelled_by=m3.user, cancel_reason="有事")
    s2 = session(a, dt.date(2026, 3, 2), dt.time(14))
    visit(s2, m1, "completed", booked_at=dt.datetime(2026, 3, 1, 16, 30, tzinfo=UTC))
    visit(s2, m2, "cancelled", booked_at=early, cancelled_by=desk, cancel_reason="来电取消")
    s3 = session(b, dt.date(2026, 3, 3), dt.time(9))
    visit(s3, m1, "no_show", booked_at=dt.datetime(2026, 3, 1, 15, 59, tzinfo=UTC))
    visit(
        s3,
        m2,
        "completed",
        channel=Channel.WALK_IN,
        booked_at=dt.datetime(2026, 2, 27, tzinfo=UTC),
    )
    s4 = session(c, dt.date(2026, 3, 3), dt.time(8), suspended=True)
    visit(s4, m3, "cancelled", booked_at=early, cancel_reason="停诊：医生出差")
    s5 = session(c, dt.date(2026, 3, 4), dt.time(14))
    visit(
        s5,
        m2,
        "cancelled",
        booked_at=dt.datetime(2026, 3, 4, 5, 50, tzinfo=UTC),
        cancel_reason=EXPIRED_HOLD_REASON,
    )
    visit(s5, m3, "no_show", booked_at=dt.datetime(2026, 3, 1, 6, tzinfo=UTC))
    s6 = session(a, dt.date(2026, 3, 6), dt.time(8))
    visit(s6, m1, "confirmed", booked_at=dt.datetime(2026, 3, 4, tzinfo=UTC))
    visit(
        s6,
        m2,
        "cancelled",
        booked_at=dt.datetime(2026, 3, 2, tzinfo=UTC),
        cancelled_by=m2.user,
        cancel_reason="改期",
    )
    p1 = session(a, dt.date(2026, 2, 23), dt.time(8))
    visit(p1, m1, "completed", booked_at=early)
    visit(p1, m3, "no_show", booked_at=early)
    visit(p1, m2, "cancelled", booked_at=early, cancelled_by=m2.user, cancel_reason="改期")
    services.rebuild_rollups(start=dt.date(2026, 2, 1), end=dt.date(2026, 3, 31))

    paused_at = dt.datetime(2026, 3, 4, 16, 30, tzinfo=UTC)
    _pause(m2, at=paused_at, until=paused_at + dt.timedelta(days=30))
    m3_paused = dt.datetime(2026, 2, 20, 10, tzinfo=UTC)
    _pause(m3, at=m3_paused, until=m3_paused + dt.timedelta(days=30))
    _lift(m3, at=dt.datetime(2026, 2, 25, 3, tzinfo=UTC))
    type(m4).objects.filter(pk=m4.pk).update(  # loaded in bulk: no history row
        banned_until=dt.datetime(2026, 3, 10, 12, tzinfo=UTC)
    )
    return {"internal": internal, "children": children, "a": a, "levels": levels}


def rates(f) -> tuple:
    return (f.made, f.cancelled, f.cancel_rate, f.due, f.no_show, f.no_show_rate)


def board(**filters):
    with translation.override("en"):  # the labels of lead times and of who cancelled
        return noshows_dashboard(filters=BookingFilters(*WEEK, **filters), today=TODAY)


def test_the_rates_and_the_previous_period(clinic) -> None:
    week = board()
    # made 12 (7 kept, 5 cancelled); due: the 6 kept in sessions before Thursday (not s6)
    assert rates(week.totals) == (12, 5, Decimal("41.7"), 6, 3, Decimal("50.0"))
    assert rates(week.previous) == (3, 1, Decimal("33.3"), 2, 1, Decimal("50.0"))


def test_the_rates_by_department_doctor_level_and_lead_time(clinic) -> None:
    week = board()
    assert [(r.label, rates(r.figures)) for r in week.by_department] == [
        ("内科", (9, 3, Decimal("33.3"), 5, 2, Decimal("40.0"))),
        ("儿科", (3, 2, Decimal("66.7"), 1, 1, Decimal("100.0"))),
    ]
    assert [(r.label, rates(r.figures)) for r in week.by_doctor] == [
        ("A医生", (7, 3, Decimal("42.9"), 3, 1, Decimal("33.3"))),
        ("C医生", (3, 2, Decimal("66.7"), 1, 1, Decimal("100.0"))),
        ("B医生", (2, 0, Decimal("0.0"), 2, 1, Decimal("50.0"))),
    ]
    # The level when booked: m1's s1 and s3 as 普通, s2 and s6 (after midnight) as 银卡.
    assert [(r.label, rates(r.figures)) for r in week.by_level] == [
        ("普通会员", (5, 2, Decimal("40.0"), 3, 2, Decimal("66.7"))),
        ("银卡会员", (2, 0, Decimal("0.0"), 1, 0, Decimal("0.0"))),
        ("金卡会员", (5, 3, Decimal("60.0"), 2, 1, Decimal("50.0"))),
    ]
    assert [(r.label, rates(r.figures)) for r in week.by_lead_time] == [
        ("Under 24 hours", (2, 1, Decimal("50.0"), 1, 0, Decimal("0.0"))),
        ("1–3 days", (3, 0, Decimal("0.0"), 2, 1, Decimal("50.0"))),
        ("3–7 days", (3, 1, Decimal("33.3"), 2, 1, Decimal("50.0"))),  # s5's m3: 72 h exactly
        ("Over 7 days", (4, 3, Decimal("75.0"), 1, 1, Decimal("100.0"))),
    ]


def test_who_cancelled(clinic) -> None:
    assert board().by_canceller == [
        ("The member", 2),
        ("Staff", 1),
        ("MedBook: hold ran out", 1),
        ("MedBook: session suspended", 1),
    ]


def test_the_members_paused_for_no_shows(clinic) -> None:
    """m2 (paused at 00:30 on Thursday in Shanghai) and m4 (no history: 30 days before the
    end); m3's pause was lifted before the week, so it counts in the previous period only."""
    week = board()
    assert [(p.masked_name, p.level_name, p.from_history) for p in week.pauses] == [
        ("赵*", "银卡会员", False),
        ("李*", "金卡会员", True),
    ]
    assert week.pauses[0].started_at == dt.datetime(2026, 2, 8, 12, tzinfo=UTC)
    assert week.previous_pauses == 2  # m3 (lifted on 25 February) and m4
    # The pause started on Thursday by Shanghai's clock (Wednesday in UTC).
    assert [n for _day, n in week.pauses_by_day] == [0, 0, 0, 1, 0, 0, 0]


def test_the_filters_narrow_the_rates(clinic) -> None:
    levels = clinic["levels"]
    assert rates(board(level=levels["银卡"]).totals) == (2, 0, Decimal("0.0"), 1, 0, Decimal("0.0"))
    assert rates(board(department=clinic["children"]).totals)[:2] == (3, 2)
    assert rates(board(doctor=clinic["a"]).totals)[:2] == (7, 3)
    assert rates(board(channel=Channel.WALK_IN).totals) == (
        1,
        0,
        Decimal("0.0"),
        1,
        0,
        Decimal("0.0"),
    )


def test_the_selector_reads_in_sixteen_queries(clinic, django_assert_num_queries) -> None:
    with django_assert_num_queries(16):
        noshows_dashboard(
            filters=BookingFilters(dt.date(2025, 3, 9), dt.date(2026, 3, 8)), today=TODAY
        )


def test_the_page_shows_the_rates_and_the_chart_data(client, clinic, clinic_admin) -> None:
    """Today (the real one) is after every session: s6's visit is due too (7 due, 3 missed)."""
    client.force_login(clinic_admin)
    response = client.get(
        reverse("staff:reports_noshows"),
        {"range": "custom", "start": "2026-03-02", "end": "2026-03-08"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    headline = {item.name: item for item in response.context["headline"]}
    assert headline["no_show_rate"].current == Decimal("42.9")
    assert headline["cancel_rate"].delta == Decimal("8.4")  # 41.7 % against 33.3 %
    assert headline["cancel_rate"].tone == "bad"  # more cancellations: shown in red
    assert headline["due"].tone == "good"
    assert headline["paused"].tone == ""  # 2 against 2
    assert (headline["paused"].current, headline["paused"].previous) == (2, 2)
    page = response.content.decode()
    charts = json.loads(
        page.split('<script id="report-charts" type="application/json">')[1].split("</script>")[0]
    )
    assert charts["by_canceller"]["series"][0]["data"] == [2, 1, 1, 1]
    assert charts["by_level"]["categories"] == ["普通会员", "银卡会员", "金卡会员"]
    assert charts["by_department"]["series"][0]["data"] == [33.3, 100.0]
    assert charts["pauses"]["series"][0]["data"] == [0, 0, 0, 1, 0, 0, 0]
    assert "李*" in page and "李雷" not in page and "赵四" not in page
    assert "<script>" not in page


def test_the_reports_index_links_the_dashboard(client, clinic_admin) -> None:
    client.force_login(clinic_admin)
    page = client.get(reverse("staff:reports")).content.decode()
    assert reverse("staff:reports_noshows") in page


def test_bad_filters_are_a_400(client, clinic_admin, levels) -> None:
    client.force_login(clinic_admin)
    response = client.get(reverse("staff:reports_noshows"), {"range": "custom", "start": "x"})
    assert response.status_code == 400
    assert 'class="error"' in response.content.decode()
