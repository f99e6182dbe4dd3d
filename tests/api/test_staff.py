"""Issue 14: the clinic day through the API — today's sessions (all for the desk and clinic
admins, a doctor's own for a doctor), check-in by session and queue number, and in a queue the
login runs: call next, complete (with the visit's points), no-show. The console's services and
rules: another doctor's session or patient is a 404, members get a 403, staff tokens without the
second factor are refused."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from appointments.choices import AppointmentStatus
from appointments.models import Appointment
from appointments.services import check_in_appointment
from billing.gateways import sandbox
from billing.services import confirm_payment
from medbook.models import OperationLog
from members.models import PointsEntry
from tests.api.helpers import call, error, pair_for
from tests.appointments import factories as appointments
from tests.appointments.factories import DoctorFactory, ScheduleFactory
from tests.billing import factories as billing
from tests.members.factories import MemberFactory
from tests.security.world import running_since, session_under_way

pytestmark = pytest.mark.django_db


def staff_token(user) -> str:
    return pair_for(user, second_factor=True).access


def paid(member, schedule):
    """``member``'s booking of ``schedule`` (made an hour before it began), paid on the sandbox."""
    at = schedule.starts_at - dt.timedelta(hours=1)
    appointment = billing.book(member, schedule, now=at)
    order = appointment.order
    trade = sandbox.pay(order=order, now=at)
    confirm_payment(
        out_trade_no=order.out_trade_no,
        gateway_trade_no=trade.trade_no,
        amount=order.amount,
        now=at,
    )
    appointment.refresh_from_db()
    return appointment


@pytest.fixture
def day(member, other_member, doctor_user):
    """The doctor's session under way (member A checked in, B confirmed, a third member's
    booking still unpaid) and another doctor's session today (one patient checked in)."""
    ours = session_under_way(doctor_user.doctor)
    ours.fee = Decimal("50.00")
    ours.save(update_fields=["fee"])
    a = check_in_appointment(appointment=paid(member, ours))
    b = paid(other_member, ours)
    unpaid = billing.book(
        MemberFactory(name="王五"), ours, now=ours.starts_at - dt.timedelta(hours=1)
    )
    theirs = session_under_way(DoctorFactory(name="陈医生"))
    c = check_in_appointment(
        appointment=appointments.book(
            MemberFactory(name="赵六"), theirs, now=theirs.starts_at - dt.timedelta(hours=1)
        )
    )
    return {"ours": ours, "theirs": theirs, "a": a, "b": b, "unpaid": unpaid, "c": c}


# -- today's sessions -----------------------------------------------------------------------


def test_the_desk_sees_every_session_of_today_with_counts(client, front_desk, day) -> None:
    response = call(client, "get", "staff_today", token=staff_token(front_desk))
    assert response.status_code == 200
    sessions = {s["id"]: s for s in response.json()}
    assert set(sessions) == {day["ours"].pk, day["theirs"].pk}
    ours = sessions[day["ours"].pk]
    assert ours["doctor_name"] == "王医生"
    assert (ours["capacity"], ours["booked"]) == (day["ours"].capacity, 3)
    assert ours["counts"] == {
        "pending_payment": 1,
        "not_arrived": 1,
        "waiting": 1,
        "with_doctor": 0,
        "completed": 0,
        "no_show": 0,
    }
    assert ours["can_run_queue"] is False
    rows = {row["id"]: row for row in ours["appointments"]}
    assert rows[day["b"].pk]["can_check_in"] is True
    assert rows[day["a"].pk]["can_check_in"] is False
    assert rows[day["a"].pk]["patient_name"] == "张三"
    # Numbers masked as on the console's board.
    assert rows[day["a"].pk]["masked_phone"] == day["a"].member.masked_phone
    assert "****" in rows[day["a"].pk]["masked_phone"]


def test_a_doctor_sees_only_their_own_sessions(client, doctor_user, day) -> None:
    response = call(client, "get", "staff_today", token=staff_token(doctor_user))
    sessions = response.json()
    assert [s["id"] for s in sessions] == [day["ours"].pk]
    assert sessions[0]["can_run_queue"] is True
    rows = {row["id"]: row for row in sessions[0]["appointments"]}
    assert rows[day["a"].pk]["can_complete"] is True
    assert rows[day["b"].pk]["can_check_in"] is False  # the desk checks in, not the doctor


