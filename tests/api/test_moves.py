"""改约 through the API: the sessions an appointment may move to, each with what moving there
means for the money (GET …/reschedule/options/), and the move (POST …/reschedule/): a cheaper
session refunds the difference, a dearer one answers the new appointment awaiting the
difference, paid with the pay endpoint; the level's limit is the service's. Another member's
appointment is a 404 and a refused move writes nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from appointments.choices import AppointmentStatus
from appointments.models import Appointment, Reschedule
from billing.models import Refund
from tests.api.helpers import call, error, pair_for
from tests.appointments.factories import ScheduleFactory
from tests.billing.factories import paid_order
from tests.billing.test_reschedule import later_session, move

pytestmark = pytest.mark.django_db


def _token(member) -> str:
    return pair_for(member.user).access


def _options(client, member, appointment_id):
    return call(
        client,
        "get",
        "appointment_reschedule_options",
        token=_token(member),
        args=[appointment_id],
    )


def _move(client, member, appointment_id, schedule_id):
    return call(
        client,
        "post",
        "appointment_reschedule",
        {"schedule": schedule_id},
        token=_token(member),
        args=[appointment_id],
    )


def test_the_options_say_what_each_session_costs(client, member) -> None:
    order = paid_order(member)  # ¥50 paid
    current = order.appointment.schedule
    cheaper = later_session(current, fee=Decimal("30.00"))
    dearer = later_session(current, days=2, fee=Decimal("80.00"))
    ScheduleFactory(fee=Decimal("30.00"))  # another doctor's: not offered

    response = _options(client, member, order.appointment_id)

    assert response.status_code == 200
    body = response.json()
    assert body["can_move"] is True and body["reason_code"] is None
    assert (body["moves"], body["paid"], body["is_hold"]) == (0, "50.00", False)
    rows = {row["session"]["id"]: row for row in body["options"]}
    assert set(rows) == {cheaper.pk, dearer.pk}
    assert (rows[cheaper.pk]["refund"], rows[cheaper.pk]["extra"]) == ("20.00", "0.00")
    assert (rows[dearer.pk]["refund"], rows[dearer.pk]["extra"]) == ("0.00", "30.00")
    assert rows[dearer.pk]["can_move"] is True


def test_a_booking_moved_as_often_as_the_level_allows_says_why(client, member) -> None:
    order = paid_order(member)
    appointment = order.appointment
    for day in range(1, member.level.reschedules_per_booking + 1):
        appointment = move(appointment, later_session(order.appointment.schedule, days=day)).new
    later_session(order.appointment.schedule, days=9)

    body = _options(client, member, appointment.pk).json()
    assert body["can_move"] is False and body["reason_code"] == "reschedule_limit"
    assert body["reason"] and body["options"] == []
    target = later_session(order.appointment.schedule, days=10)
    assert error(_move(client, member, appointment.pk, target.pk)) == (409, "reschedule_limit")


def test_a_cheaper_move_refunds_the_difference(client, member) -> None:
    order = paid_order(member)
    cheaper = later_session(order.appointment.schedule, fee=Decimal("30.00"))

    response = _move(client, member, order.appointment_id, cheaper.pk)

    assert response.status_code == 200
    body = response.json()
    assert (body["refund"], body["completed"], body["difference"]) == ("20.00", True, "0.00")
    assert body["previous"] == order.appointment_id
    assert body["appointment"]["schedule"]["id"] == cheaper.pk
    assert body["appointment"]["refunds"]["requested"] == "20.00"
    assert Refund.objects.get().amount == Decimal("20.00")


def test_a_dearer_move_answers_the_top_up_to_pay(client, member) -> None:
    order = paid_order(member)
    dearer = later_session(order.appointment.schedule, fee=Decimal("80.00"))

    body = _move(client, member, order.appointment_id, dearer.pk).json()

    assert (body["completed"], body["difference"], body["refund"]) == (False, "30.00", "0.00")
    new = body["appointment"]
    assert new["status"] == AppointmentStatus.PENDING_PAYMENT and new["can_pay"] is True
    assert new["order"]["amount"] == "30.00"
    old = Appointment.objects.get(pk=order.appointment_id)
    assert old.status == AppointmentStatus.CONFIRMED  # until the difference is paid
    pay = call(
        client,
        "post",
        "appointment_pay",
        {"method": "sandbox"},
        token=_token(member),
        args=[new["id"]],
    )
    assert pay.status_code == 200
    assert pay.json()["amount"] == "30.00" and pay.json()["url"].startswith("http")


def test_another_members_appointment_is_not_found(client, member, other_member) -> None:
    order = paid_order(member)
    target = later_session(order.appointment.schedule)
    assert error(_options(client, other_member, order.appointment_id)) == (404, "not_found")
    assert error(_move(client, other_member, order.appointment_id, target.pk)) == (
        404,
        "not_found",
    )
    assert not Reschedule.objects.exists()


def test_bad_input_moves_nothing(client, member) -> None:
    order = paid_order(member)
    for body in ({}, {"schedule": "x"}, {"schedule": 0}):
        response = call(
            client,
            "post",
            "appointment_reschedule",
            body,
            token=_token(member),
            args=[order.appointment_id],
        )
        assert error(response) == (400, "invalid")
    other_doctor = ScheduleFactory()
    assert error(_move(client, member, order.appointment_id, other_doctor.pk))[0] == 400
    assert not Reschedule.objects.exists()
    assert Appointment.objects.get(pk=order.appointment_id).status == AppointmentStatus.CONFIRMED


def test_anonymous_and_staff_are_refused(client, member, front_desk, doctor_user) -> None:
    order = paid_order(member)
    assert error(
        call(client, "get", "appointment_reschedule_options", args=[order.appointment_id])
    ) == (401, "not_authenticated")
    for user in (front_desk, doctor_user):
        token = pair_for(user, second_factor=True).access
        response = call(
            client,
            "get",
            "appointment_reschedule_options",
            token=token,
            args=[order.appointment_id],
        )
        assert error(response) == (403, "permission_denied")
