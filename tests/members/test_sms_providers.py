"""Texts through Aliyun and Tencent Cloud SMS, against local stand-ins that check the requests'
signatures as the providers do: templates and parameters, final and retryable refusals, every
attempt recorded, delivery receipts, and the members' channel preferences."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from django.utils import timezone

from members import delivery, preferences, services, sms, tasks
from members.models import ChannelPreferences, Message, MessageKind, SendRecord, SendStatus
from tests.identity.tencent_standin import SECRET_ID, SECRET_KEY, serving
from tests.members import sms_standins as standins

TOKEN = "receipt-token-0123456789abcdef0123456789"


@pytest.fixture
def aliyun(settings) -> Iterator[standins.AliyunStandIn]:
    with serving(standins.AliyunStandIn()) as stand_in:
        settings.MEDBOOK_SMS_BACKEND = "aliyun"
        settings.MEDBOOK_SMS_SIGNATURE = standins.SIGN_NAME
        settings.MEDBOOK_SMS_TEMPLATES = standins.ALIYUN_SETTING
        settings.MEDBOOK_ALIYUN_ACCESS_KEY_ID = standins.ALIYUN_KEY_ID
        settings.MEDBOOK_ALIYUN_ACCESS_KEY_SECRET = standins.ALIYUN_SECRET
        settings.MEDBOOK_ALIYUN_SMS_URL = stand_in.url
        settings.MEDBOOK_SMS_TIMEOUT_SECONDS = 2
        yield stand_in


@pytest.fixture
def tencent(settings) -> Iterator[standins.TencentSMSStandIn]:
    with serving(standins.TencentSMSStandIn()) as stand_in:
        settings.MEDBOOK_SMS_BACKEND = "tencent"
        settings.MEDBOOK_SMS_SIGNATURE = standins.SIGN_NAME
        settings.MEDBOOK_SMS_TEMPLATES = standins.TENCENT_SETTING
        settings.MEDBOOK_TENCENT_SECRET_ID = SECRET_ID
        settings.MEDBOOK_TENCENT_SECRET_KEY = SECRET_KEY
        settings.MEDBOOK_TENCENT_SMS_APP_ID = standins.TENCENT_APP_ID
        settings.MEDBOOK_TENCENT_SMS_URL = stand_in.url
        settings.MEDBOOK_SMS_TIMEOUT_SECONDS = 2
        yield stand_in


@pytest.fixture(params=["aliyun", "tencent"])
def provider(request) -> standins.StandIn:
    stand_in = request.getfixturevalue(request.param)
    stand_in.name = request.param
    return stand_in


def break_the_secret(provider, settings) -> None:
    if provider.name == "aliyun":
        settings.MEDBOOK_ALIYUN_ACCESS_KEY_SECRET = "not-the-secret"
    else:
        settings.MEDBOOK_TENCENT_SECRET_KEY = "not-the-secret"


def message_for(member, kind: MessageKind = MessageKind.SUSPENDED) -> Message:
    return Message.objects.create(
        member=member, kind=kind, title="停诊通知", body="王医生明天上午停诊，挂号费将原路退回。"
    )


def records() -> list[tuple[str, str, bool]]:
    return [
        (r.status, r.error_code, r.retryable)
        for r in SendRecord.objects.filter(channel="sms").order_by("pk")
    ]


# -- sending ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_texts_a_code_with_its_template(provider, member) -> None:
    services.send_password_reset_code(phone=member.phone)

    [sent] = provider.sent
    national = member.phone.removeprefix("+86")
    if provider.name == "aliyun":
        assert (sent.phone, sent.template) == (national, "SMS_100003")
        code = sent.params["code"]
    else:
        assert (sent.phone, sent.template) == (member.phone, "100003")
        [code] = sent.params
    assert len(code) == 6 and code.isdigit()
    record = SendRecord.objects.get()
    assert (record.purpose, record.provider, record.provider_id, record.status) == (
        "password_reset_code",
        provider.name,
        sent.provider_id,
        SendStatus.SENT,
    )
    assert record.recipient == member.masked_phone and record.seconds is not None


@pytest.mark.django_db
def test_a_message_is_texted_with_its_title_and_body(provider, member) -> None:
    message = message_for(member)

    delivery.deliver_message(message_id=message.pk)

    [sent] = provider.sent
    if provider.name == "aliyun":
        assert sent.template == "SMS_200002"
        assert sent.params == {
            "title": "停诊通知",
            "body": "王医生明天上午停诊，挂号费将原路退回。",
        }
    else:
        assert sent.template == "200001"
        assert sent.params == ["停诊通知", "王医生明天上午停诊，挂号费将原路退回。"]
    message.refresh_from_db()
    assert message.texted_at is not None and message.delivery_error == ""
    assert SendRecord.objects.get(message=message).provider_id == sent.provider_id


@pytest.mark.django_db
def test_a_wrong_secret_is_refused_by_the_provider_and_not_tried_again(
    provider, member, settings
) -> None:
    break_the_secret(provider, settings)
    message = message_for(member)

    result = tasks.deliver_message.apply(args=[message.pk])

    assert result.successful()  # a final refusal is no reason to retry
    expected = (
        "SignatureDoesNotMatch" if provider.name == "aliyun" else "AuthFailure.SignatureFailure"
    )
    assert provider.refused == [expected] and provider.sent == []
    assert records() == [(SendStatus.FAILED, expected, False)]
    message.refresh_from_db()
    assert message.texted_at is None and message.delivery_attempts == 1
    assert message.delivery_error.startswith(f"SMS: {expected}")
    # The periodic re-send leaves it alone too.
    assert list(delivery.pending_message_batches()) == []
    delivery.deliver_message(message_id=message.pk)
    assert len(provider.refused) == 1


@pytest.mark.django_db
@pytest.mark.parametrize("failures", [["throttle"], ["http_503"], ["busy", "throttle"]])
def test_throttling_and_server_errors_are_retried_until_sent(provider, member, failures) -> None:
    provider.script = list(failures)
    message = message_for(member)

    result = tasks.deliver_message.apply(args=[message.pk])

    assert result.successful()
    assert len(provider.sent) == 1
    statuses = records()
    assert [s for s, _code, _retry in statuses] == [SendStatus.FAILED] * len(failures) + [
        SendStatus.SENT
    ]
    assert all(retry for status, _code, retry in statuses if status == SendStatus.FAILED)
    message.refresh_from_db()
    assert message.texted_at is not None
    assert message.delivery_attempts == len(failures) + 1


@pytest.mark.django_db
def test_a_code_is_tried_again_at_once_when_the_provider_is_busy(provider, member) -> None:
    provider.script = ["busy"]

    assert sms.send_sms(
        phone=member.phone, body="验证码 123456", template=sms.LOGIN_CODE, params={"code": "123456"}
    )

    assert len(provider.sent) == 1
    assert [status for status, _c, _r in records()] == [SendStatus.FAILED, SendStatus.SENT]


@pytest.mark.django_db
def test_a_refused_code_is_given_up_without_an_error(provider, member, settings) -> None:
    break_the_secret(provider, settings)

    sent = sms.send_sms(
        phone=member.phone, body="验证码 123456", template=sms.LOGIN_CODE, params={"code": "123456"}
    )

    assert sent is False
    assert len(provider.refused) == 1  # final: not tried again


@pytest.mark.django_db
def test_a_kind_without_a_template_is_a_final_failure(aliyun, member) -> None:
    message = message_for(member, MessageKind.CANCELLED)  # texted, but no template configured

    delivery.deliver_message(message_id=message.pk)

    assert aliyun.sent == aliyun.refused == []  # never asked
    assert records() == [(SendStatus.FAILED, "template_missing", False)]


def test_the_templates_setting_is_checked(settings) -> None:
    settings.MEDBOOK_SMS_TEMPLATES = {**standins.ALIYUN_SETTING, "no_such_text": "SMS_1"}
    with pytest.raises(ImproperlyConfigured, match="no_such_text"):
        sms.templates()
    settings.MEDBOOK_SMS_TEMPLATES = {"reminder": "SMS_1"}
    with pytest.raises(ImproperlyConfigured, match="verification_code"):
        sms.templates()
    settings.MEDBOOK_SMS_TEMPLATES = {
        **standins.ALIYUN_SETTING,
        "reminder": {"id": "SMS_1", "params": ["doctor"]},
    }
    with pytest.raises(ImproperlyConfigured, match="params among"):
        sms.templates()


# -- delivery receipts -----------------------------------------------------------------------


def sent_record(provider: str, provider_id: str) -> SendRecord:
    return SendRecord.objects.create(
        channel="sms",
        purpose="reminder",
        recipient="138****0000",
        provider=provider,
        provider_id=provider_id,
        status=SendStatus.SENT,
        finished_at=timezone.now(),
    )


def post_receipt(client, provider: str, reports, token: str = TOKEN):
    body = reports if isinstance(reports, bytes) else json.dumps(reports)
    url = reverse("members:sms_receipt", args=[provider]) + f"?token={token}"
    return client.post(url, body, content_type="application/json")


ALIYUN_DELIVERED = {
    "phone_number": "1381111****",
    "send_time": "2026-12-01 10:00:00",
    "report_time": "2026-12-01 10:00:03",
    "success": True,
    "err_code": "DELIVERED",
    "err_msg": "用户接收成功",
    "sms_size": "1",
    "biz_id": "900619746936498440^0",
    "out_id": "",
}
TENCENT_FAILED = {
    "user_receive_time": "2026-12-01 10:00:05",
    "nationcode": "86",
    "mobile": "13811110000",
    "report_status": "FAIL",
    "errmsg": "MK:0001",
    "description": "用户关机",
    "sid": "2433:3422534534546",
}


@pytest.fixture
def receipts_on(settings) -> None:
    settings.MEDBOOK_SMS_RECEIPT_TOKEN = TOKEN


@pytest.mark.django_db
def test_an_aliyun_receipt_marks_the_text_delivered(client, receipts_on) -> None:
    record = sent_record("aliyun", "900619746936498440^0")

    answer = post_receipt(client, "aliyun", [ALIYUN_DELIVERED])

    assert answer.status_code == 200 and answer.json() == {"code": 0, "msg": "接收成功"}
    record.refresh_from_db()
    assert record.status == SendStatus.DELIVERED
    assert record.reported_at.isoformat() == "2026-12-01T02:00:03+00:00"


@pytest.mark.django_db
def test_a_tencent_receipt_marks_the_text_failed(client, receipts_on) -> None:
    record = sent_record("tencent", "2433:3422534534546")

    answer = post_receipt(client, "tencent", [TENCENT_FAILED])

    assert answer.status_code == 200 and answer.json() == {"result": 0, "errmsg": "OK"}
    record.refresh_from_db()
    assert (record.status, record.error_code, record.error_message) == (
        SendStatus.FAILED,
        "MK:0001",
        "用户关机",
    )


@pytest.mark.django_db
def test_a_receipt_posted_again_or_for_an_unknown_text_changes_nothing(client, receipts_on) -> None:
    record = sent_record("tencent", "2433:3422534534546")
    post_receipt(client, "tencent", [TENCENT_FAILED])
    delivered_later = {**TENCENT_FAILED, "report_status": "SUCCESS", "errmsg": "DELIVRD"}

    again = post_receipt(client, "tencent", [delivered_later, {**TENCENT_FAILED, "sid": "9:9"}])

    assert again.status_code == 200
    record.refresh_from_db()
    assert record.status == SendStatus.FAILED
    # An Aliyun receipt never touches a Tencent record with the same id.
    post_receipt(client, "aliyun", [{**ALIYUN_DELIVERED, "biz_id": "2433:3422534534546"}])
    record.refresh_from_db()
    assert record.status == SendStatus.FAILED


@pytest.mark.django_db
@pytest.mark.parametrize("token", ["", "wrong-token-0123456789abcdef0123456789"])
def test_a_forged_receipt_is_refused(client, receipts_on, token) -> None:
    record = sent_record("aliyun", "900619746936498440^0")

    answer = post_receipt(client, "aliyun", [ALIYUN_DELIVERED], token=token)

    assert answer.status_code == 403
    record.refresh_from_db()
    assert record.status == SendStatus.SENT


@pytest.mark.django_db
def test_receipts_are_refused_while_no_token_is_configured(client) -> None:
    answer = post_receipt(client, "aliyun", [ALIYUN_DELIVERED], token=TOKEN)
    assert answer.status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"{}",
        b"[]",
        json.dumps([ALIYUN_DELIVERED, {"biz_id": "1^0"}]).encode(),  # one without its outcome
        json.dumps([ALIYUN_DELIVERED, "x"]).encode(),
        json.dumps([{**ALIYUN_DELIVERED, "success": "true"}]).encode(),
    ],
)
def test_a_malformed_receipt_is_a_400_and_writes_nothing(client, receipts_on, body) -> None:
    record = sent_record("aliyun", "900619746936498440^0")

    answer = post_receipt(client, "aliyun", body)

    assert answer.status_code == 400 and answer.json()["msg"]
    record.refresh_from_db()
    assert record.status == SendStatus.SENT


@pytest.mark.django_db
def test_an_unknown_provider_is_a_404(client, receipts_on) -> None:
    assert post_receipt(client, "wechat", [ALIYUN_DELIVERED]).status_code == 404


# -- channel preferences ---------------------------------------------------------------------


def prefer(member, **choices) -> None:
    preferences.set_preferences(member=member, choices=preferences.Choices(**choices))


@pytest.mark.django_db
def test_texts_follow_the_members_categories(member, sms_log) -> None:
    prefer(member, sms_reminders=False)
    reminder = message_for(member, MessageKind.REMINDER)
    suspended = message_for(member, MessageKind.SUSPENDED)

    delivery.deliver_message(message_id=reminder.pk)
    delivery.deliver_message(message_id=suspended.pk)

    assert len(sms_log.messages()) == 1 and "停诊通知" in sms_log.messages()[0]
    assert Message.objects.get(pk=reminder.pk).delivery_attempts == 0
    # Not picked up again either: the member said no.
    assert [pk for batch in delivery.pending_message_batches() for pk in batch] == []


@pytest.mark.django_db
def test_email_follows_the_members_choice(member, mailoutbox) -> None:
    member.user.email = "zhangsan@example.com"
    member.user.save(update_fields=["email"])
    prefer(member, email=False)
    message = message_for(member, MessageKind.POINTS)

    delivery.deliver_message(message_id=message.pk)

    assert mailoutbox == []
    assert list(delivery.pending_message_batches()) == []
    prefer(member, email=True)
    delivery.deliver_message(message_id=message.pk)
    assert [m.to for m in mailoutbox] == [["zhangsan@example.com"]]
    record = SendRecord.objects.get(channel="email")
    assert (record.status, record.recipient) == (SendStatus.SENT, "z***@example.com")


@pytest.mark.django_db
def test_security_codes_are_texted_whatever_the_preferences(member, sms_log) -> None:
    prefer(member, sms_reminders=False, sms_appointments=False, sms_membership=False, email=False)

    services.send_password_reset_code(phone=member.phone)

    assert len(sms_log.messages()) == 1


@pytest.mark.django_db
def test_members_without_preferences_get_every_channel(member, other_member) -> None:
    prefer(other_member, sms_appointments=False)
    mine = message_for(member)
    theirs = message_for(other_member)

    pending = [pk for batch in delivery.pending_message_batches() for pk in batch]

    assert pending == [mine.pk]
    assert not ChannelPreferences.objects.filter(member=member).exists()
    assert theirs.pk not in pending


# -- the member's page -----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_member_sets_their_channels_on_their_page(client, member) -> None:
    client.force_login(member.user)
    url = reverse("members:channels")
    page = client.get(url)
    assert page.status_code == 200
    assert "sms_reminders" in page.content.decode()
    assert "sms_membership" not in page.content.decode()  # the clinic texts no points

    answer = client.post(url, {"sms_appointments": "on", "email_address": "zs@example.com"})

    assert answer.status_code == 302
    assert preferences.preferences_of(member=member) == preferences.Choices(
        sms_reminders=False, sms_appointments=True, sms_membership=True, email=False
    )
    member.user.refresh_from_db()
    assert member.user.email == "zs@example.com"


@pytest.mark.django_db
def test_a_bad_address_is_a_400_and_writes_nothing(client, member) -> None:
    client.force_login(member.user)

    answer = client.post(reverse("members:channels"), {"email_address": "not an address"})

    assert answer.status_code == 400
    assert not ChannelPreferences.objects.exists()
    member.user.refresh_from_db()
    assert member.user.email == ""
