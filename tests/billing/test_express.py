"""The express booking (billing.services.express): the same rows as place_booking writes, none
at all when it leaves a booking to place_booking, and exact under concurrency on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.urls import reverse
from django.utils import timezone

from appointments import exceptions as errors
from appointments import gate
from appointments.choices import ACTIVE_STATUSES, AppointmentStatus, Channel
from appointments.models import Appointment, Schedule
from appointments.services import cancel_appointment
from billing import services
from billing.models import Order
from medbook.models import ClinicProfile, OutboxTask, WebhookEvent, WebhookSubscription
from medbook.outbox_listener import CHANNEL, hand_over_notified
from members.models import Message, Relation
from members.patients import add_patient
from tests.appointments.factories import ScheduleFactory
from tests.appointments.invariants import assert_schedule_invariants
from tests.billing.insurance_fixtures import insure
from tests.members.factories import MemberFactory
from tests.members.patient_ids import resident_id

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# Columns that differ between two bookings by nature (ids, who, when, random numbers).
VARYING = {
    "id",
    "member_id",
    "patient_id",
    "schedule_id",
    "appointment_id",
    "created_at",
    "expires_at",
    "out_trade_no",
    "history_id",
    "history_date",
    "history_user_id",
    "reference",
    "relay_after",
    "args",
}


def express(member, schedule, *, patient=None, accept_late=True, now=None):
    return services.express_booking(
        user_id=member.user_id,
        schedule_id=schedule.pk,
        patient_id=patient.pk if patient is not None else None,
        accept_late=accept_late,
        now=now or timezone.now(),
    )


def columns(obj) -> dict:
    return {
        field.attname: getattr(obj, field.attname)
        for field in type(obj)._meta.concrete_fields
        if field.attname not in VARYING
    }


def written(appointment: Appointment) -> dict:
    """Every row a booking wrote, column by column (but the varying ones)."""
    order = Order.objects.filter(appointment=appointment).first()
    message = Message.objects.get(reference=f"appointment:{appointment.pk}")
    task = OutboxTask.objects.get(args=[message.pk])
    return {
        "appointment": columns(appointment),
        "appointment history": [columns(h) for h in appointment.history.all()],
        "order": columns(order) if order else None,
        "order history": [columns(h) for h in order.history.all()] if order else [],
        "message": columns(message),
        "outbox": {**columns(task), "sent_at": None, "attempts": None},  # handed over apart
    }


@pytest.mark.parametrize("fee", [Decimal("50.00"), Decimal("0.00")])
def test_it_writes_what_place_booking_writes(levels, fee) -> None:
    schedule = ScheduleFactory(fee=fee, capacity=5)
    by_orm, by_express = MemberFactory(level=levels["银卡"]), MemberFactory(level=levels["银卡"])
    now = timezone.now()
    ordinary = services.place_booking(
        member=by_orm, schedule=schedule, channel=Channel.WEB, now=now
    )
    booked = express(by_express, schedule, now=now)

    assert booked is not None
    fast = Appointment.objects.get(pk=booked.appointment_id)
    ordinary.refresh_from_db()
    ours, theirs = written(fast), written(ordinary)
    # The second booking has the next number (and time): the rest is the same.
    assert fast.queue_number == ordinary.queue_number + 1 == 2
    for rows in (ours, theirs):
        for row in [rows["appointment"], *rows["appointment history"]]:
            row.pop("queue_number"), row.pop("estimated_time")
        rows["message"]["params"]["session"]["params"].pop("number")
        rows["message"]["params"]["session"]["params"].pop("time")
        rows["message"]["body"] = (
            rows["message"]["body"].replace("08:15", "08:00").replace("2号", "1号")
        )
    assert ours == theirs
    assert fast.history.get().history_user_id == by_express.user_id
    assert ordinary.history.get().history_user_id is None  # no request: nobody
    if fee:
        assert booked.order_id == Order.objects.get(appointment=fast).pk
        assert booked.hold_until == now + dt.timedelta(minutes=15)
        assert fast.status == AppointmentStatus.PENDING_PAYMENT
    else:
        assert booked.order_id is None and booked.hold_until is None
        assert fast.status == AppointmentStatus.CONFIRMED
    assert_schedule_invariants(schedule.pk)


def test_its_message_names_the_number_time_and_relative(levels) -> None:
    schedule = ScheduleFactory(capacity=5, minutes_per_visit=20)
    member = MemberFactory(level=levels["普通"])
    child = add_patient(
        member=member,
        name="王小明",
        relation=Relation.CHILD,
        id_number=resident_id(dt.date(2015, 3, 1)),
    )
    services.place_booking(  # the first number goes to someone else
        member=MemberFactory(level=levels["普通"]), schedule=schedule, channel=Channel.WEB
    )

    booked = express(member, schedule, patient=child)

    appointment = Appointment.objects.get(pk=booked.appointment_id)
    assert (appointment.queue_number, appointment.estimated_time) == (2, dt.time(8, 20))
    assert appointment.patient_id == child.pk
    message = Message.objects.get(reference=f"appointment:{appointment.pk}")
    assert "08:20" in message.body and "2号" in message.body and "王小明" in message.body
    visit = message.params["session"]["concat"][0]["params"]
    assert (visit["number"], visit["time"]) == (2, "08:20")
    assert str(message.params).count("987654321") == 0 and "@@TIME@@" not in message.body


@pytest.mark.parametrize(
    "case",
    [
        "insured",
        "unverified under 实名制",
        "split into time slots",
        "late, not acknowledged",
        "already booked",
        "banned",
        "not yet open",
        "sold out",
        "suspended",
        "another account's patient",
        "a staff login",
    ],
)
def test_anything_not_plain_is_left_to_place_booking_and_nothing_is_written(
    levels, case, front_desk
) -> None:
    schedule = ScheduleFactory(capacity=2)
    member = MemberFactory(level=levels["普通"])
    now = timezone.now()
    patient, user_id, accept_late = None, member.user_id, True
    if case == "insured":
        insure(member)
    elif case == "unverified under 实名制":
        ClinicProfile.objects.update_or_create(
            pk=1, defaults={"booking_requires_verified_patient": True}
        )
    elif case == "split into time slots":
        Schedule.objects.filter(pk=schedule.pk).update(slot_minutes=60)
    elif case == "late, not acknowledged":
        Schedule.objects.filter(pk=schedule.pk).update(
            date=timezone.localdate(now) + dt.timedelta(days=1), start_time=dt.time(0, 5)
        )
        accept_late = False
    elif case == "already booked":
        services.place_booking(member=member, schedule=schedule, channel=Channel.WEB)
    elif case == "banned":
        member.banned_until = now + dt.timedelta(days=3)
        member.save(update_fields=["banned_until"])
    elif case == "not yet open":
        Schedule.objects.filter(pk=schedule.pk).update(release_at=now + dt.timedelta(days=1))
    elif case == "sold out":
        for _ in range(2):
            services.place_booking(
                member=MemberFactory(level=levels["普通"]), schedule=schedule, channel=Channel.WEB
            )
    elif case == "suspended":
        Schedule.objects.filter(pk=schedule.pk).update(status="suspended")
    elif case == "another account's patient":
        patient = MemberFactory(level=levels["普通"]).patients.get(relation=Relation.SELF)
    elif case == "a staff login":
        user_id = front_desk.pk
    before = {
        model: model.objects.count()
        for model in (Appointment, Order, Message, OutboxTask, Appointment.history.model)
    }
    booked_before = Schedule.objects.get(pk=schedule.pk).booked

    booked = services.express_booking(
        user_id=user_id,
        schedule_id=schedule.pk,
        patient_id=patient.pk if patient else None,
        accept_late=accept_late,
        now=now,
    )

    assert booked is None
    assert {model: model.objects.count() for model in before} == before
    assert Schedule.objects.get(pk=schedule.pk).booked == booked_before


def test_a_session_changed_since_it_was_read_is_left_to_place_booking(levels) -> None:
    """The slot is taken only if the session is as statement 1 read it (updated_at): a change
    committed in between (here: the capacity cut) makes it step aside."""
    schedule = ScheduleFactory(capacity=3)
    member = MemberFactory(level=levels["普通"])
    from billing.services import express as module

    original = module._rows

    def read_then_changed(row):
        read = original(row)
        other = connections.create_connection("default")
        with other.cursor() as cursor:
            cursor.execute(
                "UPDATE appointments_schedule SET capacity = 1, updated_at = now() WHERE id = %s",
                [schedule.pk],
            )
        other.close()
        return read

    module._rows = read_then_changed
    try:
        assert express(member, schedule) is None
    finally:
        module._rows = original
    assert not Appointment.objects.exists()


def test_a_subscribed_webhook_hears_of_an_express_booking(levels) -> None:
    WebhookSubscription.objects.create(
        url="https://his.example.test/hook", events=["appointment.booked"], secret="whsec_his"
    )
    schedule = ScheduleFactory()
    booked = express(MemberFactory(level=levels["普通"]), schedule)

    event = WebhookEvent.objects.get(type="appointment.booked")
    assert event.payload["appointment"]["id"] == booked.appointment_id
    assert event.payload["appointment"]["queue_number"] == 1


def test_its_promise_is_notified_at_commit_and_never_on_a_rollback(levels) -> None:
    schedule = ScheduleFactory()
    listener = connections.create_connection("default")
    listener.ensure_connection()
    listener.set_autocommit(True)
    raw = listener.connection
    raw.execute(f"LISTEN {CHANNEL}")
    try:
        booked = express(MemberFactory(level=levels["普通"]), schedule)
        ids = [int(n.payload) for n in raw.notifies(timeout=2, stop_after=1)]
        task = OutboxTask.objects.get(pk=ids[0])
        message = Message.objects.get(reference=f"appointment:{booked.appointment_id}")
        assert task.args == [message.pk] and task.sent_at is None

        from billing.services import express as module

        original = module.catalogue_cache.sessions_changed
        module.catalogue_cache.sessions_changed = lambda **_: 1 / 0  # fails after the write
        try:
            with pytest.raises(ZeroDivisionError):
                express(MemberFactory(level=levels["普通"]), schedule)
        finally:
            module.catalogue_cache.sessions_changed = original
        assert list(raw.notifies(timeout=0.5)) == []
        assert Appointment.objects.count() == 1
    finally:
        listener.close()

    assert hand_over_notified(ids) == 1
    task.refresh_from_db()
    assert task.sent_at is not None and task.attempts == 1
    assert hand_over_notified(ids) == 0  # handed over once


def test_many_threads_book_a_few_slots_exactly_with_the_lowest_numbers(levels) -> None:
    """Express and ordinary bookings and a cancellation at once on one session: never more
    than its capacity, ``booked`` exact, numbers 1..capacity, a freed number taken again."""
    schedule = ScheduleFactory(capacity=8)
    early = [MemberFactory(level=levels["普通"]) for _ in range(3)]
    held = [services.place_booking(member=m, schedule=schedule, channel=Channel.WEB) for m in early]
    cancel_appointment(appointment=held[0], by=None, reason="test")  # number 1 is free again
    members = [MemberFactory(level=levels["普通"]) for _ in range(24)]
    barrier = threading.Barrier(len(members))
    results: list = [None] * len(members)

    def attempt(index: int) -> None:
        try:
            barrier.wait()
            member = members[index]
            if index % 3 == 0:
                fresh = Schedule.objects.get(pk=schedule.pk)
                results[index] = services.place_booking(
                    member=member, schedule=fresh, channel=Channel.WEB
                ).queue_number
            else:
                booked = express(member, schedule)
                results[index] = (
                    booked and Appointment.objects.get(pk=booked.appointment_id).queue_number
                )
        except Exception as exc:
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(len(members))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert_schedule_invariants(schedule.pk)
    numbers = sorted(
        Appointment.objects.filter(schedule=schedule, status__in=ACTIVE_STATUSES).values_list(
            "queue_number", flat=True
        )
    )
    assert numbers == list(range(1, 9))  # full, 1..8: number 1, freed, was taken again
    assert Schedule.objects.get(pk=schedule.pk).booked == 8
    refused = [r for r in results if not (r is None or isinstance(r, int))]
    assert all(isinstance(r, errors.SoldOut) for r in refused), refused
    assert sorted(r for r in results if isinstance(r, int)) == [1, 4, 5, 6, 7, 8]
    assert Message.objects.filter(kind="booked").count() == 3 + 6  # one per booking


def test_the_booking_page_books_the_express_way_and_a_double_click_lands_on_it(
    client, levels
) -> None:
    schedule = ScheduleFactory(capacity=3)
    member = MemberFactory(level=levels["普通"])
    gate.preheat(schedule_id=schedule.pk, remaining=3, ends_at=schedule.ends_at, now=timezone.now())
    client.force_login(member.user)
    session = client.session
    session["medbook_kind"] = "member"  # as a member's login marks it (the gate asks)
    session.save()
    url = reverse("billing:book", args=[schedule.pk])

    first = client.post(url, {"accept_late": "1"})
    second = client.post(url, {"accept_late": "1"})

    appointment = Appointment.objects.get()
    assert first.status_code == 302
    assert first["Location"] == reverse("billing:appointment_pay", args=[appointment.pk])
    assert "no-store" in first["Cache-Control"]
    assert second.status_code == 302
    assert second["Location"] == reverse("billing:appointment_detail", args=[appointment.pk])
    assert Appointment.objects.count() == 1 and connection.vendor == "postgresql"


def test_it_can_be_switched_off(levels, settings) -> None:
    settings.MEDBOOK_EXPRESS_BOOKING = False
    assert express(MemberFactory(level=levels["普通"]), ScheduleFactory()) is None
    assert not Appointment.objects.exists()
