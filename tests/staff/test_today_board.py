"""Today's board (staff:today): totals, filters, the search kept in the session (phone and ID
through the blind index), keyboard check-in by queue number, and a query budget at 10× the
demo's day."""

from __future__ import annotations

import datetime as dt
import re
import time
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from appointments import selectors
from appointments.choices import AppointmentStatus, Channel, Session
from appointments.models import Appointment, Schedule
from billing.choices import Gateway, OrderStatus
from billing.models import Order
from medbook.middleware import SESSION_SEEN
from tests.appointments.factories import DepartmentFactory, DoctorFactory, ScheduleFactory
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db


def _session(doctor, *, start: dt.time, session: str, capacity: int = 40) -> Schedule:
    return ScheduleFactory(
        doctor=doctor,
        date=timezone.localdate(),
        start_time=start,
        end_time=(dt.datetime.combine(dt.date.today(), start) + dt.timedelta(hours=3)).time(),
        session=session,
        capacity=capacity,
        fee=Decimal("0.00"),
    )


def _patient(schedule, number, *, status=AppointmentStatus.CONFIRMED, channel=Channel.WEB, **kw):
    now = timezone.now()
    return Appointment.objects.create(
        member=kw.pop("member", None) or MemberFactory(),
        schedule=schedule,
        queue_number=number,
        estimated_time=schedule.start_time,
        status=status,
        channel=channel,
        fee=Decimal("0.00"),
        checked_in_at=now
        if status in (AppointmentStatus.CHECKED_IN, AppointmentStatus.COMPLETED)
        else None,
        **kw,
    )


def _paid(appointment, amount: str, *, paid_at: dt.datetime) -> Order:
    return Order.objects.create(
        appointment=appointment,
        member=appointment.member,
        out_trade_no=f"T{appointment.pk:010d}",
        gateway=Gateway.COUNTER,
        original_amount=Decimal(amount),
        discount_rate=Decimal("1.00"),
        amount=Decimal(amount),
        status=OrderStatus.PAID,
        expires_at=paid_at + dt.timedelta(minutes=15),
        paid_at=paid_at,
    )


@pytest.fixture
def day(levels):
    """Two departments: an internal-medicine morning with six patients of every kind, and a
    surgery afternoon with two."""
    medicine = DoctorFactory(name="李医生", department=DepartmentFactory(code="med", name="内科"))
    surgery = DoctorFactory(name="王医生", department=DepartmentFactory(code="sur", name="外科"))
    morning = _session(medicine, start=dt.time(8, 0), session=Session.MORNING)
    afternoon = _session(surgery, start=dt.time(14, 0), session=Session.AFTERNOON)
    zhang = MemberFactory(name="张三丰", phone="+8613912345678")
    rows = {
        "confirmed": _patient(morning, 1, member=zhang),
        "waiting": _patient(morning, 2, status=AppointmentStatus.CHECKED_IN),
        "seen": _patient(morning, 3, status=AppointmentStatus.COMPLETED),
        "no_show": _patient(morning, 4, status=AppointmentStatus.NO_SHOW),
        "cancelled": _patient(morning, 5, status=AppointmentStatus.CANCELLED),
        "walk_in": _patient(
            morning, 6, status=AppointmentStatus.CHECKED_IN, channel=Channel.WALK_IN
        ),
        "afternoon_1": _patient(afternoon, 1),
        "afternoon_2": _patient(afternoon, 2, status=AppointmentStatus.COMPLETED),
    }
    start_of_day = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time(0, 5)))
    _paid(rows["seen"], "50.00", paid_at=start_of_day)
    _paid(rows["afternoon_2"], "80.00", paid_at=start_of_day)
    _paid(rows["waiting"], "30.00", paid_at=start_of_day - dt.timedelta(days=1))  # yesterday
    ScheduleFactory(doctor=medicine, date=timezone.localdate(), start_time=dt.time(18, 0),
                    end_time=dt.time(20, 0), status="draft")  # fmt: skip
    return {"morning": morning, "afternoon": afternoon, "zhang": zhang, **rows}


def test_the_totals_count_the_day_by_hand(day):
    totals = selectors.board_totals(today=timezone.localdate())

    assert totals == selectors.BoardTotals(
        sessions=2,  # the draft is not on the board
        booked=7,  # not the cancelled one
        checked_in=4,  # waiting: one booked, one walk-in; seen: two
        waiting=2,
        seen=2,
        no_shows=1,
        walk_ins=1,
        revenue=Decimal("130.00"),  # paid today; yesterday's ¥30 is not today's money
    )
    assert str(totals.revenue) == "130.00"  # to the cent on every database (SQLite: "130")


