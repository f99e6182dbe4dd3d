"""The reports in Chromium: finance logs in, opens 报表 → 预约与号源利用率 (and 爽约与取消) on
the demo clinic, changes a filter and sees every chart drawn (no blank canvas, no CSP violation:
the page fixture fails on one), on a phone and on a desktop, in Chinese and in English; the
charts follow the window's width. Screenshots: test-results/screenshots/reports-*.png."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from medbook.roles import FINANCE
from members.models import Member
from tests.browser.conftest import DESKTOP, PHONE, screenshot
from tests.browser.test_staff_journeys import log_in, person

pytestmark = pytest.mark.django_db(transaction=True)

CHARTS = ["by_day", "by_department", "by_session", "by_doctor", "heat"]

# How many pixels of a chart's canvas are drawn (not transparent): a blank canvas has none.
INKED = """(el) => {
  const canvas = el.querySelector('canvas');
  if (!canvas) return 0;
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let inked = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) inked += 1;
  return inked;
}"""


@pytest.fixture
def demo(levels):
    call_command("seed_demo", members=60, appointments=900, stdout=io.StringIO())
    person("finance", FINANCE)


def charts_drawn(page) -> dict[str, int]:
    for name in CHARTS:
        page.wait_for_selector(f'[data-chart="{name}"][data-drawn="1"]', timeout=10_000)
    return {name: page.locator(f'[data-chart="{name}"]').evaluate(INKED) for name in CHARTS}


def canvas_width(page, name: str) -> int:
    return page.locator(f'[data-chart="{name}"] canvas').evaluate("(c) => c.clientWidth")


def test_finance_opens_the_bookings_dashboard_and_filters_it(page, demo) -> None:
    log_in(page, "finance")
    page.get_by_role("link", name="报表").first.click()
    page.get_by_role("link", name="预约与号源利用率").click()
    page.get_by_role("heading", name="预约与号源利用率").wait_for()
    inked = charts_drawn(page)
    assert all(count > 500 for count in inked.values()), inked
    assert canvas_width(page, "by_day") <= PHONE["width"]
    screenshot(page, "reports-01-bookings-phone-zh")

    # A preset is shown at once; a department narrows every chart.
    page.get_by_label("时间范围").select_option("7d")
    page.wait_for_url("**range=7d**")
    department = page.get_by_label("科室", exact=True)
    department.select_option(index=1)
    page.get_by_role("button", name="显示").click()
    page.wait_for_url("**department=**")
    inked = charts_drawn(page)
    assert all(count > 500 for count in inked.values()), inked
    assert (
        page.locator('[data-chart="by_department"]').evaluate(
            "(el) => JSON.parse(document.getElementById('report-charts').textContent)"
            ".by_department.categories.length"
        )
        == 1
    )

    # The charts follow the window: wider on a desktop, back again on a phone.
    page.set_viewport_size(DESKTOP)
    page.wait_for_function(
        "() => document.querySelector('[data-chart=by_day] canvas').clientWidth > 600"
    )
    page.locator("details.chart-table summary").first.click()  # the first chart as a table
    screenshot(page, "reports-02-bookings-desktop-zh")
    page.set_viewport_size(PHONE)
    page.wait_for_function(
        "() => document.querySelector('[data-chart=by_day] canvas').clientWidth <= 375"
    )

    # In English: the same page, labelled in English, charts drawn.
    page.locator("#language").select_option("en")
    page.get_by_role("heading", name="Bookings and utilisation").wait_for()
    inked = charts_drawn(page)
    assert all(count > 500 for count in inked.values()), inked
    labels = page.evaluate(
        "() => JSON.parse(document.getElementById('report-charts').textContent).by_day.series"
        ".map((s) => s.name)"
    )
    assert labels == ["Slots offered", "Booked", "Utilisation (%)"]
    screenshot(page, "reports-03-bookings-phone-en")
    page.set_viewport_size(DESKTOP)
    page.get_by_label("Period").select_option("30d")
    page.wait_for_url("**range=30d**")
    charts_drawn(page)
    screenshot(page, "reports-04-bookings-desktop-en")


NOSHOW_CHARTS = [
    "by_day",
    "by_department",
    "by_level",
    "by_lead_time",
    "by_canceller",
    "by_doctor",
    "pauses",
]


def noshow_charts_drawn(page) -> dict[str, int]:
    for name in NOSHOW_CHARTS:
        page.wait_for_selector(f'[data-chart="{name}"][data-drawn="1"]', timeout=10_000)
    return {name: page.locator(f'[data-chart="{name}"]').evaluate(INKED) for name in NOSHOW_CHARTS}


def paused_in_last_30_days() -> int:
    """The demo's members paused by the no-show rule at some time in the last 30 days."""
    first = timezone.localdate() - dt.timedelta(days=29)
    start = dt.datetime.combine(first, dt.time(0), tzinfo=timezone.get_default_timezone())
    return Member.objects.filter(banned_until__gt=start).count()


