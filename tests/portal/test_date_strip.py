"""The date strip (按日期挂号): a department's next 14 days with "有号" marks; a chosen date lists
the sessions of all its doctors with what the visitor can do; a fixed number of queries."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from appointments.choices import ScheduleStatus
from tests.appointments.factories import (
    DepartmentFactory,
    DoctorFactory,
    ScheduleFactory,
    book,
)
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def day(offset: int) -> dt.date:
    return TODAY() + dt.timedelta(days=offset)


@pytest.fixture
def cardiology(levels):
    """Two doctors: day 2 has a session of each (one full); day 4 one not yet open; a session
    of day 20 (outside the strip) and a draft are never shown."""
    department = DepartmentFactory(name="心血管内科", code="cardiology")
    wang = DoctorFactory(name="王建国", department=department, title="chief")
    li = DoctorFactory(name="李华", department=department)
    sessions = {
        "open": ScheduleFactory(doctor=li, date=day(2), capacity=5),
        "full": ScheduleFactory(doctor=wang, date=day(2), capacity=1),
        "later": ScheduleFactory(
            doctor=wang, date=day(4), release_at=timezone.now() + dt.timedelta(days=1)
        ),
        "far": ScheduleFactory(doctor=li, date=day(20)),
        "draft": ScheduleFactory(doctor=li, date=day(5), status=ScheduleStatus.DRAFT),
    }
    book(MemberFactory(level=levels["普通"]), sessions["full"])
    return department, sessions


def strip_url(department, date: dt.date | None = None, raw: str | None = None) -> str:
    url = reverse("appointments:department_dates", args=[department.code])
    if date is not None:
        return f"{url}?date={date:%Y-%m-%d}"
    return url if raw is None else f"{url}?date={raw}"


def marks(page: str) -> dict[str, str]:
    """Date (YYYY-MM-DD) -> the mark under it."""
    found = re.findall(
        r'id="day-(\d{4}-\d\d-\d\d)".*?<span class="strip-mark">(.*?)</span>\s*</a>', page, re.S
    )
    return {date: re.sub(r"<[^>]+>", "", mark) for date, mark in found}


def test_the_strip_shows_fourteen_days_marked(client, cardiology) -> None:
    department, _sessions = cardiology
    page = client.get(strip_url(department)).content.decode()
    shown = marks(page)
    assert list(shown) == [f"{day(n):%Y-%m-%d}" for n in range(14)]
    assert shown[f"{day(2):%Y-%m-%d}"] == "有号"
    assert shown[f"{day(4):%Y-%m-%d}"] == "待放号"
    assert shown[f"{day(5):%Y-%m-%d}"] == "–无号源"  # the draft is not shown
    # The first day with a free slot is chosen.
    assert f'id="day-{day(2):%Y-%m-%d}" aria-current="date"' in page


def test_a_date_lists_every_doctors_sessions_with_a_book_link(client, cardiology) -> None:
    department, sessions = cardiology
    member = MemberFactory()
    client.force_login(member.user)
    page = client.get(strip_url(department, day(2))).content.decode()
    listed = page[page.index('class="schedule-list day-sessions"') :]
    assert "王建国" in listed and "李华" in listed
    assert reverse("billing:book", args=[sessions["open"].pk]) in listed
    assert reverse("billing:book", args=[sessions["full"].pk]) not in listed
    assert "约满" in listed
    # The chief physician first at the same time.
    assert listed.index("王建国") < listed.index("李华")


def test_a_day_not_yet_open_offers_the_reminder(client, cardiology) -> None:
    department, sessions = cardiology
    client.force_login(MemberFactory().user)
    page = client.get(strip_url(department, day(4))).content.decode()
    assert reverse("appointments:reminder_set", args=[sessions["later"].pk]) in page
    assert 'name="next" value="' + strip_url(department, day(4)) + '"' in page


def test_a_gold_member_sees_a_session_open_to_them_early_as_slots(
    client, cardiology, levels
) -> None:
    department, sessions = cardiology
    sessions["later"].release_at = timezone.now() + dt.timedelta(hours=6)
    sessions["later"].save(update_fields=["release_at"])
    assert (
        marks(client.get(strip_url(department)).content.decode())[f"{day(4):%Y-%m-%d}"] == "待放号"
    )
    client.force_login(MemberFactory(level=levels["金卡"]).user)  # 12 hours early
    assert marks(client.get(strip_url(department)).content.decode())[f"{day(4):%Y-%m-%d}"] == "有号"


@pytest.mark.parametrize("raw", ["tomorrow", "2020-01-01", "9999-99-99"])
def test_a_date_outside_the_strip_is_refused_with_the_strip_still_shown(
    client, cardiology, raw
) -> None:
    department, _sessions = cardiology
    response = client.get(strip_url(department, raw=raw))
    assert response.status_code == 400
    page = response.content.decode()
    assert 'role="alert"' in page and len(marks(page)) == 14


def test_the_last_day_of_the_strip_may_be_chosen_and_the_next_may_not(client, cardiology) -> None:
    department, _sessions = cardiology
    assert client.get(strip_url(department, day(13))).status_code == 200
    assert client.get(strip_url(department, day(14))).status_code == 400


def test_an_unknown_or_closed_department_is_not_found(client, cardiology) -> None:
    department, _sessions = cardiology
    assert client.get(reverse("appointments:department_dates", args=["nope"])).status_code == 404
    department.is_active = False
    department.save(update_fields=["is_active"])
    assert client.get(strip_url(department)).status_code == 404


def test_the_home_pages_department_view_links_to_it(client, cardiology) -> None:
    department, _sessions = cardiology
    page = client.get(reverse("appointments:home") + "?department=cardiology").content.decode()
    assert strip_url(department) in page


def _fill(department, doctors: int) -> None:
    for _ in range(doctors):
        doctor = DoctorFactory(department=department)
        for offset in range(0, 14, 2):
            ScheduleFactory(doctor=doctor, date=day(offset + 1))


@pytest.mark.parametrize("doctors", [2, 12])
def test_the_page_costs_a_fixed_number_of_queries(
    client, levels, django_assert_max_num_queries, doctors
) -> None:
    department = DepartmentFactory(code="busy")
    _fill(department, doctors)
    member = MemberFactory(level=levels["普通"])
    with django_assert_max_num_queries(3):  # department, sessions, the clinic's contact
        assert client.get(strip_url(department, day(1))).status_code == 200
    client.force_login(member.user)
    # + session, login, member, the member's bookings, their reminders, unread messages
    with django_assert_max_num_queries(9):
        assert client.get(strip_url(department, day(1))).status_code == 200