def test_a_clinic_admin_sees_every_session_and_runs_any_queue(client, clinic_admin, day) -> None:
    sessions = call(client, "get", "staff_today", token=staff_token(clinic_admin)).json()
    assert len(sessions) == 2 and all(s["can_run_queue"] for s in sessions)


def test_sessions_of_other_days_and_drafts_are_not_today(client, front_desk, day) -> None:
    ScheduleFactory(doctor=day["ours"].doctor)  # three days ahead
    ScheduleFactory(doctor=day["ours"].doctor, date=running_since().date(), status="draft", fee=0)
    sessions = call(client, "get", "staff_today", token=staff_token(front_desk)).json()
    assert {s["id"] for s in sessions} == {day["ours"].pk, day["theirs"].pk}


def test_todays_sessions_are_few_queries(
    client, front_desk, day, django_assert_max_num_queries
) -> None:
    token = staff_token(front_desk)
    call(client, "get", "staff_today", token=token)  # warms the login's cache
    with django_assert_max_num_queries(8):
        assert call(client, "get", "staff_today", token=token).status_code == 200


def test_the_board_filters_and_searches_as_the_console(client, front_desk, day) -> None:
    token = staff_token(front_desk)

    def ids(**query) -> set[int]:
        response = call(client, "get", "staff_today", token=token, query=query)
        assert response.status_code == 200, response.content
        return {row["id"] for s in response.json() for row in s["appointments"]}

    everyone = {day[k].pk for k in ("a", "b", "unpaid", "c")}
    assert ids() == everyone
    assert ids(doctor=day["ours"].doctor_id) == {day[k].pk for k in ("a", "b", "unpaid")}
    assert ids(status="checked_in") == {day["a"].pk, day["c"].pk}
    assert ids(q="赵六") == {day["c"].pk}
    assert ids(q=day["b"].member.phone.replace("+86", "")) == {day["b"].pk}  # full mobile
    assert ids(q=str(day["unpaid"].queue_number), doctor=day["ours"].doctor_id) == {
        day["unpaid"].pk
    }


def test_a_doctor_cannot_filter_their_way_into_another_doctors_session(
    client, doctor_user, day
) -> None:
    token = staff_token(doctor_user)
    sessions = call(
        client, "get", "staff_today", token=token, query={"doctor": day["theirs"].doctor_id}
    ).json()
    assert [s["id"] for s in sessions] == [day["ours"].pk]


@pytest.mark.parametrize(
    "query",
    [{"status": "cancelled"}, {"doctor": "x"}, {"session": "night"}, {"q": "x" * 41}],
)
def test_bad_filters_are_a_400(client, front_desk, day, query) -> None:
    response = call(client, "get", "staff_today", token=staff_token(front_desk), query=query)
    assert response.status_code == 400


def test_the_days_totals_for_the_desk_and_for_a_doctor(client, front_desk, doctor_user, day):
    totals = call(client, "get", "staff_today_totals", token=staff_token(front_desk)).json()
    assert totals["sessions"] == 2 and totals["booked"] == 4
    assert totals["checked_in"] == 2 and totals["waiting"] == 2
    assert totals["revenue"] == "100.00"  # a and b paid 50.00 each today

    own = call(client, "get", "staff_today_totals", token=staff_token(doctor_user)).json()
    assert own["sessions"] == 1 and own["booked"] == 3


# -- who may ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "args", "body"),
    [
        ("staff_today", None, None),
        ("staff_check_in", None, {"schedule": 1, "number": 1}),
        ("staff_call_next", "ours", None),
        ("staff_appointment_complete", "a", None),
        ("staff_appointment_no_show", "b", None),
    ],
)
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_members_are_refused_in_their_language(
    client, member, day, name, args, body, language
) -> None:
    method = "get" if name == "staff_today" else "post"
    response = call(
        client,
        method,
        name,
        body,
        token=pair_for(member.user).access,
        args=[day[args].pk] if args else None,
        language=language,
    )
    assert error(response) == (403, "permission_denied")
    message = response.json()["error"]["message"]
    expected = (
        "Your role does not include this." if language == "en" else "您的角色无权进行此操作。"
    )
    assert message == expected


def test_a_staff_token_without_the_second_factor_is_refused(client, front_desk, day) -> None:
    token = pair_for(front_desk, second_factor=False).access
    assert error(call(client, "get", "staff_today", token=token)) == (
        403,
        "second_factor_required",
    )


