"""Issue 14: the clinic day's API calls racing each other on PostgreSQL, from real threads: a
visit completed from two devices at once is completed and rewarded once, a patient is checked in
once, and doctors pressing "call next" together never call the same patient twice."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connections
from django.test import Client

from appointments.choices import AppointmentStatus
from appointments.models import Appointment
from appointments.services import check_in_appointment
from members.models import PointsEntry
from members.selectors import members_with_ledger_drift
from tests.api.helpers import call
from tests.api.test_staff import paid, staff_token
from tests.members.factories import MemberFactory
from tests.security.world import session_under_way

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

THREADS = 6


def at_once(request: Callable[[Client], object], n: int = THREADS) -> list:
    """``request`` from ``n`` threads released together, each with its own client and
    connection; their responses."""
    start = threading.Barrier(n)
    responses: list = []

    def run() -> None:
        try:
            client = Client()
            start.wait()
            responses.append(request(client))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(responses) == n
    return responses


@pytest.fixture
def session(doctor_user):
    from decimal import Decimal

    schedule = session_under_way(doctor_user.doctor)
    schedule.fee = Decimal("50.00")
    schedule.save(update_fields=["fee"])
    return schedule


def test_a_visit_completed_from_several_devices_at_once_is_rewarded_once(
    doctor_user, member, session
) -> None:
    visit = check_in_appointment(appointment=paid(member, session))
    token = staff_token(doctor_user)
    responses = at_once(
        lambda c: call(c, "post", "staff_appointment_complete", token=token, args=[visit.pk])
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * (THREADS - 1), statuses
    assert PointsEntry.objects.filter(member=member).count() == 1
    assert not members_with_ledger_drift().exists()


def test_a_patient_checked_in_from_several_desks_at_once_is_checked_in_once(
    front_desk, member, session
) -> None:
    visit = paid(member, session)
    token = staff_token(front_desk)
    body = {"schedule": session.pk, "number": visit.queue_number}
    responses = at_once(lambda c: call(c, "post", "staff_check_in", body, token=token))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * (THREADS - 1), statuses
    assert Appointment.objects.get(pk=visit.pk).status == AppointmentStatus.CHECKED_IN


def test_call_next_pressed_together_never_calls_a_patient_twice(
    doctor_user, clinic_admin, session, levels
) -> None:
    for _ in range(THREADS - 2):
        check_in_appointment(appointment=paid(MemberFactory(), session))
    tokens = [staff_token(doctor_user), staff_token(clinic_admin)]
    counter = iter(range(THREADS))
    lock = threading.Lock()

    def press(client: Client):
        with lock:
            n = next(counter)
        return call(client, "post", "staff_call_next", token=tokens[n % 2], args=[session.pk])

    responses = at_once(press)
    assert {r.status_code for r in responses} == {200}
    called = [r.json()["called"]["id"] for r in responses if r.json()["called"]]
    assert len(called) == len(set(called)) == THREADS - 2
    assert Appointment.objects.filter(schedule=session, called_at__isnull=False).count() == (
        THREADS - 2
    )
