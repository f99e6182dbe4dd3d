"""Sign-up fixes (issue 15 part 5): only the region's mobile numbers; a sign-up that never
confirmed its number expires and frees it for the real owner; the page never tells whether a
number is registered, the text to the number does."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from medbook.jobs import JOBS
from members import tasks
from members.models import Member, User
from members.services import register_member
from tests.members.factories import MemberFactory, sign_up


def _age(member: Member, minutes: int) -> None:
    """``member`` signed up ``minutes`` ago (the per-number code limits of then are over)."""
    Member.objects.filter(pk=member.pk).update(
        registered_at=timezone.now() - dt.timedelta(minutes=minutes)
    )
    cache.clear()


@pytest.mark.django_db
@pytest.mark.parametrize("number", ["01012345678", "021 6000 1234", "+44 7911 123456", "1391234"])
def test_a_landline_or_foreign_number_is_refused_with_the_mobile_message(
    client, levels, sms_log, number
) -> None:
    response = sign_up(client, number)
    assert response.status_code == 200
    assert "请输入11位手机号" in response.content.decode()
    assert not Member.objects.exists() and sms_log.messages() == []


@pytest.mark.django_db
def test_the_api_refuses_a_landline_too(client, levels, sms_log) -> None:
    response = client.post(
        reverse("api:auth_signup_code"),
        {"phone": "01012345678"},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 400
    assert "请输入11位手机号" in response.content.decode()
    assert sms_log.messages() == []


@pytest.mark.django_db
def test_an_unconfirmed_sign_up_expires_and_the_real_owner_then_gets_a_code(
    levels, sms_log, settings
) -> None:
    sign_up(Client(), "13912345678", name="冒名者")
    squatter = Member.objects.get()
    assert not squatter.phone_verified
    assert tasks.expire_unverified_signups() == 0  # not yet: the code is still on its way
    _age(squatter, settings.MEDBOOK_UNVERIFIED_SIGNUP_MINUTES + 1)

    assert tasks.expire_unverified_signups() == 1
    assert not Member.objects.filter(pk=squatter.pk).exists()
    assert not User.objects.filter(pk=squatter.user_id).exists()

    owner = Client()
    response = sign_up(owner, "13912345678", name="陈晓明")
    assert response["Location"] == reverse("account_verify_phone")
    assert "验证码" in sms_log.messages()[-1]
    owner.post(reverse("account_verify_phone"), {"code": sms_log.code()})
    assert Member.objects.get(name="陈晓明").phone_verified


@pytest.mark.django_db
def test_the_owners_sign_up_frees_an_expired_number_before_the_job_runs(
    levels, sms_log, settings
) -> None:
    sign_up(Client(), "13912345678", name="冒名者")
    _age(Member.objects.get(), settings.MEDBOOK_UNVERIFIED_SIGNUP_MINUTES + 1)
    sign_up(Client(), "13912345678", name="陈晓明")
    assert list(Member.objects.values_list("name", flat=True)) == ["陈晓明"]
    assert sms_log.code()  # a code, not "this number already has an account"
    assert "该号码已有账户" not in sms_log.messages()[-1]


@pytest.mark.django_db
def test_patients_the_desk_registered_and_confirmed_members_never_expire(levels) -> None:
    walk_in = register_member(name="王芳", phone="13800138000")  # no password, not confirmed
    confirmed = MemberFactory()
    for member in (walk_in, confirmed):
        _age(member, 60 * 24 * 30)
    assert tasks.expire_unverified_signups() == 0
    assert Member.objects.count() == 2


@pytest.mark.django_db
def test_a_registered_number_gets_the_same_page_and_a_text_saying_so(levels, sms_log) -> None:
    MemberFactory(phone="+8613800001111")
    response = sign_up(Client(), "13800001111")
    assert response["Location"] == reverse("account_verify_phone")
    assert "该号码已有账户" in sms_log.messages()[-1]
    assert Member.objects.count() == 1


@pytest.mark.django_db
def test_the_pages_say_a_registered_number_gets_a_text(client, levels, sms_log) -> None:
    assert (
        "如果该号码已注册，您将收到登录提示短信"
        in client.get(reverse("account_signup")).content.decode()
    )
    sign_up(client, "13912345678")
    page = client.get(reverse("account_verify_phone")).content.decode()
    assert "如果该号码已注册，您将收到登录提示短信" in page


def test_the_cleanup_is_a_periodic_job() -> None:
    job = next(job for job in JOBS if job.name == "expire-unverified-signups")
    assert job.task == "members.tasks.expire_unverified_signups" and job.every_seconds