def test_without_a_token_it_is_a_401(client, day) -> None:
    assert error(call(client, "get", "staff_today")) == (401, "not_authenticated")


def test_finance_may_not_see_the_day(client, day) -> None:
    from medbook.roles import FINANCE
    from tests.conftest import staff_user

    finance = staff_user("finance", FINANCE)
    assert error(call(client, "get", "staff_today", token=staff_token(finance))) == (
        403,
        "permission_denied",
    )


# -- check-in ---------------------------------------------------------------------------------


def _check_in(client, user, schedule, number, language="en"):
    return call(
        client,
        "post",
        "staff_check_in",
        {"schedule": schedule, "number": number},
        token=staff_token(user),
        language=language,
    )


def test_the_desk_checks_a_patient_in_by_number(client, front_desk, day) -> None:
    b = day["b"]
    response = _check_in(client, front_desk, day["ours"].pk, b.queue_number)
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["status"], body["can_check_in"]) == (b.pk, "checked_in", False)
    assert body["checked_in_at"]
    b.refresh_from_db()
    assert b.status == AppointmentStatus.CHECKED_IN


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "Not paid yet: the patient must pay before checking in."),
        ("zh-hans", "尚未支付：患者需先完成支付才能签到。"),
    ],
)
def test_an_unpaid_booking_is_not_checked_in(client, front_desk, day, language, message) -> None:
    unpaid = day["unpaid"]
    response = _check_in(client, front_desk, day["ours"].pk, unpaid.queue_number, language)
    assert error(response) == (409, "not_paid")
    assert response.json()["error"]["message"] == message
    unpaid.refresh_from_db()
    assert unpaid.status == AppointmentStatus.PENDING_PAYMENT


def test_checking_in_twice_is_a_409(client, front_desk, day) -> None:
    response = _check_in(client, front_desk, day["ours"].pk, day["a"].queue_number)
    assert error(response) == (409, "illegal_transition")


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "Nobody has this number in this session today."),
        ("zh-hans", "今天该出诊中没有这个序号。"),
    ],
)
def test_a_number_nobody_has_is_a_404(client, front_desk, day, language, message) -> None:
    response = _check_in(client, front_desk, day["ours"].pk, 9, language)
    assert error(response) == (404, "not_found")
    assert response.json()["error"]["message"] == message


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"schedule": "x", "number": 1},
        {"schedule": 1, "number": 0},
        {"schedule": 1, "number": 10**9},
        {"schedule": 2**40, "number": 1},
    ],
)
def test_bad_input_is_a_400_that_checks_in_nobody(client, front_desk, day, body) -> None:
    response = call(client, "post", "staff_check_in", body, token=staff_token(front_desk))
    assert error(response) == (400, "invalid")
    assert response.json()["error"]["fields"]
    assert not Appointment.objects.filter(pk=day["b"].pk, status="checked_in").exists()


def test_a_session_of_another_day_is_refused_as_the_console_does(client, front_desk, day) -> None:
    later = ScheduleFactory(fee=0)
    booked = appointments.book(MemberFactory(), later)
    response = _check_in(client, front_desk, later.pk, booked.queue_number)
    assert error(response) == (400, "invalid")
    assert "schedule" in response.json()["error"]["fields"]
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.CONFIRMED


def test_a_doctor_does_not_check_patients_in(client, doctor_user, day) -> None:
    response = _check_in(client, doctor_user, day["ours"].pk, day["b"].queue_number)
    assert error(response) == (403, "permission_denied")


# -- the doctor's queue -------------------------------------------------------------------------


def test_a_doctor_calls_the_next_patient_then_nobody(client, doctor_user, day) -> None:
    token = staff_token(doctor_user)
    first = call(client, "post", "staff_call_next", token=token, args=[day["ours"].pk])
    assert first.status_code == 200
    called = first.json()["called"]
    assert (called["id"], called["queue_number"]) == (day["a"].pk, day["a"].queue_number)
    assert called["called_at"] and called["can_complete"] is True
    again = call(client, "post", "staff_call_next", token=token, args=[day["ours"].pk])
    assert again.json() == {"called": None}
    today = call(client, "get", "staff_today", token=token).json()[0]
    assert today["calling"] == day["a"].queue_number
    assert today["counts"]["with_doctor"] == 1 and today["counts"]["waiting"] == 0


