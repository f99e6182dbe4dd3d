"""Clinic admins manage subscriptions in the console: the secret is shown once and stored
encrypted, every change is in the operation log, a delivery can be sent again."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse

from medbook import webhooks
from medbook.models import (
    DeliveryStatus,
    OperationLog,
    OutboxTask,
    WebhookDelivery,
    WebhookSubscription,
)
from medbook.webhooks.delivery import deliver
from medbook.webhooks.events import DELIVER_TASK
from tests.appointments.factories import ScheduleFactory
from tests.billing.factories import book
from tests.members.factories import MemberFactory
from tests.webhooks.receiver import reference_receiver

pytestmark = pytest.mark.django_db

FORM = {
    "url": "https://93.184.216.34/medbook",
    "description": "HIS 对接",
    "events": ["appointment.booked", "appointment.cancelled"],
    "active": "on",
}


@pytest.fixture
def admin_client(client, clinic_admin):
    client.force_login(clinic_admin)
    return client


def test_it_shows_the_secret_once_and_stores_it_encrypted(
    admin_client, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("staff:webhook_new"), FORM)
    assert response.status_code == 200
    subscription = WebhookSubscription.objects.get()
    secret = response.context["secret"]
    assert secret.startswith("whsec_") and secret in response.content.decode()
    assert subscription.secret == secret
    assert response["Cache-Control"].startswith("max-age=0")
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM medbook_webhooksubscription")
        [(stored,)] = cursor.fetchall()
    assert stored.startswith("v1$") and secret not in stored
    page = admin_client.get(reverse("staff:webhook", args=[subscription.pk]))
    assert secret not in page.content.decode()
    assert subscription.events == ["appointment.booked", "appointment.cancelled"]
    assert webhooks.subscribed_events() == {"appointment.booked", "appointment.cancelled"}
    log = OperationLog.objects.get(action="webhook.create")
    assert secret not in str(log.detail)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"url": "https://10.1.2.3/x"}, "private network"),
        ({"url": "http://93.184.216.34/x"}, "https://"),
        ({"events": []}, "This field is required"),
        ({"events": ["appointment.teleported"]}, "Select a valid choice"),
    ],
)
def test_bad_input_is_a_400_that_writes_nothing(admin_client, settings, change, message) -> None:
    settings.MEDBOOK_WEBHOOK_ALLOW_HOSTS = []
    admin_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = admin_client.post(reverse("staff:webhook_new"), {**FORM, **change})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not WebhookSubscription.objects.exists()
    assert not OperationLog.objects.filter(action__startswith="webhook.").exists()


def test_rotating_gives_a_new_secret_and_logs_it(admin_client, subscribe) -> None:
    subscription, old = subscribe()
    response = admin_client.post(reverse("staff:webhook_rotate", args=[subscription.pk]))
    assert response.status_code == 200
    new = response.context["secret"]
    subscription.refresh_from_db()
    assert new != old and subscription.secret == new
    assert OperationLog.objects.filter(action="webhook.rotate_secret").count() == 1


def test_switching_a_subscription_off_stops_new_events(
    admin_client, subscribe, member, django_capture_on_commit_callbacks
) -> None:
    subscription, _ = subscribe(events=["appointment.booked"])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("staff:webhook_edit", args=[subscription.pk]),
            {**FORM, "events": ["appointment.booked"], "active": ""},
        )
    assert response.status_code == 302
    log = OperationLog.objects.get(action="webhook.update")
    assert log.detail["active"] == [True, False]
    book(member, ScheduleFactory(fee=Decimal("50.00")))
    assert not WebhookDelivery.objects.exists()


def test_an_admin_sends_a_delivery_again_with_the_same_event_id(
    admin_client, clinic_admin, subscribe, member
) -> None:
    with reference_receiver() as receiver:
        subscription, receiver.secret = subscribe(url=receiver.url)
        book(member, ScheduleFactory(fee=Decimal("50.00")))
        delivery = WebhookDelivery.objects.get()
        receiver.answers = [500]
        deliver(delivery_id=delivery.pk)
        WebhookDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED)
        jobs_before = OutboxTask.objects.filter(task=DELIVER_TASK).count()
        url = reverse("staff:webhook_resend", args=[subscription.pk, delivery.pk])
        response = admin_client.post(url)
        assert response.status_code == 302
        assert OutboxTask.objects.filter(task=DELIVER_TASK).count() == jobs_before + 1
        assert deliver(delivery_id=delivery.pk)  # what the queued job does
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    attempts = list(delivery.attempt_rows.order_by("number"))
    assert [(a.number, a.status_code, a.resent_by) for a in attempts] == [
        (1, 500, None),
        (2, 200, clinic_admin),
    ]
    ids = {got["headers"]["MedBook-Event-Id"] for got in receiver.received}
    assert ids == {str(delivery.event_id)}
    assert OperationLog.objects.filter(action="webhook.resend").count() == 1
    page = admin_client.get(reverse("staff:webhook", args=[subscription.pk]))
    assert "HTTP 500" in page.content.decode()


def test_another_subscriptions_delivery_is_not_found(admin_client, subscribe, member) -> None:
    first, _ = subscribe()
    second, _ = subscribe(url="http://127.0.0.1:10/x")
    book(member, ScheduleFactory(fee=Decimal("50.00")))
    delivery = WebhookDelivery.objects.filter(subscription=first).first()
    url = reverse("staff:webhook_resend", args=[second.pk, delivery.pk])
    assert admin_client.post(url).status_code == 404


@pytest.mark.parametrize(("language", "title"), [("en", "Webhooks"), ("zh-hans", "数据推送")])
def test_the_pages_speak_both_languages(
    admin_client, subscribe, member, settings, language, title
) -> None:
    admin_client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    subscription, _ = subscribe()
    book(member, ScheduleFactory(fee=Decimal("50.00")))
    for name, args in [
        ("staff:webhooks", []),
        ("staff:webhook", [subscription.pk]),
        ("staff:webhook_new", []),
        ("staff:webhook_edit", [subscription.pk]),
    ]:
        response = admin_client.get(reverse(name, args=args))
        assert response.status_code == 200, name
    page = admin_client.get(reverse("staff:webhooks"))
    assert title in page.content.decode()


def test_the_list_and_a_subscription_page_need_few_queries(
    admin_client, subscribe, member, django_assert_max_num_queries
) -> None:
    subscription, _ = subscribe()
    for _ in range(3):  # booked + confirmed each: 6 deliveries
        book(MemberFactory(level=member.level), ScheduleFactory(fee=0))
    with django_assert_max_num_queries(12):
        admin_client.get(reverse("staff:webhook", args=[subscription.pk]))
