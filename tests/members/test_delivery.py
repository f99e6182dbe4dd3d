"""In-app messages go out by text and e-mail in a background job that retries and never repeats."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator

import pytest
from django.utils import timezone

from medbook.celery import app as celery_app
from members import delivery, services, tasks
from members.models import Message, MessageKind, PointsReason
from members.sms import LogSMSBackend, SMSBackend, TextMessage

HERE = "tests.members.test_delivery"


class ProviderDownSMSBackend(SMSBackend):
    """A provider that refuses every text, quoting the number in its error as some do."""

    def send(self, message: TextMessage) -> None:
        raise ConnectionError(f"provider refused {message.phone}")


class FlakySMSBackend(LogSMSBackend):
    """Refuses the first text, sends the rest."""

    def __init__(self) -> None:
        self.failures_left = 1

    def send(self, message: TextMessage) -> None:
        if self.failures_left:
            self.failures_left -= 1
            raise ConnectionError("provider timed out")
        super().send(message)


@pytest.fixture
def notify_log(caplog):
    caplog.set_level(logging.INFO, logger="medbook.notify")
    return caplog


@pytest.fixture
def eager_celery() -> Iterator[None]:
    """Tasks run in the test's process as they are queued (retries without waiting)."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


def message_for(member, kind: MessageKind = MessageKind.SUSPENDED, **fields) -> Message:
    fields = {"title": "停诊通知", "body": "王医生明天上午停诊，挂号费将原路退回。", **fields}
    return Message.objects.create(member=member, kind=kind, **fields)


@pytest.mark.core
@pytest.mark.parametrize("kind", [MessageKind.SUSPENDED, MessageKind.REMINDER])
def test_it_texts_a_message_once_even_when_delivery_runs_twice(member, sms_log, kind) -> None:
    message = message_for(member, kind)

    delivery.deliver_message(message_id=message.pk)
    delivery.deliver_message(message_id=message.pk)

    assert sms_log.messages() == [
        f"SMS to {member.masked_phone}: 【MedBook】停诊通知：王医生明天上午停诊，挂号费将原路退回。"
    ]
    message.refresh_from_db()
    assert message.texted_at is not None
    assert message.delivery_attempts == 1


@pytest.mark.core
def test_it_texts_only_the_kinds_of_the_setting(member, sms_log, settings) -> None:
    points = message_for(member, MessageKind.POINTS)
    delivery.deliver_message(message_id=points.pk)
    assert sms_log.messages() == []
    assert Message.objects.get(pk=points.pk).delivery_attempts == 0

    settings.MEDBOOK_TEXT_MESSAGE_KINDS = ["points"]
    delivery.deliver_message(message_id=points.pk)
    assert len(sms_log.messages()) == 1


@pytest.mark.core
def test_the_text_is_short(member, sms_log) -> None:
    message = message_for(member, body="很长的说明。" * 100)

    delivery.deliver_message(message_id=message.pk)

    text = sms_log.messages()[0].split(": ", 1)[1]
    assert text.startswith("【MedBook】停诊通知：很长的说明。")
    assert len(text) == len("【MedBook】") + delivery.TEXT_LENGTH


@pytest.mark.core
def test_it_emails_every_kind_when_the_members_login_has_an_address(
    member, mailoutbox, sms_log
) -> None:
    member.user.email = "zhangsan@example.com"
    member.user.save(update_fields=["email"])
    message = message_for(member, MessageKind.POINTS, title="积分调整 +50", body="余额 550 分。")

    delivery.deliver_message(message_id=message.pk)
    delivery.deliver_message(message_id=message.pk)

    assert [(m.to, m.subject, m.body) for m in mailoutbox] == [
        (["zhangsan@example.com"], "积分调整 +50", "余额 550 分。")
    ]
    assert sms_log.messages() == []  # points are not texted
    assert Message.objects.get(pk=message.pk).emailed_at is not None


@pytest.mark.core
def test_no_email_without_an_address(member, mailoutbox) -> None:
    message = message_for(member)

    delivery.deliver_message(message_id=message.pk)

    assert mailoutbox == []
    assert Message.objects.get(pk=message.pk).emailed_at is None