def test_another_doctors_session_and_patients_are_not_found(client, doctor_user, day) -> None:
    token = staff_token(doctor_user)
    for name, target in [
        ("staff_call_next", day["theirs"]),
        ("staff_appointment_complete", day["c"]),
        ("staff_appointment_no_show", day["c"]),
    ]:
        assert error(call(client, "post", name, token=token, args=[target.pk])) == (
            404,
            "not_found",
        )
    day["c"].refresh_from_db()
    assert day["c"].status == AppointmentStatus.CHECKED_IN and day["c"].called_at is None


def test_a_missing_session_or_appointment_is_not_found(client, clinic_admin, day) -> None:
    token = staff_token(clinic_admin)
    for name in ["staff_call_next", "staff_appointment_complete", "staff_appointment_no_show"]:
        assert error(call(client, "post", name, token=token, args=[2**31 - 1])) == (
            404,
            "not_found",
        )


def test_the_desk_does_not_run_a_queue(client, front_desk, day) -> None:
    token = staff_token(front_desk)
    response = call(client, "post", "staff_call_next", token=token, args=[day["ours"].pk])
    assert error(response) == (403, "permission_denied")


def test_completing_a_paid_visit_awards_its_points_once(client, doctor_user, member, day) -> None:
    token = staff_token(doctor_user)
    response = call(client, "post", "staff_appointment_complete", token=token, args=[day["a"].pk])
    assert response.status_code == 200
    assert response.json()["status"] == "completed" and response.json()["completed_at"]
    entry = PointsEntry.objects.get(member=member)
    assert (entry.delta, entry.reference) == (50, f"appointment:{day['a'].pk}")
    assert OperationLog.objects.filter(action="appointment.complete", actor=doctor_user).exists()
    again = call(client, "post", "staff_appointment_complete", token=token, args=[day["a"].pk])
    assert error(again) == (409, "illegal_transition")
    assert PointsEntry.objects.filter(member=member).count() == 1


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_visit_not_checked_in_cannot_be_completed(client, doctor_user, day, language) -> None:
    response = call(
        client,
        "post",
        "staff_appointment_complete",
        token=staff_token(doctor_user),
        args=[day["b"].pk],
        language=language,
    )
    assert error(response) == (409, "illegal_transition")
    assert ("Confirmed" if language == "en" else "已确认") in response.json()["error"]["message"]
    assert not PointsEntry.objects.exists()


def test_a_doctor_marks_a_no_show(client, doctor_user, day) -> None:
    b = day["b"]
    response = call(
        client, "post", "staff_appointment_no_show", token=staff_token(doctor_user), args=[b.pk]
    )
    assert response.status_code == 200
    assert response.json()["status"] == "no_show"
    b.refresh_from_db()
    b.schedule.refresh_from_db()
    assert b.status == AppointmentStatus.NO_SHOW and b.schedule.booked == 2


def test_a_completed_visit_is_no_no_show(client, doctor_user, day) -> None:
    token = staff_token(doctor_user)
    call(client, "post", "staff_appointment_complete", token=token, args=[day["a"].pk])
    response = call(client, "post", "staff_appointment_no_show", token=token, args=[day["a"].pk])
    assert error(response) == (409, "illegal_transition")


def test_the_staff_endpoints_answer_nothing_but_post(client, doctor_user, day) -> None:
    token = staff_token(doctor_user)
    response = call(client, "get", "staff_call_next", token=token, args=[day["ours"].pk])
    assert error(response) == (405, "method_not_allowed")


def test_the_schema_describes_the_staff_endpoints_errors() -> None:
    import io

    import yaml
    from django.core.management import call_command

    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    paths = yaml.safe_load(out.getvalue())["paths"]
    check_in = paths["/api/v1/staff/check-in/"]["post"]["responses"]
    assert {"200", "400", "401", "403", "404", "409", "429"} <= set(check_in)
    complete = paths["/api/v1/staff/appointments/{id}/complete/"]["post"]["responses"]
    assert {"200", "401", "403", "404", "409"} <= set(complete)
    assert {"200", "401", "403"} <= set(paths["/api/v1/staff/today/"]["get"]["responses"])
    me = paths["/api/v1/me/"]["patch"]["responses"]
    assert {"200", "202", "400", "401", "403", "429"} <= set(me)
    assert "200" in paths["/api/v1/membership/points/"]["get"]["responses"]