def test_the_totals_follow_the_department_and_half_of_the_day(day):
    today = timezone.localdate()
    surgery = selectors.board_totals(today=today, filters=selectors.BoardFilters(department="sur"))
    assert (surgery.sessions, surgery.booked, surgery.seen, surgery.revenue) == (
        1,
        2,
        1,
        Decimal("80.00"),
    )
    morning = selectors.board_totals(
        today=today, filters=selectors.BoardFilters(session=Session.MORNING)
    )
    assert (morning.sessions, morning.booked, morning.revenue) == (1, 5, Decimal("50.00"))


def _numbers(page) -> list[str]:
    return re.findall(r'data-number="(\d+)"', page.content.decode())


def test_filters_by_department_doctor_status_and_half_of_the_day(client, front_desk, day):
    client.force_login(front_desk)
    url = reverse("staff:today")

    assert len(_numbers(client.get(url))) == 7
    assert _numbers(client.get(url, {"department": "sur"})) == ["1", "2"]
    assert _numbers(client.get(url, {"doctor": day["morning"].doctor_id})) == [
        "1", "2", "3", "4", "6",
    ]  # fmt: skip
    assert _numbers(client.get(url, {"session": "afternoon"})) == ["1", "2"]
    waiting = client.get(url, {"status": "checked_in"})
    assert _numbers(waiting) == ["2", "6"]
    # A session with nobody found is left out.
    assert f'id="session-{day["afternoon"].pk}"' not in waiting.content.decode()
    # Unknown values are ignored, never a 500.
    assert client.get(url, {"doctor": "x", "status": "nonsense"}).status_code == 200


def test_a_search_by_phone_goes_through_the_blind_index_and_never_into_the_address(
    client, front_desk, day
):
    client.force_login(front_desk)
    posted = client.post(reverse("staff:today") + "?department=med", {"q": "139 1234 5678"})

    assert posted.status_code == 302
    address = posted["Location"]
    assert "13912345678" not in address and "1234" not in address
    assert "department=med" in address and "search=" in address
    page = client.get(address)
    body = page.content.decode()
    assert _numbers(page) == ["1"] and "张三丰" in body
    assert "13912345678" not in body  # shown masked
    # A part of a number finds nobody: no LIKE over phone numbers.
    assert (
        _numbers(client.get(client.post(reverse("staff:today"), {"q": "1391234"})["Location"]))
        == []
    )


def test_a_search_by_queue_number_and_by_name(client, front_desk, day):
    client.force_login(front_desk)
    by_number = client.get(client.post(reverse("staff:today"), {"q": "2"})["Location"])
    assert _numbers(by_number) == ["2", "2"]  # number 2 of both sessions
    by_name = client.get(client.post(reverse("staff:today"), {"q": "三丰"})["Location"])
    assert _numbers(by_name) == ["1"]


def test_a_search_token_is_worth_nothing_in_another_session(client, front_desk, day):
    client.force_login(front_desk)
    address = client.post(reverse("staff:today"), {"q": "13912345678"})["Location"]
    client.logout()
    client.force_login(front_desk)  # a new session: the token is gone
    assert len(_numbers(client.get(address))) == 7


def test_the_polled_body_comes_alone_for_htmx_and_keeps_the_filters(client, front_desk, day):
    client.force_login(front_desk)
    body = client.get(reverse("staff:today"), {"department": "sur"}, HTTP_HX_REQUEST="true")
    text = body.content.decode()
    assert text.startswith('<div id="board-body"') and "<html" not in text
    assert 'hx-get="/staff/today/?department=sur"' in text or "department=sur" in text
    assert 'hx-trigger="every 10s"' in text


def test_keyboard_check_in_by_number_and_session(client, front_desk, day):
    client.force_login(front_desk)
    url = reverse("staff:board_check_in")
    # Number 1 is in both sessions: the desk is asked to choose.
    ambiguous = client.post(url, {"number": "1"})
    assert ambiguous.status_code == 400
    assert "2" in ambiguous.content.decode()
    assert Appointment.objects.get(pk=day["confirmed"].pk).status == AppointmentStatus.CONFIRMED

    done = client.post(url + "?department=med", {"number": "1", "schedule": day["morning"].pk})
    assert done.status_code == 302 and "department=med" in done["Location"]
    assert Appointment.objects.get(pk=day["confirmed"].pk).status == AppointmentStatus.CHECKED_IN

    # Now only the afternoon's number 1 is left to check in: no session needed.
    assert client.post(url, {"number": "1"}).status_code == 302
    assert Appointment.objects.get(pk=day["afternoon_1"].pk).status == AppointmentStatus.CHECKED_IN


