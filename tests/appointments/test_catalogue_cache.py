"""The cached catalogue and doctor pages (appointments/catalogue_cache.py): a repeat visit reads
no catalogue rows, every write that changes what they show is seen on the next visit, and the
booking path never trusts the cache."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from appointments import catalogue_cache, services
from appointments.choices import ScheduleStatus
from appointments.exceptions import SoldOut
from appointments.models import Schedule
from tests.appointments.factories import ScheduleFactory, book
from tests.members.factories import MemberFactory

pytestmark = [pytest.mark.django_db]

CATALOGUE_TABLES = ('"appointments_doctor"', '"appointments_schedule"', '"appointments_department"')


def _catalogue_reads(client, url: str, **headers: str) -> tuple[str, int]:
    """The page's text and how many of its statements read the catalogue's tables."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=headers)
    assert response.status_code == 200
    reads = [q for q in queries.captured_queries if any(t in q["sql"] for t in CATALOGUE_TABLES)]
    return response.content.decode(), len(reads)


@pytest.fixture
def doctor_page(levels):
    schedule = ScheduleFactory(doctor__name="林巧稚", capacity=10)
    return schedule, reverse("appointments:doctor_detail", args=[schedule.doctor_id])


def test_it_serves_a_repeat_visit_and_the_poll_without_catalogue_reads(client, doctor_page):
    _, url = doctor_page
    _, reads_first = _catalogue_reads(client, url)
    again, reads_again = _catalogue_reads(client, url)
    poll, reads_poll = _catalogue_reads(client, url, HX_Request="true")

    assert catalogue_cache.enabled()
    assert reads_first >= 2
    assert (reads_again, reads_poll) == (0, 0)
    assert "剩余 10 个号" in again
    assert "剩余 10 个号" in poll


def test_a_booking_and_a_cancellation_show_on_the_next_poll(
    client, doctor_page, django_capture_on_commit_callbacks
):
    schedule, url = doctor_page
    _catalogue_reads(client, url)
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(MemberFactory(), schedule)
    assert "剩余 9 个号" in _catalogue_reads(client, url, HX_Request="true")[0]

    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_appointment(
            appointment=appointment, by=appointment.member.user, reason="test"
        )
    assert "剩余 10 个号" in _catalogue_reads(client, url, HX_Request="true")[0]


def test_changes_of_sessions_doctors_and_departments_show_on_the_next_visit(
    client, doctor_page, django_capture_on_commit_callbacks
):
    schedule, url = doctor_page
    home = reverse("appointments:home")
    _catalogue_reads(client, url)
    _catalogue_reads(client, home)

    with django_capture_on_commit_callbacks(execute=True):
        schedule.capacity = 12
        schedule.save()
    assert "剩余 12 个号" in _catalogue_reads(client, url)[0]

    doctor = schedule.doctor
    with django_capture_on_commit_callbacks(execute=True):
        doctor.name = "林巧稚教授"
        doctor.registration_fee = Decimal("80.00")
        doctor.save()
    assert "林巧稚教授" in _catalogue_reads(client, url)[0]

    department = doctor.department
    with django_capture_on_commit_callbacks(execute=True):
        department.name = "妇产科（新）"
        department.save()
    assert "妇产科（新）" in _catalogue_reads(client, home)[0]

    with django_capture_on_commit_callbacks(execute=True):
        doctor.is_active = False
        doctor.save()
    assert client.get(url).status_code == 404


def test_stale_cache_never_decides_a_booking(client, doctor_page) -> None:
    schedule, url = doctor_page
    _catalogue_reads(client, url)
    # Behind the cache's back (no invalidation): the page still shows the old count …
    Schedule.objects.filter(pk=schedule.pk).update(booked=10)
    page, reads = _catalogue_reads(client, url)
    assert reads == 0
    assert "剩余 10 个号" in page
    # … but the booking service reads the row it decides on.
    with pytest.raises(SoldOut):
        book(MemberFactory(), Schedule.objects.get(pk=schedule.pk))


def test_it_reads_the_database_every_time_when_switched_off(client, doctor_page, settings):
    settings.CATALOGUE_CACHE = False
    _, url = doctor_page
    _catalogue_reads(client, url)
    assert _catalogue_reads(client, url)[1] >= 2


def test_the_release_sweep_and_publication_invalidate(
    client, levels, django_capture_on_commit_callbacks
):
    schedule = ScheduleFactory(status=ScheduleStatus.DRAFT)
    url = reverse("appointments:doctor_detail", args=[schedule.doctor_id])
    assert "剩余" not in _catalogue_reads(client, url)[0]  # a draft is not shown
    with django_capture_on_commit_callbacks(execute=True):
        assert services.release_due_schedules() == 1
    assert "剩余 10 个号" in _catalogue_reads(client, url)[0]
