"""Issue 14: API logins go through the web's checks — one failed-login counter per account
(locked via the API, the web is locked too, and the other way round), the texted code past the
limit, the sign-up code's limits — and staff need their second factor."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from medbook.models import OperationLog
from medbook.roles import FRONT_DESK
from tests.api.helpers import PASSWORD, call, error, log_in, pair_for
from tests.conftest import staff_user, totp_code
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient(levels):
    member = MemberFactory(phone="+8613700004444")
    member.user.set_password(PASSWORD)
    member.user.save()
    return member


def _fail_via_api(client: Client, times: int) -> None:
    for _ in range(times):
        assert error(log_in(client, "13700004444", "wrong-password")) == (401, "invalid_login")


def test_failures_via_the_api_lock_the_web_login_too(client, patient, sms_log, settings) -> None:
    _fail_via_api(client, settings.MEDBOOK_LOGIN_FAILURES)
    # The right password alone no longer works, in the app …
    assert error(log_in(client, "13700004444")) == (403, "login_code_required")
    assert "137****4444" in sms_log.messages()[-1]
    # … nor on the website: it asks for the texted code.
    web = Client()
    response = web.post(reverse("account_login"), {"login": "13700004444", "password": PASSWORD})
    assert response["Location"] == reverse("members:login_code")


def test_failures_on_the_web_lock_the_api_too(client, patient, sms_log, settings) -> None:
    web = Client()
    for _ in range(settings.MEDBOOK_LOGIN_FAILURES):
        web.post(reverse("account_login"), {"login": "13700004444", "password": "wrong"})
    assert error(log_in(client, "13700004444")) == (403, "login_code_required")


def test_a_locked_member_logs_in_with_the_texted_code_and_the_password(
    client, patient, sms_log, settings
) -> None:
    _fail_via_api(client, settings.MEDBOOK_LOGIN_FAILURES)
    assert error(log_in(client, "13700004444")) == (403, "login_code_required")
    code = sms_log.code()
    wrong = "000000" if code != "000000" else "111111"
    assert error(log_in(client, "13700004444", code=wrong)) == (400, "wrong_code")
    response = log_in(client, "13700004444", code=code)
    assert response.status_code == 200, response.content
    assert call(client, "get", "me", token=response.json()["access"]).status_code == 200
    # The owner proved it is them: the next login is an ordinary one again.
    assert log_in(client, "13700004444").status_code == 200


def test_the_code_does_not_let_a_wrong_password_in(client, patient, sms_log, settings) -> None:
    _fail_via_api(client, settings.MEDBOOK_LOGIN_FAILURES)
    log_in(client, "13700004444")
    response = log_in(client, "13700004444", "wrong-password", code=sms_log.code())
    assert error(response) == (401, "invalid_login")


def test_logins_are_in_the_operation_log(client, patient) -> None:
    log_in(client, "13700004444", "wrong-password")
    log_in(client, "13700004444")
    actions = list(OperationLog.objects.values_list("action", flat=True))
    assert "auth.login_failed" in actions and "api.login" in actions


def test_the_login_page_limit_per_address_holds_for_the_api(client, patient, settings) -> None:
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login": "2/m/ip"}
    assert log_in(client, "13700004444").status_code == 200
    assert log_in(client, "13700004444").status_code == 200
    response = log_in(client, "13700004444")
    assert error(response) == (429, "throttled")
    # The website shares the count: its login page answers 429 as well.
    assert (
        Client().post(reverse("account_login"), {"login": "x", "password": "y"}).status_code == 429
    )


def test_an_unconfirmed_number_cannot_log_in(client, levels) -> None:
    member = MemberFactory(phone="+8613700005555", phone_verified=False)
    member.user.set_password(PASSWORD)
    member.user.save()
    assert error(log_in(client, "13700005555")) == (403, "phone_not_verified")


# -- staff: the second factor ----------------------------------------------------------------


def test_staff_need_their_authenticator_code(client, db) -> None:
    user = staff_user("desk-api", FRONT_DESK)
    user.set_password(PASSWORD)
    user.save()
    assert error(log_in(client, "desk-api")) == (403, "second_factor_required")
    assert error(log_in(client, "desk-api", otp="000000")) == (400, "wrong_second_factor")
    response = log_in(client, "desk-api", otp=totp_code(user.totp_secret))
    assert response.status_code == 200, response.content
    access = response.json()["access"]
    # A staff login is not a member: the member's own endpoints say so.
    refused = call(client, "get", "me", token=access)
    assert error(refused) == (403, "permission_denied")
    assert "for members" in refused.json()["error"]["message"]
    assert call(client, "get", "departments", token=access).status_code == 200


def test_staff_without_an_authenticator_cannot_use_the_api(client, db) -> None:
    user = staff_user("desk-nomfa", FRONT_DESK, mfa=False)
    user.set_password(PASSWORD)
    user.save()
    assert error(log_in(client, "desk-nomfa")) == (403, "second_factor_setup_required")


def test_a_staff_token_without_the_second_factor_is_refused(client, db) -> None:
    user = staff_user("desk-token", FRONT_DESK)
    pair = pair_for(user, second_factor=False)
    assert error(call(client, "get", "departments", token=pair.access)) == (
        403,
        "second_factor_required",
    )
    assert (
        call(
            client, "get", "departments", token=pair_for(user, second_factor=True).access
        ).status_code
        == 200
    )


# -- sign-up by texted code ----------------------------------------------------------------


def _signup(client: Client, code: str, phone: str = "13912340000", **more: str):
    body = {
        "name": "陈晓明",
        "phone": phone,
        "code": code,
        "password": PASSWORD,
        "accept_terms": True,
        "accept_privacy": True,
        **more,
    }
    return call(client, "post", "auth_signup", body)


def test_a_newcomer_signs_up_with_a_texted_code(client, levels, sms_log) -> None:
    response = call(client, "post", "auth_signup_code", {"phone": "139 1234 0000"})
    assert response.status_code == 202
    assert response.json() == {"masked_phone": "139****0000"}
    response = _signup(client, sms_log.code())
    assert response.status_code == 201, response.content
    me = call(client, "get", "me", token=response.json()["access"]).json()
    assert me["name"] == "陈晓明" and me["masked_phone"] == "139****0000"
    assert me["level"]["name"] == "普通会员"
    # The code is used up.
    assert error(_signup(client, sms_log.code(), name="又一个")) == (400, "wrong_code")


def test_a_registered_number_gets_the_same_answer_and_no_code(client, patient, sms_log) -> None:
    response = call(client, "post", "auth_signup_code", {"phone": "13700004444"})
    assert response.status_code == 202
    assert response.json() == {"masked_phone": "137****4444"}
    assert "already has an account" in sms_log.messages()[-1]
    assert error(_signup(client, "123456", phone="13700004444")) == (400, "wrong_code")


def test_sign_up_refuses_a_wrong_code_and_a_weak_password(client, levels, sms_log) -> None:
    call(client, "post", "auth_signup_code", {"phone": "13912340001"})
    code = sms_log.code()
    wrong = "000000" if code != "000000" else "111111"
    assert error(_signup(client, wrong, phone="13912340001")) == (400, "wrong_code")
    response = _signup(client, code, phone="13912340001", password="123")
    assert error(response) == (400, "invalid")
    assert "password" in response.json()["error"]["fields"]
    assert _signup(client, code, phone="13912340001").status_code == 201


def test_sign_up_codes_are_limited_per_number_as_on_the_web(client, levels, sms_log) -> None:
    assert call(client, "post", "auth_signup_code", {"phone": "13912340002"}).status_code == 202
    response = call(client, "post", "auth_signup_code", {"phone": "13912340002"})
    assert error(response) == (429, "throttled")
    assert len(sms_log.messages()) == 1


def test_a_bad_number_is_a_field_error(client, levels) -> None:
    response = call(client, "post", "auth_signup_code", {"phone": "12"})
    assert error(response) == (400, "invalid")
    assert list(response.json()["error"]["fields"]) == ["phone"]
