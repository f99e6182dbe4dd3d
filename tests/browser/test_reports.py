"""The reports in Chromium: finance logs in, opens 报表 → 预约与号源利用率 (and 爽约与取消) on
the demo clinic, changes a filter and sees every chart drawn (no blank canvas, no CSP violation:
the page fixture fails on one), on a phone and on a desktop, in Chinese and in English; the
charts follow the window's width. Screenshots: test-results/screenshots/reports-*.png."""

from __future__ import annotations

import datetime as dt
import io

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


@pytest.fixture
def paused(demo):
    """Two demo members paused by the no-show rule this week (the demo loads none)."""
    now = timezone.now()
    for days, member in enumerate(Member.objects.order_by("pk")[:2], start=1):
        member.banned_until = now + dt.timedelta(days=30 - days)
        member._history_date = now - dt.timedelta(days=days)
        member.save(update_fields=["banned_until"])


def test_finance_opens_the_no_shows_dashboard(page, paused) -> None:
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
    assert page.locator("details.chart-table").last.locator("tbody tr").count() == 2
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
    screenshot(page, "reports-09-members-phone-zh")

    page.set_viewport_size(DESKTOP)
    page.wait_for_function(
        "() => document.querySelector('[data-chart=mix] canvas').clientWidth > 600"
    )
    screenshot(page, "reports-10-members-desktop-zh")

    page.locator("#language").select_option("en")
    page.get_by_role("heading", name="Members").first.wait_for()
    inked = member_charts_drawn(page)
    assert all(count > 300 for count in inked.values()), inked
    labels = page.evaluate(
        "() => JSON.parse(document.getElementById('report-charts').textContent).points.series"
        ".map((s) => s.name)"
    )
    assert labels == ["Issued", "Adjusted", "Redeemed"]
    screenshot(page, "reports-11-members-desktop-en")
    page.set_viewport_size(PHONE)
    page.wait_for_function(
        "() => document.querySelector('[data-chart=mix] canvas').clientWidth <= 375"
    )
    screenshot(page, "reports-12-members-phone-en")
