"""The demo member 13800000000 has the doctors' records of their latest completed visits."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from appointments.choices import AppointmentStatus
from demo import data
from members.selectors import member_by_phone
from records import selectors

pytestmark = pytest.mark.django_db


# The default seed, and seeds that left 13800000000 two completed visits (or none, at some
# hours of the day: CI once) before the seed made sure of three.
@pytest.mark.parametrize("seed", [20261124, 2, 5, 6])
def test_the_demo_member_reads_records_of_their_latest_visits(seed: int) -> None:
    call_command("seed_demo", members=40, appointments=300, seed=seed, stdout=io.StringIO())
    member = member_by_phone("13800000000")
    completed = member.appointments.filter(status=AppointmentStatus.COMPLETED).count()
    views = selectors.member_records(member=member)
    assert completed >= 3
    assert len(views) == 3
    assert views[0].amended and views[0].current.amendment_reason == "补充医嘱"
    assert all(v.record.appointment.member_id == member.pk for v in views)
    # Each record is what a doctor of the visit's department writes (no eye doctor's I10).
    for view in views:
        department = view.record.appointment.schedule.doctor.department.code
        assert view.current.diagnosis_code == data.DEMO_VISIT_RECORDS[department][1], department