@pytest.mark.parametrize("number", ["", "abc", "0", "99999", "77"])
def test_keyboard_check_in_refuses_bad_numbers_and_writes_nothing(client, front_desk, day, number):
    client.force_login(front_desk)
    before = list(Appointment.objects.order_by("pk").values_list("status", flat=True))
    response = client.post(reverse("staff:board_check_in"), {"number": number})
    assert response.status_code in (400, 404)
    assert list(Appointment.objects.order_by("pk").values_list("status", flat=True)) == before


def test_the_board_costs_the_same_queries_at_ten_times_the_demo_day(
    client, front_desk, levels, django_assert_max_num_queries
):
    doctor = DoctorFactory()
    first = _session(doctor, start=dt.time(7, 0), session=Session.MORNING)
    _patient(first, 1)
    _paid(_patient(first, 2, status=AppointmentStatus.COMPLETED), "10.00", paid_at=timezone.now())
    client.force_login(front_desk)
    client.get(reverse("staff:today"))  # warm the session and permission caches
    with CaptureQueriesContext(connection) as small:
        assert client.get(reverse("staff:today")).status_code == 200

    # 30 sessions × 30 patients: seed_demo spreads 3,000 appointments over 35 days (about 86
    # a day), so this is ten times the demo's day.
    members = [MemberFactory() for _ in range(30)]
    starts = [dt.time(8 + h % 10, 15 * (h // 10)) for h in range(30)]
    doctors = [DoctorFactory() for _ in range(10)]
    rows = []
    for i, start in enumerate(starts):
        schedule = _session(doctors[i % 10], start=start, session=Session.MORNING)
        for n, member in enumerate(members, start=1):
            rows.append(
                Appointment(
                    member=member,
                    schedule=schedule,
                    queue_number=n,
                    estimated_time=start,
                    status=AppointmentStatus.CONFIRMED,
                    channel=Channel.WEB,
                    fee=Decimal("0.00"),
                )
            )
    Appointment.objects.bulk_create(rows)

    with django_assert_max_num_queries(len(small)):
        page = client.get(reverse("staff:today"))
    assert len(_numbers(page)) == 902


def test_polling_does_not_keep_an_idle_desk_logged_in(client, front_desk, day):
    """The body polls every 10 s: that is nobody at work, so the staff's 30 idle minutes run
    on; when they are up, the poll sends the whole page to log in (HX-Redirect)."""
    client.force_login(front_desk)
    assert client.get(reverse("staff:today")).status_code == 200
    session = client.session
    session[SESSION_SEEN] = int(time.time()) - 29 * 60
    session.save()
    poll = {"HTTP_HX_REQUEST": "true", "HTTP_X_MEDBOOK_POLL": "1"}
    assert client.get(reverse("staff:today"), **poll).status_code == 200
    assert client.session[SESSION_SEEN] < int(time.time()) - 28 * 60  # not refreshed
    session = client.session
    session[SESSION_SEEN] = int(time.time()) - 31 * 60
    session.save()
    expired = client.get(reverse("staff:today"), **poll)
    assert expired.status_code == 204
    assert expired["HX-Redirect"] == reverse("staff:login")
    assert client.get(reverse("staff:today")).status_code == 302  # logged out


def test_keyboard_check_in_looks_only_at_the_sessions_shown(client, front_desk, day):
    """Number 1 is in both sessions; a desk looking at surgery only means surgery's."""
    client.force_login(front_desk)
    done = client.post(reverse("staff:board_check_in") + "?department=sur", {"number": "1"})
    assert done.status_code == 302
    assert Appointment.objects.get(pk=day["afternoon_1"].pk).status == AppointmentStatus.CHECKED_IN
    assert Appointment.objects.get(pk=day["confirmed"].pk).status == AppointmentStatus.CONFIRMED


def test_clearing_the_search_keeps_the_filters(client, front_desk, day):
    client.force_login(front_desk)
    address = client.post(reverse("staff:today") + "?department=med", {"q": "张"})["Location"]
    page = client.get(address).content.decode()
    assert 'href="/staff/today/?department=med">' in page