@pytest.mark.django_db
def test_a_failing_provider_is_retried_then_the_task_fails(
    member, settings, sms_log, notify_log
) -> None:
    settings.MEDBOOK_SMS_BACKEND = f"{HERE}.ProviderDownSMSBackend"
    message = message_for(member)

    result = tasks.deliver_message.apply(args=[message.pk])

    assert result.failed()
    assert isinstance(result.result, delivery.DeliveryFailed)
    message.refresh_from_db()
    assert message.texted_at is None
    assert message.delivery_attempts == 1 + tasks.deliver_message.max_retries
    assert message.delivery_error == (
        f"SMS: ConnectionError: provider refused {member.masked_phone}"
    )
    assert sms_log.messages() == []
    national_number = member.phone.removeprefix("+86")
    assert national_number not in notify_log.text


@pytest.mark.django_db
def test_a_retry_sends_only_what_failed(member, settings, sms_log, mailoutbox) -> None:
    settings.MEDBOOK_SMS_BACKEND = f"{HERE}.FlakySMSBackend"
    member.user.email = "zhangsan@example.com"
    member.user.save(update_fields=["email"])
    message = message_for(member)

    result = tasks.deliver_message.apply(args=[message.pk])

    assert result.successful()
    assert len(sms_log.messages()) == 1
    assert len(mailoutbox) == 1  # e-mailed on the first try, not again on the retry
    message.refresh_from_db()
    assert message.texted_at is not None
    assert message.delivery_attempts == 2
    assert message.delivery_error == ""


@pytest.mark.django_db
def test_a_failed_delivery_leaves_the_business_change_committed(
    member, settings, eager_celery, django_capture_on_commit_callbacks
) -> None:
    settings.MEDBOOK_SMS_BACKEND = f"{HERE}.ProviderDownSMSBackend"
    settings.MEDBOOK_TEXT_MESSAGE_KINDS = ["level_up"]

    with django_capture_on_commit_callbacks(execute=True):  # the delivery runs once committed
        entry = services.add_points(member=member, delta=600, reason=PointsReason.VISIT)

    member.refresh_from_db()
    assert member.points_balance == 600 and member.level.name == "银卡会员"
    message = Message.objects.get(member=member, reference=f"points:{entry.pk}")
    assert message.kind == MessageKind.LEVEL_UP
    assert message.texted_at is None
    assert message.delivery_attempts == 1 + tasks.deliver_message.max_retries
    assert message.delivery_error.startswith("SMS: ConnectionError")


@pytest.mark.django_db
def test_a_message_is_texted_once_its_transaction_commits(
    member, sms_log, eager_celery, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        services.send_message(
            member=member, kind=MessageKind.REMINDER, title="就诊提醒", body="明天"
        )
        assert sms_log.messages() == []

    assert sms_log.messages() == [f"SMS to {member.masked_phone}: 【MedBook】就诊提醒：明天"]


@pytest.mark.core
def test_only_messages_still_due_are_picked_up_again(member, other_member) -> None:
    other_member.user.email = "lisi@example.com"
    other_member.user.save(update_fields=["email"])
    now = timezone.now()
    due_text = message_for(member)
    due_email = message_for(other_member, MessageKind.POINTS)
    message_for(member, texted_at=now)  # sent
    message_for(other_member, MessageKind.POINTS, emailed_at=now)  # sent
    message_for(member, MessageKind.POINTS)  # not texted, no address
    message_for(member, created_at=now - dt.timedelta(hours=25))  # too old
    message_for(member, delivery_attempts=delivery.MAX_ATTEMPTS)  # given up

    assert list(delivery.pending_message_batches(now=now, size=1)) == [
        [due_text.pk],
        [due_email.pk],
    ]


@pytest.mark.django_db
def test_the_periodic_job_sends_what_was_never_queued(member, sms_log, eager_celery) -> None:
    never_queued = message_for(member)
    message_for(member, MessageKind.POINTS)

    assert tasks.deliver_pending_messages() == 1
    assert tasks.deliver_pending_messages() == 0

    assert len(sms_log.messages()) == 1
    assert Message.objects.get(pk=never_queued.pk).texted_at is not None