def test_finance_opens_the_no_shows_dashboard(page, demo) -> None:
    log_in(page, "finance")
    page.get_by_role("link", name="报表").first.click()
    page.get_by_role("link", name="爽约与取消").click()
    page.get_by_role("heading", name="爽约与取消").wait_for()
    inked = noshow_charts_drawn(page)
    assert all(count > 300 for count in inked.values()), inked
    assert canvas_width(page, "by_day") <= PHONE["width"]
    screenshot(page, "reports-05-noshows-phone-zh")

    page.set_viewport_size(DESKTOP)
    page.wait_for_function(
        "() => document.querySelector('[data-chart=by_day] canvas').clientWidth > 600"
    )
    page.locator("details.chart-table summary").last.click()  # the paused members' table
    paused = paused_in_last_30_days()
    assert paused, "the demo pauses members for no-shows"
    assert page.locator("details.chart-table").last.locator("tbody tr").count() == paused
    screenshot(page, "reports-06-noshows-desktop-zh")

    page.locator("#language").select_option("en")
    page.get_by_role("heading", name="No-shows and cancellations").wait_for()
    inked = noshow_charts_drawn(page)
    assert all(count > 300 for count in inked.values()), inked
    labels = page.evaluate(
        "() => JSON.parse(document.getElementById('report-charts').textContent).by_level.series"
        ".map((s) => s.name)"
    )
    assert labels == ["No-show rate (%)", "Cancellation rate (%)"]
    screenshot(page, "reports-07-noshows-desktop-en")
    page.set_viewport_size(PHONE)
    page.wait_for_function(
        "() => document.querySelector('[data-chart=by_day] canvas').clientWidth <= 375"
    )
    screenshot(page, "reports-08-noshows-phone-en")


REVENUE_CHARTS = ["by_day", "by_gateway", "by_department", "by_doctor", "discount", "per_member"]


def revenue_charts_drawn(page) -> dict[str, int]:
    for name in REVENUE_CHARTS:
        page.wait_for_selector(f'[data-chart="{name}"][data-drawn="1"]', timeout=10_000)
    return {name: page.locator(f'[data-chart="{name}"]').evaluate(INKED) for name in REVENUE_CHARTS}


@pytest.fixture
def takings(demo):
    """The demo's payments of the last 30 days spread over the gateways (the demo pays online
    through the sandbox or at the desk's till), and of those not refunded yet every fifth
    refunded in full and every seventh in half a day later; the money rollups rebuilt."""
    from billing.choices import Gateway
    from billing.models import Order
    from reports import services
    from tests.reports.clinic import refund

    now = timezone.now()
    gateways = [Gateway.ALIPAY, Gateway.WECHAT, Gateway.COUNTER, Gateway.SANDBOX]
    paid = Order.objects.filter(
        status="paid",
        paid_at__gte=now - dt.timedelta(days=30),
        paid_at__lte=now - dt.timedelta(days=2),
    ).order_by("pk")
    for number, order in enumerate(paid):
        Order.objects.filter(pk=order.pk).update(gateway=gateways[number % 4])
        if number % 5 == 0:
            refund(order, order.amount, completed_at=order.paid_at + dt.timedelta(hours=3))
        elif number % 7 == 0:
            half = (order.amount / 2).quantize(Decimal("0.01"))
            refund(order, half, completed_at=order.paid_at + dt.timedelta(days=1))
    today = timezone.localdate(now)
    services.rebuild_rollups(start=today - dt.timedelta(days=70), end=today)


