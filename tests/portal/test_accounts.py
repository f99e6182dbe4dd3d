"""Sign-up with a texted code, login by phone, password reset by code, changing the number."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from members.models import Member
from tests.members.factories import PASSWORD, MemberFactory, sign_up

pytestmark = pytest.mark.django_db


def test_it_signs_up_with_the_code_from_the_log(client, levels, sms_log) -> None:
    response = sign_up(client)
    assert response["Location"] == reverse("account_verify_phone")
    member = Member.objects.get(name="陈晓明")
    assert member.phone == "+8613912345678" and not member.phone_verified
    assert member.level == levels["普通"]
    assert "139****5678" in sms_log.messages()[-1]  # the log never holds the full number
    assert "13912345678" not in sms_log.messages()[-1]

    response = client.post(reverse("account_verify_phone"), {"code": sms_log.code()})

    assert response.status_code == 302
    member.refresh_from_db()
    assert member.phone_verified
    assert client.get(reverse("members:profile")).status_code == 200  # logged in


def test_a_wrong_code_does_not_verify(client, levels, sms_log) -> None:
    sign_up(client)
    right = sms_log.code()
    wrong = "000000" if right != "000000" else "111111"
    response = client.post(reverse("account_verify_phone"), {"code": wrong})
    assert response.status_code == 200
    assert not Member.objects.get(name="陈晓明").phone_verified


def test_a_bad_number_or_a_missing_name_gets_a_clear_message_and_writes_nothing(
    client, levels
) -> None:
    response = sign_up(client, phone="12345", name="")
    page = response.content.decode()
    assert response.status_code == 200
    assert "请输入有效的手机号" in page or "手机号" in page
    assert not Member.objects.exists()


def test_logging_in_by_phone_and_password(client, levels) -> None:
    member = MemberFactory(phone="+8613700001111")
    member.user.set_password(PASSWORD)
    member.user.save()
    response = client.post(
        reverse("account_login"), {"login": "137 0000 1111", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.get(reverse("members:profile")).status_code == 200


def test_the_sixth_login_needs_a_texted_code_without_locking_out_recovery_or_others(
    client, levels, sms_log
) -> None:
    member = MemberFactory(phone="+8613700002222")
    neighbour = MemberFactory(phone="+8613700003333")
    for user in (member.user, neighbour.user):
        user.set_password(PASSWORD)
        user.save()
    for _ in range(5):
        response = client.post(
            reverse("account_login"), {"login": "13700002222", "password": "wrong-password"}
        )
        assert response.status_code == 200
    response = client.post(reverse("account_login"), {"login": "13700002222", "password": PASSWORD})
    assert response["Location"] == reverse("members:login_code")  # tests/security/test_lockout.py
    assert client.get(reverse("members:profile")).status_code == 302

    # Another account is not affected.
    other = Client()
    other.post(reverse("account_login"), {"login": "13700003333", "password": PASSWORD})
    assert other.get(reverse("members:profile")).status_code == 200

    # The owner can still recover by a texted code.
    client.post(reverse("members:password_reset"), {"phone": "13700002222"})
    new = "Zx9#after-lockout"
    client.post(
        reverse("members:password_reset_code"),
        {"code": sms_log.code(), "password1": new, "password2": new},
    )
    member.user.refresh_from_db()
    assert member.user.check_password(new)


def test_an_unverified_number_must_be_confirmed_before_logging_in(client, levels, sms_log) -> None:
    member = MemberFactory(phone="+8613700003333", phone_verified=False)
    member.user.set_password(PASSWORD)
    member.user.save()
    response = client.post(reverse("account_login"), {"login": "13700003333", "password": PASSWORD})
    assert response["Location"] == reverse("account_verify_phone")
    assert client.get(reverse("members:profile")).status_code == 302  # not logged in yet
    client.post(reverse("account_verify_phone"), {"code": sms_log.code()})
    assert client.get(reverse("members:profile")).status_code == 200


def _request_reset(client, phone="13700004444"):
    return client.post(reverse("members:password_reset"), {"phone": phone})


def test_password_reset_by_texted_code(client, levels, sms_log) -> None:
    member = MemberFactory(phone="+8613700004444")
    assert _request_reset(client)["Location"] == reverse("members:password_reset_code")
    new = "Zx9#new-password"
    response = client.post(
        reverse("members:password_reset_code"),
        {"code": sms_log.code(), "password1": new, "password2": new},
    )
    assert response["Location"] == reverse("account_login")
    member.user.refresh_from_db()
    assert member.user.check_password(new)


def test_a_reset_code_works_once(client, levels, sms_log) -> None:
    MemberFactory(phone="+8613700004444")
    _request_reset(client)
    code = sms_log.code()
    data = {"code": code, "password1": "Zx9#new-password", "password2": "Zx9#new-password"}
    client.post(reverse("members:password_reset_code"), data)
    _request_reset_page = client.get(reverse("members:password_reset_code"))
    assert _request_reset_page["Location"] == reverse("members:password_reset")
    # Even with the step replayed, the used code is refused.
    session = client.session
    session["medbook_password_reset"] = {
        "member": Member.objects.get().pk,
        "masked": "137****4444",
    }
    session.save()
    response = client.post(reverse("members:password_reset_code"), data)
    assert "验证码错误或已过期" in response.content.decode()


def test_a_reset_code_stops_working_after_five_wrong_tries(client, levels, sms_log) -> None:
    member = MemberFactory(phone="+8613700004444")
    _request_reset(client)
    code = sms_log.code()
    wrong = "000000" if code != "000000" else "111111"
    bad = {"code": wrong, "password1": "Zx9#new-password", "password2": "Zx9#new-password"}
    for _ in range(5):
        client.post(reverse("members:password_reset_code"), bad)
    client.post(reverse("members:password_reset_code"), {**bad, "code": code})
    member.user.refresh_from_db()
    assert not member.user.check_password("Zx9#new-password")


def test_an_unknown_number_gets_the_same_answer_and_no_text(client, levels, sms_log) -> None:
    response = _request_reset(client, phone="13700009999")
    assert response["Location"] == reverse("members:password_reset_code")
    assert sms_log.messages() == []


def test_code_requests_for_one_number_are_rate_limited(client, levels) -> None:
    MemberFactory(phone="+8613700004444")
    statuses = [_request_reset(client).status_code for _ in range(8)]
    assert statuses[0] == 302
    assert statuses[-1] == 429


def test_changing_the_number_needs_the_code_sent_to_the_new_number(client, levels, sms_log) -> None:
    member = MemberFactory(phone="+8613700005555")
    member.user.set_password(PASSWORD)
    member.user.save()
    client.post(reverse("account_login"), {"login": "13700005555", "password": PASSWORD})

    response = client.post(reverse("account_change_phone"), {"phone": "13800006666"})

    assert response["Location"] == reverse("account_verify_phone")
    assert "138****6666" in sms_log.messages()[-1]
    member.refresh_from_db()
    assert member.phone == "+8613700005555"  # unchanged until the code is entered
    client.post(reverse("account_verify_phone"), {"code": sms_log.code()})
    member.refresh_from_db()
    assert member.phone == "+8613800006666" and member.phone_verified


def test_a_number_already_registered_cannot_be_taken(client, levels) -> None:
    MemberFactory(phone="+8613800007777")
    member = MemberFactory(phone="+8613700005555")
    client.force_login(member.user)
    client.post(reverse("account_change_phone"), {"phone": "13800007777"})
    member.refresh_from_db()
    assert member.phone == "+8613700005555"


@pytest.mark.parametrize(
    "path",
    [
        "/accounts/email/",
        "/accounts/confirm-email/",
        "/accounts/confirm-email/abc/",
        "/accounts/password/reset/done/",
        "/accounts/password/reset/key/1-abc/",
        "/accounts/password/set/",
        "/accounts/login/code/confirm/",
    ],
)
def test_allauths_email_pages_are_not_offered(client, member, path) -> None:
    client.force_login(member.user)
    assert client.get(path).status_code == 404


def test_changing_the_password_keeps_this_session_and_needs_the_old_one(client, levels) -> None:
    member = MemberFactory(phone="+8613700008888")
    member.user.set_password(PASSWORD)
    member.user.save()
    client.post(reverse("account_login"), {"login": "13700008888", "password": PASSWORD})
    new = "Zx9#another-pass"
    wrong = client.post(
        reverse("account_change_password"),
        {"oldpassword": "nope", "password1": new, "password2": new},
    )
    assert wrong.status_code == 200
    client.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": new, "password2": new},
    )
    member.user.refresh_from_db()
    assert member.user.check_password(new)
    assert client.get(reverse("members:profile")).status_code == 200


def test_logging_out_ends_the_session(client, member) -> None:
    client.force_login(member.user)
    assert client.get(reverse("account_logout")).status_code == 200  # asks first
    client.post(reverse("account_logout"))
    assert client.get(reverse("members:profile")).status_code == 302
