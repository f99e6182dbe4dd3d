"""Events are written by the services that make the changes, in their transactions: an event
and its outbox job exist exactly when the change commits; nothing when nobody subscribes."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appointments.choices import Channel
from appointments.services import book_appointment, check_in_appointment, mark_no_show
from billing import services as billing
from billing.gateways import sandbox
from medbook import webhooks
from medbook.models import OutboxTask, WebhookDelivery, WebhookEvent
from medbook.webhooks.events import DELIVER_TASK
from tests.appointments.factories import DoctorFactory, ScheduleFactory
from tests.billing.factories import book, paid_order, run_refunds
from tests.security.world import session_under_way

pytestmark = pytest.mark.django_db


def emitted() -> Counter:
    return Counter(WebhookEvent.objects.values_list("type", flat=True))


def payload(event_type: str) -> dict:
    return WebhookEvent.objects.filter(type=event_type).latest("created_at").payload


def test_it_writes_nothing_and_runs_no_sql_when_nobody_subscribes(
    member, django_assert_num_queries
) -> None:
    webhooks.subscribed_events()  # the cached answer, as every process has it after one look
    with django_assert_num_queries(0):
        assert webhooks.emit("appointment.booked", lambda: 1 / 0) is None
    assert WebhookEvent.objects.count() == 0


def test_a_booking_touches_no_webhook_table_when_nobody_subscribes(member, subscribe) -> None:
    subscribe(events=["refund.succeeded"])  # someone, but not for bookings
    schedule = ScheduleFactory(fee=Decimal("50.00"))
    webhooks.subscribed_events()
    with CaptureQueriesContext(connection) as queries:
        book(member, schedule)
    assert not [q["sql"] for q in queries if "medbook_webhook" in q["sql"]]
    assert emitted() == Counter()


def test_it_writes_the_event_a_delivery_and_an_outbox_job_per_subscriber(member, subscribe) -> None:
    first, _ = subscribe()
    second, _ = subscribe(url="http://127.0.0.1:10/other", events=["appointment.booked"])
    subscribe(url="http://127.0.0.1:11/none", events=["refund.succeeded"])
    appointment = book(member, ScheduleFactory(fee=Decimal("50.00")))
    event = WebhookEvent.objects.get(type="appointment.booked")
    deliveries = WebhookDelivery.objects.filter(event=event)
    assert {d.subscription_id for d in deliveries} == {first.pk, second.pk}
    jobs = OutboxTask.objects.filter(task=DELIVER_TASK)
    assert sorted(job.args for job in jobs) == sorted([d.pk] for d in deliveries)
    assert event.payload["appointment"]["id"] == appointment.pk
    assert event.payload["appointment"]["status"] == "pending_payment"


def test_a_rolled_back_change_leaves_no_event_and_no_job(member, subscribe) -> None:
    subscribe()

    def fail(appointment) -> None:
        raise RuntimeError("the order could not be written")

    with pytest.raises(RuntimeError):
        book_appointment(
            member=member, schedule=ScheduleFactory(fee=0), channel=Channel.WEB, then=fail
        )
    assert WebhookEvent.objects.count() == 0
    assert not OutboxTask.objects.filter(task=DELIVER_TASK).exists()


def test_a_free_booking_is_booked_and_confirmed_with_masked_data(member, subscribe) -> None:
    subscribe()
    book(member, ScheduleFactory(fee=0))
    assert emitted() == Counter({"appointment.booked": 1, "appointment.confirmed": 1})
    data = payload("appointment.confirmed")
    assert data["appointment"]["status"] == "confirmed"
    assert data["member"]["phone"] == member.masked_phone
    assert "*" in data["member"]["phone"]
    assert member.phone not in str(data)


def test_paying_confirms_and_reports_the_payment(member, subscribe) -> None:
    subscribe()
    order = paid_order(member)
    assert emitted() == Counter(
        {"appointment.booked": 1, "appointment.confirmed": 1, "payment.succeeded": 1}
    )
    assert payload("payment.succeeded")["order"] == {
        **payload("payment.succeeded")["order"],
        "id": order.pk,
        "amount": "50.00",
        "status": "paid",
        "appointment_id": order.appointment_id,
    }


def test_cancelling_a_paid_booking_reports_the_cancellation_then_the_refund(
    member, subscribe
) -> None:
    order = paid_order(member)
    subscribe()
    billing.cancel_booking(appointment=order.appointment, by=member.user, reason="plans changed")
    assert emitted() == Counter({"appointment.cancelled": 1})
    assert payload("appointment.cancelled")["appointment"]["cancelled_by"] == "member"
    run_refunds()
    assert emitted() == Counter({"appointment.cancelled": 1, "refund.succeeded": 1})
    refund = payload("refund.succeeded")
    assert refund["refund"]["amount"] == "50.00"
    assert refund["order"]["status"] == "refunded"


def test_check_in_completion_and_no_show_are_reported(member, other_member, subscribe) -> None:
    schedule = session_under_way(DoctorFactory())
    before = schedule.starts_at - dt.timedelta(hours=1)
    came = book_appointment(member=member, schedule=schedule, channel=Channel.WEB, now=before)
    missed = book_appointment(
        member=other_member, schedule=schedule, channel=Channel.WEB, now=before
    )
    subscribe()
    check_in_appointment(appointment=came)
    billing.complete_visit(appointment=came, by=None)
    mark_no_show(appointment=missed, by=None, now=timezone.now())
    assert emitted() == Counter(
        {"appointment.checked_in": 1, "appointment.completed": 1, "appointment.no_show": 1}
    )
    assert payload("appointment.no_show")["appointment"]["id"] == missed.pk


def test_suspending_a_session_reports_it_and_each_cancellation(
    member, subscribe, clinic_admin
) -> None:
    appointment = book(member, ScheduleFactory(fee=Decimal("50.00")))
    order = appointment.order
    trade = sandbox.pay(order=order)
    billing.confirm_payment(
        out_trade_no=order.out_trade_no, gateway_trade_no=trade.trade_no, amount=order.amount
    )
    subscribe()
    billing.suspend_schedule(schedule=appointment.schedule, by=clinic_admin, reason="医生出差")
    run_refunds()
    assert emitted() == Counter(
        {"schedule.suspended": 1, "appointment.cancelled": 1, "refund.succeeded": 1}
    )
    assert payload("schedule.suspended")["schedule"]["id"] == appointment.schedule_id
    assert payload("schedule.suspended")["reason"] == "医生出差"
    assert payload("appointment.cancelled")["appointment"]["cancelled_by"] == "system"


def test_an_unknown_event_type_is_a_programming_error(member) -> None:
    with pytest.raises(ValueError, match="unknown webhook event"):
        webhooks.emit("appointment.teleported", {})
