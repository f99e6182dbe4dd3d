"""check_integrity finds drift in counters, queue numbers and ledgers, and passes when none."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from appointments.choices import Channel
from appointments.models import Appointment, Schedule
from appointments.services import book_appointment
from members.models import Member, PointsReason
from members.patients import self_patient
from members.services import add_points
from tests.appointments.factories import ScheduleFactory

pytestmark = [pytest.mark.core, pytest.mark.django_db]


@pytest.fixture
def booked(member) -> Appointment:
    add_points(member=member, delta=10, reason=PointsReason.VISIT)
    return book_appointment(member=member, schedule=ScheduleFactory(), channel=Channel.WEB)


def test_it_passes_on_consistent_data(booked) -> None:
    out = io.StringIO()
    call_command("check_integrity", stdout=out)
    assert "all agree" in out.getvalue()


def test_it_reports_a_drifted_counter(booked) -> None:
    Schedule.objects.filter(pk=booked.schedule_id).update(booked=3)
    out = io.StringIO()

    with pytest.raises(CommandError, match="1 integrity problem"):
        call_command("check_integrity", stdout=out)
    assert f"schedule {booked.schedule_id}: booked=3 but 1 active" in out.getvalue()


def test_it_reports_slots_held_for_the_waitlist_without_an_offer(booked) -> None:
    Schedule.objects.filter(pk=booked.schedule_id).update(offered=1)
    out = io.StringIO()

    with pytest.raises(CommandError, match="1 integrity problem"):
        call_command("check_integrity", stdout=out)
    assert f"schedule {booked.schedule_id}: offered=1 but 0 open waitlist offers" in out.getvalue()


def test_it_reports_a_queue_number_beyond_capacity(booked) -> None:
    Appointment.objects.filter(pk=booked.pk).update(queue_number=99)
    out = io.StringIO()

    with pytest.raises(CommandError):
        call_command("check_integrity", stdout=out)
    assert "queue number 99 outside 1..10" in out.getvalue()


def test_it_reports_ledger_drift(booked, member) -> None:
    Member.objects.filter(pk=member.pk).update(points_balance=11)
    out = io.StringIO()

    with pytest.raises(CommandError):
        call_command("check_integrity", stdout=out)
    assert "balance 11 but ledger sums to 10" in out.getvalue()


def test_it_reports_an_appointment_for_another_accounts_patient(booked, other_member) -> None:
    stranger = self_patient(member=other_member)
    Appointment.objects.filter(pk=booked.pk).update(patient=stranger)
    out = io.StringIO()

    with pytest.raises(CommandError):
        call_command("check_integrity", stdout=out)
    assert f"patient {stranger.pk} is not one of member {booked.member_id}'s patients" in (
        out.getvalue()
    )
