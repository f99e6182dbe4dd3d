"""Delivery to a real receiver on 127.0.0.1: signed as documented, retried with exponential
backoff for 24 hours, every attempt recorded, at least once with one event id."""

from __future__ import annotations

import datetime as dt
import json
import socket
import time
from decimal import Decimal

import pytest
import requests
from django.conf import settings
from django.utils import timezone

from medbook.celery import app as celery_app
from medbook.errors import Invalid
from medbook.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookSubscription
from medbook.webhooks import signing
from medbook.webhooks.delivery import backoff, deliver, overdue_deliveries, purge_old_events
from medbook.webhooks.targets import check_target
from tests.appointments.factories import ScheduleFactory
from tests.billing.factories import book
from tests.webhooks.receiver import reference_receiver, verify

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one_delivery(member, subscribe, url: str) -> tuple[WebhookDelivery, str]:
    subscription, secret = subscribe(url=url, events=["appointment.booked"])
    book(member, ScheduleFactory(fee=Decimal("50.00")))
    return WebhookDelivery.objects.get(subscription=subscription), secret


def test_it_posts_the_event_signed_as_documented(member, subscribe) -> None:
    with reference_receiver() as receiver:
        delivery, receiver.secret = one_delivery(member, subscribe, receiver.url)
        assert deliver(delivery_id=delivery.pk)
    assert receiver.rejected == []
    [got] = receiver.received
    assert got["headers"]["MedBook-Event-Id"] == str(delivery.event_id)
    assert got["headers"]["MedBook-Event-Type"] == "appointment.booked"
    assert got["body"]["id"] == str(delivery.event_id)
    assert got["body"]["type"] == "appointment.booked"
    assert got["body"]["data"]["appointment"]["status"] == "pending_payment"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    [attempt] = delivery.attempt_rows.all()
    assert (attempt.number, attempt.status_code, attempt.ok) == (1, 200, True)
    assert attempt.response_ms is not None and attempt.response_ms < 5000


def test_the_receiver_refuses_a_wrong_secret_a_changed_body_and_an_old_timestamp() -> None:
    body = b'{"id":"x"}'
    now = int(time.time())
    good = signing.signature(secret="whsec_a", timestamp=now, body=body)
    assert verify("whsec_a", good, body)
    assert not verify("whsec_b", good, body)
    assert not verify("whsec_a", good, body + b" ")
    old = signing.signature(secret="whsec_a", timestamp=now - 301, body=body)
    assert not verify("whsec_a", old, body)
    assert signing.verify(secret="whsec_a", header=good, body=body)
    assert not signing.verify(secret="whsec_a", header=old, body=body)
    with reference_receiver(secret="whsec_a") as receiver:
        replay = requests.post(
            receiver.url, data=body, headers={"MedBook-Signature": old}, timeout=5
        )
    assert replay.status_code == 400
    assert receiver.rejected == ["signature"]


def test_a_failed_attempt_is_retried_with_backoff_and_the_receiver_dedupes(
    member, subscribe
) -> None:
    with reference_receiver() as receiver:
        delivery, receiver.secret = one_delivery(member, subscribe, receiver.url)
        receiver.answers = [500, 200, 200]
        t0 = timezone.now()
        assert deliver(delivery_id=delivery.pk, now=t0)
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.PENDING
        assert delivery.next_attempt_at == t0 + dt.timedelta(minutes=1)
        assert not deliver(delivery_id=delivery.pk, now=t0 + dt.timedelta(seconds=59))
        assert deliver(delivery_id=delivery.pk, now=t0 + dt.timedelta(minutes=1))
        # A resend after success: the receiver sees the same event id and ignores it.
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.PENDING, next_attempt_at=t0
        )
        assert deliver(delivery_id=delivery.pk, now=t0 + dt.timedelta(minutes=2))
    ids = [got["headers"]["MedBook-Event-Id"] for got in receiver.received]
    assert ids == [str(delivery.event_id)] * 3
    assert receiver.processed == [str(delivery.event_id)]
    attempts = list(WebhookAttempt.objects.filter(delivery=delivery).order_by("number"))
    assert [(a.number, a.status_code, a.ok) for a in attempts] == [
        (1, 500, False),
        (2, 200, True),
        (3, 200, True),
    ]
    assert attempts[0].error == "HTTP 500"


