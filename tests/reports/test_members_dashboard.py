"""The members dashboard on a small clinic whose figures are worked out by hand (below), through
the page and its selector: new members (a sign-up at 23:59 and one at 00:01 in Shanghai), the
level mix with an upgrade and a downgrade mid-period, the points ledger by reason and level,
active members (distinct, a cancelled booking counts, a no-show does not), the previous
period, the filters and bad input."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from appointments.choices import Channel
from members.models import Member, PointsEntry, PointsReason
from reports import services
from reports.selectors import BookingFilters, members_dashboard
from tests.appointments.factories import DepartmentFactory, DoctorFactory
from tests.members.factories import MemberFactory
from tests.reports.clinic import SHANGHAI, change_level, joined, session, visit

pytestmark = pytest.mark.django_db

WEEK = (dt.date(2026, 3, 2), dt.date(2026, 3, 8))  # Monday to Sunday; before: 23 Feb – 1 March


def shanghai(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


def member(name: str, level, registered: dt.datetime) -> Member:
    """A member who signed up at ``registered`` (their history starts then)."""
    return joined(MemberFactory(name=name, level=level, registered_at=registered), registered)


def points(who: Member, delta: int, reason: str, at: dt.datetime) -> None:
    PointsEntry.objects.create(
        member=who, delta=delta, balance_after=5000, reason=reason, created_at=at
    )


@pytest.fixture
def clinic(levels):
    """Members (level: 普通 < 银卡 < 金卡 < 钻石), all times in Shanghai:

    ====  ==========================  ==================================================
    m1    joined 10 Jan, 普通          upgraded to 银卡 on Tue 3 Mar 10:00
    m2    joined 10 Jan, 金卡          downgraded to 银卡 on Thu 5 Mar 00:00:30 (after a
                                      correction of −300 points at 00:00:20)
    m3    joined Mon 2 Mar 23:59       普通 (15:59 UTC: Monday either way)
    m4    joined Tue 3 Mar 00:01       普通 (16:01 UTC on Monday: Tuesday in Shanghai)
    m5    joined Wed 25 Feb, 普通       upgraded to 银卡 on Fri 27 Feb (the previous period)
    m6    joined Sun 1 Mar 23:59:59    普通 (the previous period's last second)
    m7    loaded in bulk (no history)  钻石, registered 1 Dec 2025
    m8    joined Mon 9 Mar 00:00:30    (16:00:30 UTC on Sunday): after the week
    ====  ==========================  ==================================================

    Level mix at the end of each day (普通, 银卡, 金卡, 钻石): before the week (end of 1 Mar)
    m1 m6 | m5 | m2 | m7 = (2, 1, 1, 1), 5 members; Mon +m3 (3, 1, 1, 1); Tue +m4, m1 up:
    (3, 2, 1, 1); Thu m2 down: (3, 3, 0, 1) to Sunday: 7 members.

    Points (level at the time): Mon m1 visit +50 (普通), m3 opening +100 (普通); Tue m5
    adjustment +20 (银卡); Wed m1 visit +60 (银卡); Thu m2 adjustment −300 (金卡); Fri m2
    redemption −200 (银卡); Sat 23:59:59 m7 visit +100 (钻石); Mon 9 Mar 00:00:01 m1 +999
    (after the week). Before: m5 visit +40 (Thu 26 Feb), m6 redemption −10 (Sun 1 Mar).
    Issued 310 (40 before), redeemed 200 (10), adjusted −280 (0).

    Appointments (A: 内科, C: 儿科):

    - a1 m1 booked Mon 10:30 for A Wed 08:00, completed → m1 active Mon (普通) and Wed (银卡)
    - a2 m3 booked Mon 23:59:30 for C Fri 14:00, cancelled → m3 active Mon
    - a3 m2 booked 20 Feb for A Tue 09:00, no-show → not active this week
    - a4 m5 walk-in at C Thu 14:00, booked 13:50 and came → m5 active Thu (银卡)
    - a5 m4 booked Mon 9 Mar 00:00:10 for A 12 Mar → after the week
    - a6 m6 booked 26 Feb for A 28 Feb, completed → active before (twice, one member)
    - a7 m1 booked 27 Feb for C Tue 3 Mar 08:00, completed → active before; Tue (普通:
      checked in before the 10:00 upgrade)

    Active: this week m1, m3, m5 = 3 (Mon 2, Tue 1, Wed 1, Thu 1); 普通 m1 m3, 银卡 m1 m5;
    before m1, m6 = 2.
    """
    internal = DepartmentFactory(name="内科", sort_order=1)
    children = DepartmentFactory(name="儿科", sort_order=2)
    a = DoctorFactory(name="A医生", department=internal)
    c = DoctorFactory(name="C医生", department=children)
    normal, silver, gold, diamond = (levels[k] for k in ("普通", "银卡", "金卡", "钻石"))

    m1 = member("王小明", normal, shanghai(2026, 1, 10, 9))
    m2 = member("李雷", gold, shanghai(2026, 1, 10, 9))
    m3 = member("韩梅梅", normal, shanghai(2026, 3, 2, 23, 59))
    m4 = member("赵四", normal, shanghai(2026, 3, 3, 0, 1))
    m5 = member("钱五", normal, shanghai(2026, 2, 25, 12))
    m6 = member("孙六", normal, shanghai(2026, 3, 1, 23, 59, 59))
    m7 = MemberFactory(name="周七", level=diamond, registered_at=shanghai(2025, 12, 1))
    Member.history.filter(id=m7.pk).delete()
    member("吴八", normal, shanghai(2026, 3, 9, 0, 0, 30))
    change_level(m1, silver, shanghai(2026, 3, 3, 10))
    change_level(m2, silver, shanghai(2026, 3, 5, 0, 0, 30))
    change_level(m5, silver, shanghai(2026, 2, 27, 10))

    points(m1, 50, PointsReason.VISIT, shanghai(2026, 3, 2, 11))
    points(m3, 100, PointsReason.MIGRATION, shanghai(2026, 3, 2, 23, 59))
    points(m5, 20, PointsReason.ADJUSTMENT, shanghai(2026, 3, 3, 15))
    points(m1, 60, PointsReason.VISIT, shanghai(2026, 3, 4, 11))
    points(m2, -300, PointsReason.ADJUSTMENT, shanghai(2026, 3, 5, 0, 0, 20))
    points(m2, -200, PointsReason.REDEMPTION, shanghai(2026, 3, 6, 9))
    points(m7, 100, PointsReason.VISIT, shanghai(2026, 3, 7, 23, 59, 59))
    points(m1, 999, PointsReason.VISIT, shanghai(2026, 3, 9, 0, 0, 1))
    points(m5, 40, PointsReason.VISIT, shanghai(2026, 2, 26, 11))
    points(m6, -10, PointsReason.REDEMPTION, shanghai(2026, 3, 1, 20))

    visit(
        session(a, dt.date(2026, 3, 4), dt.time(8)),
        m1,
        "completed",
        booked_at=shanghai(2026, 3, 2, 10, 30),
    )
    visit(
        session(c, dt.date(2026, 3, 6), dt.time(14)),
        m3,
        "cancelled",
        booked_at=shanghai(2026, 3, 2, 23, 59, 30),
        cancelled_by=m3.user,
        cancel_reason="有事",
    )
    visit(
        session(a, dt.date(2026, 3, 3), dt.time(9)),
        m2,
        "no_show",
        booked_at=shanghai(2026, 2, 20, 9),
    )
    visit(
        session(c, dt.date(2026, 3, 5), dt.time(14)),
        m5,
        "completed",
        channel=Channel.WALK_IN,
        booked_at=shanghai(2026, 3, 5, 13, 50),
    )
    visit(
        session(a, dt.date(2026, 3, 12), dt.time(8)),
        m4,
        "confirmed",
        booked_at=shanghai(2026, 3, 9, 0, 0, 10),
    )
    visit(
        session(a, dt.date(2026, 2, 28), dt.time(8)),
        m6,
        "completed",
        booked_at=shanghai(2026, 2, 26, 9),
    )
    visit(
        session(c, dt.date(2026, 3, 3), dt.time(8)),
        m1,
        "completed",
        booked_at=shanghai(2026, 2, 27, 9),
    )
    services.rebuild_rollups(start=dt.date(2025, 11, 1), end=dt.date(2026, 3, 31))
    return {"internal": internal, "children": children, "a": a, "levels": levels}


def board(**filters):
    with translation.override("en"):  # the labels of the points' reasons
        return members_dashboard(filters=BookingFilters(*WEEK, **filters))


def totals(f) -> tuple:
    return (
        f.signups,
        f.active,
        f.members,
        f.upgrades,
        f.downgrades,
        f.points_issued,
        f.points_redeemed,
        f.points_adjusted,
    )


def test_the_totals_and_the_previous_period(clinic) -> None:
    week = board()
    assert totals(week.totals) == (2, 3, 7, 1, 1, 310, 200, -280)
    assert totals(week.previous) == (2, 2, 5, 1, 0, 40, 10, 0)


def test_new_members_count_on_their_day_in_shanghai(clinic) -> None:
    """m3 at 23:59 on Monday, m4 at 00:01 on Tuesday (Monday in UTC); m8 at 00:00:30 on the
    next Monday (Sunday in UTC) is not in the week."""
    assert [row.figures.signups for row in board().by_day] == [1, 1, 0, 0, 0, 0, 0]


def test_the_level_mix_moves_with_the_upgrade_and_the_downgrade(clinic) -> None:
    week = board()
    assert [level.name for level in week.levels] == ["普通会员", "银卡会员", "金卡会员", "钻石会员"]
    assert [(p.day.day, p.counts) for p in week.mix] == [
        (2, (3, 1, 1, 1)),
        (3, (3, 2, 1, 1)),
        (4, (3, 2, 1, 1)),
        (5, (3, 3, 0, 1)),
        (6, (3, 3, 0, 1)),
        (7, (3, 3, 0, 1)),
        (8, (3, 3, 0, 1)),
    ]
    assert not week.mix_weekly
    assert [(m.from_label, m.to_label, m.upgrade, m.count, m.previous) for m in week.moves] == [
        ("普通会员", "银卡会员", True, 1, 1),
        ("金卡会员", "银卡会员", False, 1, 0),
    ]
    assert [(r.figures.upgrades, r.figures.downgrades) for r in week.by_day][1:5] == [
        (1, 0),
        (0, 0),
        (0, 1),
        (0, 0),
    ]


def test_a_long_range_shows_the_mix_per_week(clinic) -> None:
    """Over 92 days: the mix at each Sunday and at the period's last day."""
    long = members_dashboard(filters=BookingFilters(dt.date(2025, 12, 1), dt.date(2026, 3, 10)))
    assert long.mix_weekly
    assert all(p.day.weekday() == 6 for p in long.mix[:-1])
    assert long.mix[-1].day == dt.date(2026, 3, 10)
    assert long.mix[0].day == dt.date(2025, 12, 7) and long.mix[0].counts == (0, 0, 0, 1)
    assert long.mix[-2].day == dt.date(2026, 3, 8) and long.mix[-2].counts == (3, 3, 0, 1)
    assert long.mix[-1].counts == (4, 3, 0, 1)  # m8 joined on the 9th


def test_the_points_by_day_reason_and_level(clinic) -> None:
    week = board()
    assert [
        (r.figures.points_issued, r.figures.points_redeemed, r.figures.points_adjusted)
        for r in week.by_day
    ] == [(150, 0, 0), (0, 0, 20), (60, 0, 0), (0, 0, -300), (0, 200, 0), (100, 0, 0), (0, 0, 0)]
    assert week.points_by_reason == [
        ("Completed visit", 210, 0),
        ("Staff adjustment", 20, 300),
        ("Redemption", 0, 200),
        ("Opening balance", 100, 0),
    ]
    # The level at the time: m2's correction as 金卡 (20 seconds before the downgrade).
    assert [
        (
            r.label,
            r.figures.members,
            r.figures.signups,
            r.figures.points_issued,
            r.figures.points_redeemed,
            r.figures.points_adjusted,
        )
        for r in week.by_level
    ] == [
        ("普通会员", 3, 2, 150, 0, 0),
        ("银卡会员", 3, 0, 60, 200, 20),
        ("金卡会员", 0, 0, 0, 0, -300),
        ("钻石会员", 1, 0, 100, 0, 0),
    ]


def test_active_members_are_distinct_and_a_cancelled_booking_counts(clinic) -> None:
    """m1 on three days is one member of the week; m3 only booked (then cancelled); m2's
    no-show is no visit. By level (at the time), m1 is in both 普通 and 银卡."""
    week = board()
    assert week.totals.active == 3
    assert [r.figures.active for r in week.by_day] == [2, 1, 1, 1, 0, 0, 0]
    assert [r.figures.active for r in week.by_level] == [2, 2, 0, 0]


def test_the_level_narrows_every_figure(clinic) -> None:
    """银卡: nobody joined at it; m1 moved into it, m2 down into it; its points; m1 (Wednesday's
    visit) and m5 active at it; three members at the end."""
    silver = board(level=clinic["levels"]["银卡"])
    assert totals(silver.totals) == (0, 2, 3, 1, 1, 60, 200, 20)
    assert [level.name for level in silver.levels] == ["银卡会员"]
    assert [p.counts for p in silver.mix][:2] == [(1,), (2,)]
    assert totals(silver.previous)[:4] == (0, 0, 1, 1)  # m5's upgrade before the week


def test_department_doctor_and_channel_narrow_the_active_members_only(clinic) -> None:
    everything = totals(board().totals)
    children = totals(board(department=clinic["children"]).totals)
    assert children[1] == 3  # m3's booking, m1's Tuesday visit, m5's walk-in
    assert children[:1] + children[2:] == everything[:1] + everything[2:]
    assert board(doctor=clinic["a"]).totals.active == 1  # m1 (booked Monday, came Wednesday)
    assert board(channel=Channel.WALK_IN).totals.active == 1  # m5
    assert board(channel=Channel.WALK_IN).totals.signups == 2


def test_the_selector_reads_in_fourteen_queries(clinic, django_assert_num_queries) -> None:
    """Whatever the range: the levels, the level mix before the period (2), the period's new
    members, level changes, points and active members (by day, by level, in all: 3), the
    previous period's four, the time of the last refresh."""
    with django_assert_num_queries(14):
        members_dashboard(filters=BookingFilters(dt.date(2025, 3, 9), dt.date(2026, 3, 8)))


def test_the_page_shows_the_figures_and_the_chart_data(client, clinic, clinic_admin) -> None:
    client.force_login(clinic_admin)
    response = client.get(
        reverse("staff:reports_members"),
        {"range": "custom", "start": "2026-03-02", "end": "2026-03-08"},
    )
    assert response.status_code == 200
    headline = {item.name: item for item in response.context["headline"]}
    assert (headline["active"].current, headline["active"].previous) == (3, 2)
    assert headline["active"].relative == Decimal("50.0")
    assert headline["members"].delta == 2
    assert headline["downgrades"].tone == "bad"
    assert headline["points_adjusted"].delta == -280
    page = response.content.decode()
    charts = json.loads(
        page.split('<script id="report-charts" type="application/json">')[1].split("</script>")[0]
    )
    assert [s["data"] for s in charts["mix"]["series"]][1] == [1, 2, 2, 3, 3, 3, 3]
    assert all(s["stack"] == "mix" and s["area"] for s in charts["mix"]["series"])
    new_members = charts["people"]["series"][1]
    assert new_members["data"] == [1, 1, 0, 0, 0, 0, 0]
    assert new_members["line"] and charts["people"]["lineMax"] is None  # its own axis
    assert charts["points"]["series"][2]["data"] == [0, 0, 0, 0, -200, 0, 0]
    assert charts["moves"]["categories"] == ["普通会员 → 银卡会员", "金卡会员 → 银卡会员"]
    assert "包括之后取消的预约" in page  # what "active" means, in the page's language
    assert "<script>" not in page


def test_the_page_in_english(client, clinic, clinic_admin, settings) -> None:
    client.force_login(clinic_admin)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get(
        reverse("staff:reports_members"),
        {"range": "custom", "start": "2026-03-02", "end": "2026-03-08"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Level mix over time" in page
    assert "made an appointment that day (even one cancelled later)" in page


def test_the_reports_index_links_the_dashboard(client, clinic_admin) -> None:
    client.force_login(clinic_admin)
    page = client.get(reverse("staff:reports")).content.decode()
    assert reverse("staff:reports_members") in page


@pytest.mark.parametrize(
    "query",
    [
        {"range": "custom", "start": "x"},
        {"range": "custom", "start": "2026-03-08", "end": "2026-03-02"},
        {"range": "custom", "start": "2020-01-01", "end": "2026-03-02"},
        {"range": "yesterday"},
        {"level": "999999"},
        {"channel": "fax"},
    ],
)
def test_bad_filters_are_a_400(client, clinic_admin, levels, query) -> None:
    client.force_login(clinic_admin)
    response = client.get(reverse("staff:reports_members"), query)
    assert response.status_code == 400
    assert 'class="error"' in response.content.decode()
