"""The revenue dashboard on a small clinic whose money is worked out by hand (below), through the
page and its selector: paid, refunded and net by the day the money moved, by payment method,
department, doctor and level (when booked); discount cost; net per paying member; the previous
period; each filter; bad filters."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.urls import reverse

from appointments.choices import Channel
from billing.choices import Gateway, RefundStatus
from billing.models import InsuranceClaim, Order
from billing.services.orders import EXPIRED_HOLD_REASON
from members.models import InsurerChoice
from members.patients import self_patient
from reports import services
from reports.selectors import BookingFilters, revenue_dashboard
from reports.tables import show
from tests.appointments.factories import DepartmentFactory, DoctorFactory
from tests.members.factories import MemberFactory
from tests.reports.clinic import SHANGHAI, change_level, joined, order, refund, session, visit

pytestmark = pytest.mark.django_db

WEEK = (dt.date(2026, 3, 2), dt.date(2026, 3, 8))  # Monday to Sunday
UTC = dt.UTC
D = Decimal


def sh(day: int, hour: int, minute: int = 0, month: int = 3) -> dt.datetime:
    """A moment of March 2026 (or ``month``) on Shanghai's clock."""
    return dt.datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def clinic(levels):
    """内科 (doctors A, B) and 儿科 (doctor C), every session's fee ¥50. m1 is 普通 (×1.00)
    until midnight of 2 March in Shanghai, then 银卡 (×0.95: ¥47.50); m2 金卡 (×0.90: ¥45);
    m3 普通. Times on Shanghai's clock; the money's day is the day it moved.

    =====  ==================  ==========================================================
    order  session             booked / paid / refunded
    =====  ==================  ==========================================================
    o3     A Mon 2 Mar 08:00   m1 booked Sun 23:55 (普通: ¥50), Alipay, paid Mon 00:05
    o1     A Wed 4 Mar 14:00   m1 booked Mon 23:50 (银卡: ¥47.50, discount ¥2.50),
                               Alipay, paid Mon 23:59 → Monday
    o2     A Wed 4 Mar 14:00   m3, API, booked Mon 23:58, WeChat, paid Tue 00:01 → Tuesday
    o4     B Thu 5 Mar 09:00   m2 (¥45, discount ¥5), WeChat, paid Tue 10:03; cancelled,
                               refunded in full (¥45) Wed 11:00
    o5     C Tue 10 Mar 08:00  m2 at the front desk (counter), paid Tue 3 Mar 13:05: money
                               of this week for a session of the next
    o6     B Thu 5 Mar 09:00   m3, Alipay, paid Wed 09:02; partial refund ¥20 asked Thu
                               23:00, completed Fri 00:30 → Friday; ¥10 failed, ¥5 still
                               asked: neither counts
    o7     B Thu 5 Mar 09:00   m1, an unpaid hold that ran out (closed): nothing; a late
                               payment of ¥50 for it sent straight back Wed: nothing
    o8     A Mon 23 Feb 08:00  m3, WeChat, paid Mon 23 Feb 10:01; refunded ¥50 Tue 24 Feb
    o9     A Mon 23 Feb 08:00  m2, Alipay, paid Wed 25 Feb (¥45, discount ¥5); partial
                               refund ¥15 completed Sat 7 Mar (long after the visit)
    =====  ==================  ==========================================================

    This week: 6 orders paid, ¥287.50, discount ¥12.50; 3 refunds, ¥80; net ¥207.50.
    The week before: 2 orders paid, ¥95, discount ¥5; 1 refund, ¥50; net ¥45.
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
    change_level(m1, levels["银卡"], sh(2, 0))

    s1 = session(a, dt.date(2026, 3, 2), dt.time(8))
    s2 = session(a, dt.date(2026, 3, 4), dt.time(14))
    s3 = session(b, dt.date(2026, 3, 5), dt.time(9))
    s4 = session(c, dt.date(2026, 3, 10), dt.time(8))
    p1 = session(a, dt.date(2026, 2, 23), dt.time(8))

    v3 = visit(s1, m1, "completed", booked_at=sh(1, 23, 55))
    order(v3, gateway=Gateway.ALIPAY, rate="1.00", paid_at=sh(2, 0, 5))
    v1 = visit(s2, m1, "completed", booked_at=sh(2, 23, 50))
    order(v1, gateway=Gateway.ALIPAY, rate="0.95", paid_at=sh(2, 23, 59))
    v2 = visit(s2, m3, "completed", channel=Channel.API, booked_at=sh(2, 23, 58))
    order(v2, gateway=Gateway.WECHAT, rate="1.00", paid_at=sh(3, 0, 1))
    v4 = visit(s3, m2, "cancelled", booked_at=sh(3, 10), cancelled_by=m2.user)
    o4 = order(v4, gateway=Gateway.WECHAT, rate="0.90", paid_at=sh(3, 10, 3))
    refund(o4, "45.00", completed_at=sh(4, 11))
    v5 = visit(s4, m2, "confirmed", channel=Channel.FRONT_DESK, booked_at=sh(3, 13))
    order(v5, gateway=Gateway.COUNTER, rate="0.90", paid_at=sh(3, 13, 5))
    v6 = visit(s3, m3, "completed", booked_at=sh(4, 9))
    o6 = order(v6, gateway=Gateway.ALIPAY, rate="1.00", paid_at=sh(4, 9, 2))
    refund(o6, "20.00", requested_at=sh(5, 23), completed_at=sh(6, 0, 30))
    refund(o6, "10.00", requested_at=sh(5, 9), status=RefundStatus.FAILED)
    refund(o6, "5.00", requested_at=sh(6, 9))
    v7 = visit(s3, m1, "cancelled", booked_at=sh(4, 10), cancel_reason=EXPIRED_HOLD_REASON)
    o7 = order(v7, gateway=Gateway.ALIPAY, rate="0.95")
    refund(o7, "47.50", completed_at=sh(4, 12), stray="ALI-LATE-1")
    v8 = visit(p1, m3, "completed", booked_at=sh(23, 10, month=2))
    o8 = order(v8, gateway=Gateway.WECHAT, rate="1.00", paid_at=sh(23, 10, 1, month=2))
    refund(o8, "50.00", completed_at=sh(24, 9, month=2))
    v9 = visit(p1, m2, "completed", booked_at=sh(25, 8, month=2))
    o9 = order(v9, gateway=Gateway.ALIPAY, rate="0.90", paid_at=sh(25, 8, 1, month=2))
    refund(o9, "15.00", completed_at=sh(7, 10))
    services.rebuild_rollups(start=dt.date(2026, 2, 1), end=dt.date(2026, 3, 31))
    return {"children": children, "b": b, "levels": levels, "o6": o6}


def money(m) -> tuple:
    return (m.payments, m.paid, m.refunds, m.refunded, m.net)


def board(**filters):
    return revenue_dashboard(filters=BookingFilters(*WEEK, **filters))


def test_the_totals_and_the_previous_period(clinic) -> None:
    week = board()
    assert money(week.totals) == (6, D("287.50"), 3, D("80.00"), D("207.50"))
    assert week.totals.discount == D("12.50")
    assert money(week.previous) == (2, D("95.00"), 1, D("50.00"), D("45.00"))
    assert week.previous.discount == D("5.00")
    assert all(isinstance(v, Decimal) for v in (week.totals.paid, week.totals.net))


def test_money_counts_on_the_day_it_moved_in_shanghai(clinic) -> None:
    """23:59 on Monday is Monday's, 00:01 on Tuesday Tuesday's; o3, booked on Sunday and paid
    at 00:05 on Monday, is Monday's; the partial refund asked on Thursday night is Friday's;
    the refund of February's visit is Saturday's."""
    assert [(r.label, money(r.money)) for r in board().by_day] == [
        ("2026-03-02", (2, D("97.50"), 0, D("0"), D("97.50"))),
        ("2026-03-03", (3, D("140.00"), 0, D("0"), D("140.00"))),
        ("2026-03-04", (1, D("50.00"), 1, D("45.00"), D("5.00"))),
        ("2026-03-05", (0, D("0"), 0, D("0"), D("0"))),
        ("2026-03-06", (0, D("0"), 1, D("20.00"), D("-20.00"))),
        ("2026-03-07", (0, D("0"), 1, D("15.00"), D("-15.00"))),
        ("2026-03-08", (0, D("0"), 0, D("0"), D("0"))),
    ]


def test_by_payment_method_department_and_doctor(clinic) -> None:
    week = board()
    assert [(r.key, money(r.money)) for r in week.by_gateway] == [
        ("alipay", (3, D("147.50"), 2, D("35.00"), D("112.50"))),
        ("wechat", (2, D("95.00"), 1, D("45.00"), D("50.00"))),
        ("counter", (1, D("45.00"), 0, D("0"), D("45.00"))),
    ]
    assert [(r.label, money(r.money)) for r in week.by_department] == [
        ("内科", (5, D("242.50"), 3, D("80.00"), D("162.50"))),
        ("儿科", (1, D("45.00"), 0, D("0"), D("45.00"))),
    ]
    assert [(r.label, money(r.money)) for r in week.by_doctor] == [
        ("A医生", (3, D("147.50"), 1, D("15.00"), D("132.50"))),
        ("B医生", (2, D("95.00"), 2, D("65.00"), D("30.00"))),
        ("C医生", (1, D("45.00"), 0, D("0"), D("45.00"))),
    ]


def test_discount_cost_and_net_per_paying_member_by_level_when_booked(clinic) -> None:
    """m1 paid at 普通 (booked before midnight) and at 银卡 (after): counted at both levels and
    once in all. 金卡's net takes the refund of February's order (¥15) too."""
    week = board()
    rows = [
        (r.label, r.money.payments, r.money.fees, r.money.discount, r.money.net, r.payers)
        for r in week.by_level
    ]
    assert rows == [
        ("普通会员", 3, D("150.00"), D("0.00"), D("130.00"), 2),
        ("银卡会员", 1, D("50.00"), D("2.50"), D("47.50"), 1),
        ("金卡会员", 2, D("100.00"), D("10.00"), D("30.00"), 1),
    ]
    assert [r.per_member for r in week.by_level] == [D("65.00"), D("47.50"), D("30.00")]
    assert week.payers == 3
    assert week.per_member == D("69.17")  # 207.50 / 3


def test_the_filters_apply_to_the_appointment_behind_the_order(clinic) -> None:
    levels = clinic["levels"]
    silver = board(level=levels["银卡"])
    assert money(silver.totals) == (1, D("47.50"), 0, D("0"), D("47.50"))
    assert (silver.totals.discount, silver.payers) == (D("2.50"), 1)
    assert money(board(department=clinic["children"]).totals)[:2] == (1, D("45.00"))
    assert money(board(doctor=clinic["b"]).totals) == (2, D("95.00"), 2, D("65.00"), D("30.00"))
    assert money(board(channel=Channel.API).totals) == (1, D("50.00"), 0, D("0"), D("50.00"))
    front_desk = board(channel=Channel.FRONT_DESK)
    assert [r.key for r in front_desk.by_gateway] == ["counter"]
    # The previous period narrowed alike: February's 金卡 order and its refund.
    gold = board(level=levels["金卡"])
    assert money(gold.previous) == (1, D("45.00"), 0, D("0"), D("45.00"))


def claim(paid, insurer: str, *, fund: str, personal: str, settled_at, reversed_: str = "0"):
    """An insured visit's split of ``paid`` (its amount is the self-pay share), settled with
    ``insurer`` at ``settled_at``; ``reversed_``: of the fund, given back by a refund."""
    return InsuranceClaim.objects.create(
        order=paid,
        insurer=insurer,
        patient=self_patient(member=paid.member),
        year=settled_at.year,
        total=paid.amount + D(fund) + D(personal),
        fund=D(fund),
        personal=D(personal),
        self_pay=paid.amount,
        reference=f"INS-{paid.pk}",
        settled_at=settled_at,
        reversed_fund=D(reversed_),
    )


def test_the_insurers_split_of_the_insured_visits_settled_in_the_period(clinic) -> None:
    o4, o6 = Order.objects.get(amount=D("45.00"), refunds__amount=D("45.00")), clinic["o6"]
    claim(o6, InsurerChoice.SANDBOX, fund="140.00", personal="10.00", settled_at=sh(4, 9, 2))
    claim(
        o4,
        InsurerChoice.SANDBOX,
        fund="100.00",
        personal="0",
        settled_at=sh(3, 10, 3),
        reversed_="100.00",
    )
    o9 = Order.objects.get(paid_at=sh(25, 8, 1, month=2))  # settled the week before
    claim(o9, InsurerChoice.SANDBOX, fund="80.00", personal="0", settled_at=sh(25, 8, 1, month=2))

    (row,) = board().by_insurer
    assert (row.key, row.visits, row.total) == ("sandbox", 2, D("345.00"))
    assert (row.fund, row.personal, row.self_pay) == (D("240.00"), D("10.00"), D("95.00"))
    assert row.insurer_owes == D("150.00")  # 240 + 10 − the 100 reversed
    # The filters narrow it like the rest: o4 is 金卡's (at B), o6 普通's (at B).
    (gold,) = board(level=clinic["levels"]["金卡"]).by_insurer
    assert (gold.visits, gold.fund) == (1, D("100.00"))
    assert board(department=clinic["children"]).by_insurer == []


def test_the_insurers_table_is_on_the_page(client, clinic, clinic_admin) -> None:
    claim(clinic["o6"], InsurerChoice.SANDBOX, fund="140.00", personal="10.00", settled_at=sh(4, 9))
    client.force_login(clinic_admin)
    page = client.get(
        reverse("staff:reports_revenue"),
        {"range": "custom", "start": "2026-03-02", "end": "2026-03-08"},
    ).content.decode()
    assert 'id="h-by-insurer"' in page and "150.00" in page


def test_the_selector_reads_in_ten_queries(clinic, django_assert_num_queries) -> None:
    with django_assert_num_queries(10):
        revenue_dashboard(filters=BookingFilters(dt.date(2025, 3, 9), dt.date(2026, 3, 8)))


def test_the_page_shows_the_headline_tables_and_chart_data(
    client, clinic, clinic_admin, settings
) -> None:
    client.force_login(clinic_admin)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get(
        reverse("staff:reports_revenue"),
        {"range": "custom", "start": "2026-03-02", "end": "2026-03-08"},
    )
    assert response.status_code == 200
    headline = {item.name: item for item in response.context["headline"]}
    assert [(name, h.current, h.previous) for name, h in headline.items()] == [
        ("paid", D("287.50"), D("95.00")),
        ("refunded", D("80.00"), D("50.00")),
        ("net", D("207.50"), D("45.00")),
        ("payments", 6, 2),
        ("refunds", 3, 1),
        ("discount", D("12.50"), D("5.00")),
    ]
    assert headline["net"].relative == D("361.1")
    assert headline["net"].tone == "good"
    assert headline["refunded"].tone == "bad"  # more money went back
    page = response.content.decode()
    assert "¥287.50" in page
    assert "Only completed refunds count" in page
    charts = json.loads(
        page.split('<script id="report-charts" type="application/json">')[1].split("</script>")[0]
    )
    assert charts["by_day"]["series"][2] == {
        "name": "Net",
        "line": True,
        "sameAxis": True,
        "data": [97.5, 140.0, 5.0, 0.0, -20.0, -15.0, 0.0],
    }
    assert charts["by_gateway"]["categories"] == ["Alipay", "WeChat Pay", "At the front desk"]
    assert charts["discount"]["series"][0]["data"] == [0.0, 2.5, 10.0]
    assert charts["per_member"]["series"][0]["labels"] == ["¥65.00", "¥47.50", "¥30.00"]
    tables = response.context["tables"]
    assert tables["per_member"].rows[-1] == ("All levels", 3, D("207.50"), D("69.17"))
    day = tables["by_day"]
    assert [show(v, c.kind) for v, c in zip(day.rows[4], day.columns, strict=True)] == [
        "2026-03-06",
        "0",
        "0.00",
        "1",
        "20.00",
        "-20.00",
    ]


def test_an_empty_period_says_so(client, clinic, clinic_admin) -> None:
    client.force_login(clinic_admin)
    response = client.get(
        reverse("staff:reports_revenue"),
        {"range": "custom", "start": "2025-01-01", "end": "2025-01-31"},
    )
    assert response.status_code == 200
    assert response.context["charts"]["by_day"]["categories"] == []
    assert response.context["dashboard"].per_member is None


@pytest.mark.parametrize(
    "query",
    [
        {"range": "custom", "start": "2026-03-08", "end": "2026-03-01"},
        {"range": "custom", "start": "March"},
        {"range": "fortnight"},
        {"range": "custom", "start": "2020-01-01", "end": "2026-03-01"},
        {"department": "999999"},
        {"level": "x"},
        {"channel": "pigeon"},
    ],
)
def test_bad_filters_are_a_400_with_a_message(client, clinic, clinic_admin, query) -> None:
    client.force_login(clinic_admin)
    response = client.get(reverse("staff:reports_revenue"), query)
    assert response.status_code == 400
    assert response.context["form"].errors
    assert 'class="error"' in response.content.decode()


def test_the_refresh_picks_up_a_refund_completing_long_after_the_session(clinic) -> None:
    """A refund completed 40 days after its visit is money of the day it completed, which the
    periodic refresh (the recent days) always covers."""
    now = dt.datetime(2026, 4, 14, 2, tzinfo=UTC)  # 10:00 on 14 April in Shanghai
    refund(clinic["o6"], "5.00", completed_at=now - dt.timedelta(hours=1))
    services.refresh_recent_rollups(now=now)
    april = revenue_dashboard(filters=BookingFilters(dt.date(2026, 4, 14), dt.date(2026, 4, 14)))
    assert money(april.totals) == (0, D("0"), 1, D("5.00"), D("-5.00"))