def test_finance_opens_the_revenue_dashboard(page, takings) -> None:
    log_in(page, "finance")
    page.get_by_role("link", name="报表").first.click()
    page.get_by_role("link", name="收入").click()
    page.get_by_role("heading", name="收入", exact=True).wait_for()
    inked = revenue_charts_drawn(page)
    assert all(count > 300 for count in inked.values()), inked
    assert canvas_width(page, "by_day") <= PHONE["width"]
    assert "¥" in page.locator(".kpi-value").first.inner_text()
    screenshot(page, "reports-09-revenue-phone-zh")

    page.set_viewport_size(DESKTOP)
    page.wait_for_function(
        "() => document.querySelector('[data-chart=by_day] canvas').clientWidth > 600"
    )
    per_member = page.locator("section[aria-labelledby=h-per-member] details.chart-table")
    per_member.locator("summary").click()  # net per paying member
    assert per_member.locator("tbody tr").count() >= 2
    # The insurers' split has no chart above it: its table is open from the start.
    insurers = page.locator("section[aria-labelledby=h-by-insurer] details.chart-table")
    assert insurers.locator("tbody tr").first.is_visible()
    screenshot(page, "reports-10-revenue-desktop-zh")

    page.locator("#language").select_option("en")
    page.get_by_role("heading", name="Revenue", exact=True).wait_for()
    inked = revenue_charts_drawn(page)
    assert all(count > 300 for count in inked.values()), inked
    labels = page.evaluate(
        "() => JSON.parse(document.getElementById('report-charts').textContent).by_gateway"
        ".series.map((s) => s.name)"
    )
    assert labels == ["Paid", "Refunded", "Net"]
    screenshot(page, "reports-11-revenue-desktop-en")
    page.set_viewport_size(PHONE)
    page.wait_for_function(
        "() => document.querySelector('[data-chart=by_day] canvas').clientWidth <= 375"
    )
    screenshot(page, "reports-12-revenue-phone-en")


RELEASE_CHARTS = ["distribution", "by_department", "by_day", "demand", "by_session", "by_doctor"]
FLOW_CHARTS = ["by_day", "by_department", "by_hour", "by_doctor"]


def named_charts_drawn(page, names: list[str]) -> dict[str, int]:
    for name in names:
        page.wait_for_selector(f'[data-chart="{name}"][data-drawn="1"]', timeout=10_000)
    return {name: page.locator(f'[data-chart="{name}"]').evaluate(INKED) for name in names}


@pytest.mark.parametrize(
    ("title_zh", "title_en", "charts", "shots"),
    [
        ("放号情况", "Release behaviour", RELEASE_CHARTS, ("09", "10", "11", "12", "releases")),
        ("候诊与接诊", "Waiting and flow", FLOW_CHARTS, ("13", "14", "15", "16", "flow")),
    ],
)
def test_finance_opens_the_release_and_flow_dashboards(
    page, demo, title_zh, title_en, charts, shots
) -> None:
    """Both dashboards on the demo clinic's last year (the demo's sold-out sessions and
    visits), on a phone and a desktop, in Chinese and in English, every chart drawn."""
    n1, n2, n3, n4, name = shots
    log_in(page, "finance")
    page.get_by_role("link", name="报表").first.click()
    page.get_by_role("link", name=title_zh).click()
    page.get_by_role("heading", name=title_zh, exact=True).wait_for()
    assert page.locator("[name=level]").count() == 0  # filters that do not apply are not shown
    inked = named_charts_drawn(page, charts)
    assert all(count > 300 for count in inked.values()), inked
    assert canvas_width(page, charts[0]) <= PHONE["width"]
    screenshot(page, f"reports-{n1}-{name}-phone-zh")

    page.set_viewport_size(DESKTOP)
    page.wait_for_function(
        f"() => document.querySelector('[data-chart={charts[0]}] canvas').clientWidth > 400"
    )
    page.locator("details.chart-table summary").first.click()
    screenshot(page, f"reports-{n2}-{name}-desktop-zh")

    page.locator("#language").select_option("en")
    page.get_by_role("heading", name=title_en, exact=True).wait_for()
    inked = named_charts_drawn(page, charts)
    assert all(count > 300 for count in inked.values()), inked
    screenshot(page, f"reports-{n3}-{name}-desktop-en")
    page.set_viewport_size(PHONE)
    page.wait_for_function(
        f"() => document.querySelector('[data-chart={charts[0]}] canvas').clientWidth <= 375"
    )
    screenshot(page, f"reports-{n4}-{name}-phone-en")