def test_the_backoff_doubles_from_one_minute_up_to_the_cap() -> None:
    minutes = [backoff(n).total_seconds() / 60 for n in range(1, 10)]
    assert minutes == [1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_it_gives_up_after_24_hours(member, subscribe) -> None:
    delivery, _ = one_delivery(member, subscribe, f"http://127.0.0.1:{closed_port()}/hook")
    t0 = delivery.created_at
    now = t0
    while deliver(delivery_id=delivery.pk, now=now):
        delivery.refresh_from_db()
        if delivery.status != DeliveryStatus.PENDING:
            break
        now = delivery.next_attempt_at
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    attempts = list(delivery.attempt_rows.order_by("number"))
    # 0, 1, 3, 7, 15, 31, 63 minutes, then hourly: the last one before the 24 hours end.
    assert len(attempts) == 29
    assert attempts[-1].started_at <= t0 + dt.timedelta(hours=24)
    assert attempts[-1].started_at + backoff(29) > t0 + dt.timedelta(hours=24)
    assert all(a.status_code is None and "ConnectionError" in a.error for a in attempts)


def test_a_lost_retry_job_is_found_by_the_sweep(member, subscribe) -> None:
    delivery, _ = one_delivery(member, subscribe, "http://127.0.0.1:9/hook")
    soon = delivery.next_attempt_at + dt.timedelta(minutes=1)
    assert overdue_deliveries(now=soon) == []
    later = delivery.next_attempt_at + dt.timedelta(minutes=3)
    assert overdue_deliveries(now=later) == [delivery.pk]


def test_a_switched_off_subscription_gets_nothing(member, subscribe) -> None:
    with reference_receiver() as receiver:
        delivery, receiver.secret = one_delivery(member, subscribe, receiver.url)
        WebhookSubscription.objects.update(active=False)
        assert deliver(delivery_id=delivery.pk)
    assert receiver.received == []
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED


def test_it_goes_through_the_outbox_and_a_worker_after_commit(
    member, subscribe, django_capture_on_commit_callbacks
) -> None:
    """The whole way: the booking commits, the outbox hands the job over, a worker sends."""
    with reference_receiver() as receiver:
        _subscription, receiver.secret = subscribe(url=receiver.url)
        celery_app.conf.task_always_eager = True
        try:
            with django_capture_on_commit_callbacks() as callbacks:
                book(member, ScheduleFactory(fee=0))
            assert receiver.received == []  # nothing leaves before the commit
            for callback in callbacks:
                callback()
        finally:
            celery_app.conf.task_always_eager = False
    types = sorted(got["body"]["type"] for got in receiver.received)
    assert types == ["appointment.booked", "appointment.confirmed"]
    assert not WebhookDelivery.objects.exclude(status=DeliveryStatus.SUCCEEDED).exists()


@pytest.mark.parametrize(
    "url",
    [
        "http://93.184.216.34/hook",  # plain http
        "https://10.0.0.5/hook",
        "https://192.168.1.2/hook",
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[::ffff:10.0.0.1]/hook",
        "https://user:secret@93.184.216.34/hook",
        "ftp://93.184.216.34/hook",
    ],
)
def test_addresses_that_are_not_public_https_are_refused(settings, url) -> None:
    settings.MEDBOOK_WEBHOOK_ALLOW_HOSTS = []
    with pytest.raises(Invalid) as refused:
        check_target(url)
    assert refused.value.field == "url"


def test_a_public_https_address_is_accepted_and_debug_allows_local_ones(settings) -> None:
    settings.MEDBOOK_WEBHOOK_ALLOW_HOSTS = []
    assert check_target(" https://93.184.216.34/hook ") == "https://93.184.216.34/hook"
    settings.DEBUG = True
    assert check_target("http://127.0.0.1:8001/hook") == "http://127.0.0.1:8001/hook"


def test_an_address_that_became_private_is_not_posted_to(member, subscribe, settings) -> None:
    with reference_receiver() as receiver:
        delivery, receiver.secret = one_delivery(member, subscribe, receiver.url)
        settings.MEDBOOK_WEBHOOK_ALLOW_HOSTS = []
        assert deliver(delivery_id=delivery.pk)
    assert receiver.received == []
    [attempt] = delivery.attempt_rows.all()
    assert attempt.status_code is None and "https" in attempt.error


def test_the_body_is_json_with_the_event(member, subscribe) -> None:
    delivery, _ = one_delivery(member, subscribe, "http://127.0.0.1:9/hook")
    from medbook.webhooks.delivery import body_of

    document = json.loads(body_of(delivery))
    assert set(document) == {"id", "type", "created", "data"}


def test_the_readme_recipe_verifies_a_real_delivery(member, subscribe) -> None:
    readme = (settings.BASE_DIR / "README.md").read_text()
    recipe = readme.split("Verifying a delivery, in Python:\n\n```python\n", 1)[1].split("```")[0]
    namespace: dict = {}
    exec(recipe, namespace)  # noqa: S102 (the README's own code)
    with reference_receiver() as receiver:
        delivery, receiver.secret = one_delivery(member, subscribe, receiver.url)
        deliver(delivery_id=delivery.pk)
    [got] = receiver.received
    body = got["raw"]
    header = got["headers"]["MedBook-Signature"]
    assert namespace["verify"](receiver.secret, header, body)
    assert not namespace["verify"]("whsec_other", header, body)
    stale = signing.signature(secret=receiver.secret, timestamp=int(time.time()) - 600, body=body)
    assert not namespace["verify"](receiver.secret, stale, body)


def test_old_events_are_forgotten_unless_still_being_sent(member, subscribe, settings) -> None:
    settings.MEDBOOK_WEBHOOK_KEEP_DAYS = 30
    subscribe()
    book(member, ScheduleFactory(fee=0))  # booked + confirmed
    sent, sending = WebhookDelivery.objects.order_by("pk")
    WebhookDelivery.objects.filter(pk=sent.pk).update(status=DeliveryStatus.SUCCEEDED)
    later = timezone.now() + dt.timedelta(days=31)
    assert purge_old_events(now=timezone.now()) == 0
    assert purge_old_events(now=later) == 1
    assert list(WebhookDelivery.objects.values_list("pk", flat=True)) == [sending.pk]
