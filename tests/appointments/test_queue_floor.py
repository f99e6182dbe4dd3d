"""The doctor's queue (issue 17): 叫号 one at a time, 重呼 counted, 过号 back after N others,
未到诊 only when the rule allows it (and offered by the same rule), completing with a note, the
waiting count and the average consultation; and what the waiting-room screens show."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone, translation

from appointments import exceptions as errors
from appointments import selectors, services
from appointments.choices import AppointmentStatus
from appointments.models import Appointment
from medbook.errors import Invalid
from medbook.personal_data import mask_name
from medbook.roles import DOCTOR
from tests.appointments import factories
from tests.appointments.factories import DoctorFactory, ScheduleFactory
from tests.conftest import started_ago
from tests.members.factories import MemberFactory, UserFactory

pytestmark = [pytest.mark.core, pytest.mark.django_db]


@pytest.fixture
def session(levels):
    """A free session of today under way (room 3诊室) run by a doctor with a login."""
    start = started_ago(dt.timedelta(hours=1))
    user = UserFactory(username="dr-wang")
    user.groups.add(Group.objects.get(name=DOCTOR))
    schedule = ScheduleFactory(
        doctor=DoctorFactory(user=user, name="王医生"),
        date=start.date(),
        start_time=start.time().replace(microsecond=0),
        end_time=dt.time(23, 59),
        fee=0,
        room="3诊室",
        release_at=timezone.now() - dt.timedelta(days=1),
    )
    return schedule, user


def arrive(schedule, count: int, *, names=None) -> list[Appointment]:
    """``count`` patients booked and checked in, one second apart, in this order."""
    base = timezone.now() - dt.timedelta(minutes=30)
    patients = []
    for i in range(count):
        member = MemberFactory(name=names[i]) if names else MemberFactory()
        a = factories.book(member, schedule, now=schedule.starts_at - dt.timedelta(hours=2))
        patients.append(
            services.check_in_appointment(appointment=a, now=base + dt.timedelta(seconds=i))
        )
    return patients


def waiting_numbers(schedule) -> list[int]:
    return [
        a.queue_number for a in selectors.queue_view(schedule=schedule, now=timezone.now()).waiting
    ]


def test_call_next_takes_the_next_waiting_patient(session) -> None:
    schedule, doctor = session
    first, second = arrive(schedule, 2)
    assert services.call_next(schedule=schedule, by=doctor).pk == first.pk
    assert services.call_next(schedule=schedule, by=doctor).pk == second.pk  # never first again
    assert services.call_next(schedule=schedule, by=doctor) is None
    view = selectors.queue_view(schedule=schedule, now=timezone.now())
    assert (view.calling.pk, [a.pk for a in view.also_called]) == (second.pk, [first.pk])
    assert not view.can_call_next
    assert Appointment.objects.get(pk=first.pk).call_count == 1


def test_a_skipped_patient_goes_back_after_three_others(session) -> None:
    schedule, doctor = session
    patients = arrive(schedule, 6)
    called = services.call_next(schedule=schedule, by=doctor)
    assert called.pk == patients[0].pk

    skipped = services.skip_patient(appointment=called, by=doctor)

    assert skipped.queue_place == 4
    numbers = [p.queue_number for p in patients]
    assert waiting_numbers(schedule) == [*numbers[1:4], numbers[0], *numbers[4:]]
    row = Appointment.objects.get(pk=called.pk)
    assert (row.called_at, row.skip_count, row.call_count) == (None, 1, 1)
    # The history keeps the transition: called, then skipped back.
    assert [h.skip_count for h in row.history.order_by("history_id")][-1] == 1
    # The next three are called before them, then they are.
    order = []
    for _ in range(4):
        patient = services.call_next(schedule=schedule, by=doctor)
        order.append(patient.pk)
        services.complete_appointment(appointment=patient)
    assert order == [patients[1].pk, patients[2].pk, patients[3].pk, patients[0].pk]


def test_a_skipped_patient_goes_last_when_fewer_wait(session, settings) -> None:
    schedule, doctor = session
    first, second = arrive(schedule, 2)
    services.skip_patient(appointment=services.call_next(schedule=schedule, by=doctor), by=doctor)
    assert waiting_numbers(schedule) == [second.queue_number, first.queue_number]
    later = arrive(schedule, 1)[0]  # checked in after the skip: behind them
    assert waiting_numbers(schedule) == [
        second.queue_number,
        first.queue_number,
        later.queue_number,
    ]
    settings.MEDBOOK_QUEUE_SKIP_BACK = 1
    services.skip_patient(appointment=services.call_next(schedule=schedule, by=doctor), by=doctor)
    assert waiting_numbers(schedule) == [
        first.queue_number,
        second.queue_number,
        later.queue_number,
    ]


def test_recall_counts_each_call(session) -> None:
    schedule, doctor = session
    (patient,) = arrive(schedule, 1)
    called = services.call_next(schedule=schedule, by=doctor)
    first_id = selectors.call_id(called)
    later = timezone.now() + dt.timedelta(seconds=30)
    again = services.recall_patient(appointment=patient, by=doctor, now=later)
    assert again.call_count == 2
    assert Appointment.objects.get(pk=patient.pk).called_at == later
    assert selectors.call_id(again) != first_id  # the screens speak it again


def test_only_the_patient_called_can_be_recalled_or_skipped(session) -> None:
    schedule, doctor = session
    _first, second = arrive(schedule, 2)
    services.call_next(schedule=schedule, by=doctor)
    with pytest.raises(errors.NotBeingCalled):
        services.recall_patient(appointment=second, by=doctor)
    with pytest.raises(errors.NotBeingCalled):
        services.skip_patient(appointment=second, by=doctor)
    assert Appointment.objects.get(pk=second.pk).call_count == 0


def test_another_doctor_cannot_recall_or_skip(session) -> None:
    schedule, doctor = session
    (patient,) = arrive(schedule, 1)
    services.call_next(schedule=schedule, by=doctor)
    other = UserFactory(username="dr-li")
    other.groups.add(Group.objects.get(name=DOCTOR))
    with pytest.raises(errors.NotAllowed):
        services.recall_patient(appointment=patient, by=other)
    with pytest.raises(errors.NotAllowed):
        services.skip_patient(appointment=patient, by=other)


def test_a_checked_in_patient_is_a_no_show_only_after_the_recall(session) -> None:
    schedule, doctor = session
    (patient,) = arrive(schedule, 1)
    now = timezone.now()
    with pytest.raises(errors.NoShowTooEarly):  # not called at all
        services.mark_no_show(appointment=patient, by=doctor, now=now)
    services.call_next(schedule=schedule, by=doctor, now=now)
    assert not selectors.queue_view(schedule=schedule, now=now).can_mark_no_show
    with pytest.raises(errors.NoShowTooEarly):  # called once
        services.mark_no_show(appointment=patient, by=doctor, now=now)
    assert Appointment.objects.get(pk=patient.pk).status == AppointmentStatus.CHECKED_IN

    services.recall_patient(appointment=patient, by=doctor, now=now)
    assert selectors.queue_view(schedule=schedule, now=now).can_mark_no_show  # offered now
    services.mark_no_show(appointment=patient, by=doctor, now=now)
    assert Appointment.objects.get(pk=patient.pk).status == AppointmentStatus.NO_SHOW


def test_the_offer_follows_the_rule_before_the_session(levels) -> None:
    schedule = ScheduleFactory(fee=0)  # days ahead
    appointment = services.book_appointment(
        member=MemberFactory(), schedule=schedule, channel="web"
    )
    refusal = selectors.no_show_refusal(
        appointment=appointment, schedule=schedule, now=timezone.now()
    )
    assert isinstance(refusal, errors.NoShowTooEarly)
    with pytest.raises(errors.NoShowTooEarly):
        services.mark_no_show(appointment=appointment, by=None)


def test_completing_keeps_the_visit_note_and_counts_the_average(session) -> None:
    schedule, doctor = session
    first, second = arrive(schedule, 2)
    start = timezone.now()
    services.call_next(schedule=schedule, by=doctor, now=start)
    services.complete_appointment(
        appointment=first, now=start + dt.timedelta(minutes=6), note="  咽炎，复诊一周  "
    )
    services.call_next(schedule=schedule, by=doctor, now=start + dt.timedelta(minutes=7))
    services.complete_appointment(appointment=second, now=start + dt.timedelta(minutes=17))

    assert Appointment.objects.get(pk=first.pk).visit_note == "咽炎，复诊一周"
    view = selectors.queue_view(schedule=schedule, now=start + dt.timedelta(minutes=18))
    assert view.average_visit == dt.timedelta(minutes=8)
    assert (view.seen_today, view.average_minutes, len(view.waiting)) == (2, "8.0", 0)


def test_a_note_too_long_is_refused_and_writes_nothing(session) -> None:
    schedule, doctor = session
    (patient,) = arrive(schedule, 1)
    services.call_next(schedule=schedule, by=doctor)
    with pytest.raises(Invalid):
        services.complete_appointment(appointment=patient, note="x" * 501)
    assert Appointment.objects.get(pk=patient.pk).status == AppointmentStatus.CHECKED_IN


def test_the_screen_shows_masked_names_and_speaks_the_call(session) -> None:
    schedule, doctor = session
    names = ["王小明", "李四", "欧阳娜娜", "赵六", "钱七", "孙八", "周九"]
    arrive(schedule, 7, names=names)
    services.call_next(schedule=schedule, by=doctor)

    state = selectors.display_state(department=schedule.doctor.department, now=timezone.now())

    (call,) = state["calls"]
    assert (call["name"], call["room"]) == ("王*明", "3诊室")
    assert call["speech"] == f"请 {call['number']}号 王*明 到 3诊室 就诊"
    (room,) = state["rooms"]
    assert [p["name"] for p in room["next"]] == ["李*", "欧**娜", "赵*", "钱*", "孙*"]
    assert room["waiting"] == 6
    dumped = repr(state)
    for name in names:
        assert name not in dumped  # masked names only


def test_an_english_screen_names_the_room_and_department_in_english_and_speaks_chinese(
    session,
) -> None:
    schedule, doctor = session
    schedule.room_en = "Room 3"
    schedule.save(update_fields=["room_en"])
    department = schedule.doctor.department
    department.name_en = "Respiratory Medicine"
    department.save(update_fields=["name_en"])
    arrive(schedule, 1, names=["王小明"])
    services.call_next(schedule=schedule, by=doctor)

    with translation.override("en"):
        state = selectors.display_state(department=department, now=timezone.now())

    (call,) = state["calls"]
    assert (call["room"], call["department"]) == ("Room 3", "Respiratory Medicine")
    assert call["speech"] == f"请 {call['number']}号 王*明 到 3诊室 就诊"
    assert state["rooms"][0]["room"] == "Room 3"
    assert state["department"] == "Respiratory Medicine"


def test_mask_name() -> None:
    assert [mask_name(n) for n in ["", "王", "王明", "王小明", "欧阳娜娜"]] == [
        "",
        "王",
        "王*",
        "王*明",
        "欧**娜",
    ]