MEMBER_CHARTS = ["people", "mix", "moves_by_day", "moves", "points", "by_level", "points_by_level"]


def member_charts_drawn(page) -> dict[str, int]:
    for name in MEMBER_CHARTS:
        page.wait_for_selector(f'[data-chart="{name}"][data-drawn="1"]', timeout=10_000)
    return {name: page.locator(f'[data-chart="{name}"]').evaluate(INKED) for name in MEMBER_CHARTS}


@pytest.fixture
def joined_and_moved(demo, levels):
    """The demo's members joined long ago and carry no history (loaded in bulk): six members
    join over the last days, and four demo members, given a history when they joined, move up
    (three) or down (one) a level this month, so that every chart has something to draw."""
    from members.models import MemberLevel
    from reports import services
    from tests.members.factories import MemberFactory
    from tests.reports.clinic import change_level, joined

    now = timezone.now()
    ranked = list(MemberLevel.objects.order_by("level"))
    for days in range(6):
        at = now - dt.timedelta(days=days * 4, hours=days)
        joined(MemberFactory(level=ranked[0], registered_at=at), at)
    for days, member in enumerate(Member.objects.order_by("pk")[:4], start=1):
        member._history_date = member.registered_at
        member.save(update_fields=["level"])
        rank = ranked.index(member.level)
        target = ranked[rank - 1] if days == 4 and rank > 0 else ranked[min(rank + 1, 3)]
        if target != member.level:
            change_level(member, target, now - dt.timedelta(days=days * 3))
    today = timezone.localdate()
    services.rebuild_rollups(start=today - dt.timedelta(days=40), end=today)


def test_finance_opens_the_members_dashboard(page, joined_and_moved) -> None:
    log_in(page, "finance")
    page.get_by_role("link", name="报表").first.click()
    page.get_by_role("link", name="会员分析").click()
    page.get_by_role("heading", name="会员分析").wait_for()
    inked = member_charts_drawn(page)
    assert all(count > 300 for count in inked.values()), inked
    assert canvas_width(page, "mix") <= PHONE["width"]
    screenshot(page, "reports-21-members-phone-zh")

    page.set_viewport_size(DESKTOP)
    page.wait_for_function(
        "() => document.querySelector('[data-chart=mix] canvas').clientWidth > 600"
    )
    screenshot(page, "reports-22-members-desktop-zh")

    page.locator("#language").select_option("en")
    page.get_by_role("heading", name="Members").first.wait_for()
    inked = member_charts_drawn(page)
    assert all(count > 300 for count in inked.values()), inked
    labels = page.evaluate(
        "() => JSON.parse(document.getElementById('report-charts').textContent).points.series"
        ".map((s) => s.name)"
    )
    assert labels == ["Issued", "Adjusted", "Redeemed"]
    screenshot(page, "reports-23-members-desktop-en")
    page.set_viewport_size(PHONE)
    page.wait_for_function(
        "() => document.querySelector('[data-chart=mix] canvas').clientWidth <= 375"
    )
    screenshot(page, "reports-24-members-phone-en")
