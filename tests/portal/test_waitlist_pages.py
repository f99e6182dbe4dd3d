"""The waitlist's pages (候补): joining from a sold-out session, refusals that write nothing,
the list with positions, taking up an offer, and the staff console's count."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from appointments import services as appointment_services
from appointments.choices import WaitlistStatus
from appointments.models import WaitlistEntry
from billing import services
from tests.appointments.factories import ScheduleFactory
from tests.billing.factories import book
from tests.members.agreements import consent, publish_all
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def full(levels):
    schedule = ScheduleFactory(capacity=1)
    holder = book(MemberFactory(level=levels["普通"]), schedule)
    schedule.refresh_from_db()
    return schedule, holder


@pytest.fixture
def logged_in(client, member):
    publish_all()
    consent(member.user)
    client.force_login(member.user)
    return client


def test_it_shows_the_join_button_on_a_sold_out_session(logged_in, full) -> None:
    schedule, _ = full
    page = logged_in.get(reverse("appointments:doctor_detail", args=[schedule.doctor_id]))
    assert reverse("appointments:waitlist_join", args=[schedule.pk]) in page.content.decode()


def test_it_joins_and_lists_the_place_with_its_position(logged_in, full, member) -> None:
    schedule, _ = full
    joined = logged_in.post(reverse("appointments:waitlist_join", args=[schedule.pk]))
    assert joined.status_code == 302
    page = logged_in.get(reverse("appointments:waitlist"))
    entry = WaitlistEntry.objects.get(member=member)
    assert entry.schedule == schedule
    assert f'id="waitlist-{entry.pk}"' in page.content.decode()
    assert "排第 1 位" in page.content.decode()


def test_it_joins_any_session_of_the_doctor_that_day(logged_in, full, member) -> None:
    schedule, _ = full
    logged_in.post(reverse("appointments:waitlist_join", args=[schedule.pk]), {"whole_day": "1"})
    entry = WaitlistEntry.objects.get(member=member)
    assert (entry.schedule, entry.doctor_id) == (None, schedule.doctor_id)
    assert entry.date_from == entry.date_to == schedule.date


def test_joining_a_session_with_free_slots_is_a_409_writing_nothing(logged_in, levels) -> None:
    response = logged_in.post(reverse("appointments:waitlist_join", args=[ScheduleFactory().pk]))
    assert response.status_code == 409
    assert "请直接预约" in response.content.decode()
    assert not WaitlistEntry.objects.exists()


def test_joining_twice_is_a_409_and_an_unknown_session_a_404(logged_in, full) -> None:
    schedule, _ = full
    url = reverse("appointments:waitlist_join", args=[schedule.pk])
    logged_in.post(url)
    assert logged_in.post(url).status_code == 409
    assert logged_in.post(reverse("appointments:waitlist_join", args=[99999])).status_code == 404
    assert logged_in.post(url, {"patient": "not-a-patient"}).status_code == 400
    assert WaitlistEntry.objects.count() == 1


def test_taking_up_an_offer_goes_to_the_cashier(logged_in, full, member) -> None:
    schedule, holder = full
    entry = appointment_services.join_waitlist(member=member, schedule=schedule)
    services.cancel_booking(appointment=holder, by=holder.member.user, reason="x")

    response = logged_in.post(reverse("billing:waitlist_accept", args=[entry.pk]))

    entry.refresh_from_db()
    assert entry.status == WaitlistStatus.BOOKED
    assert response["Location"] == reverse("billing:appointment_pay", args=[entry.appointment_id])


def test_an_offer_that_ran_out_books_nothing_409(logged_in, full, member) -> None:
    schedule, holder = full
    entry = appointment_services.join_waitlist(member=member, schedule=schedule)
    services.cancel_booking(appointment=holder, by=holder.member.user, reason="x")
    entry.refresh_from_db()
    WaitlistEntry.objects.filter(pk=entry.pk).update(
        offer_expires_at=entry.offered_at - dt.timedelta(minutes=1)
    )

    response = logged_in.post(reverse("billing:waitlist_accept", args=[entry.pk]))

    assert response.status_code == 409
    assert not member.appointments.exists()


def test_a_waiting_place_cannot_be_accepted(logged_in, full, member) -> None:
    schedule, _ = full
    entry = appointment_services.join_waitlist(member=member, schedule=schedule)
    assert logged_in.post(reverse("billing:waitlist_accept", args=[entry.pk])).status_code == 404


def test_the_staff_week_shows_the_waitlist(client, clinic_admin, full, member) -> None:
    schedule, _ = full
    appointment_services.join_waitlist(member=member, schedule=schedule)
    client.force_login(clinic_admin)
    page = client.get(reverse("staff:schedules"), {"from": schedule.date.isoformat()})
    assert "候补 1 · 保留 0" in page.content.decode()
