"""Issue 10, item 3: failed logins lock nobody out. Past the limit a member needs a texted code
with the password, a staff login is delayed (its TOTP still follows), and a clinic admin can
recover a staff login from the console (written to the operation log)."""

from __future__ import annotations

import time

import pytest
from django.test import Client
from django.urls import reverse

from medbook.models import OperationLog
from medbook.roles import FRONT_DESK
from tests.conftest import staff_user, totp_code
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db

PASSWORD = "Kq7!medbook-2026"


def _member(phone: str = "+8613700002222"):
    member = MemberFactory(phone=phone)
    member.user.set_password(PASSWORD)
    member.user.save()
    return member


def _fail(client: Client, login: str, times: int, url: str = "account_login") -> None:
    for _ in range(times):
        response = client.post(reverse(url), {"login": login, "password": "wrong-password"})
        assert response.status_code == 200


def _lock(client: Client, login: str) -> None:
    """Use up the account's failed logins; the next attempt is sent on for a code."""
    from django.conf import settings

    _fail(client, login, settings.MEDBOOK_LOGIN_FAILURES)
    response = client.post(reverse("account_login"), {"login": login, "password": "wrong"})
    assert response["Location"] == reverse("members:login_code")


def _logged_in(client: Client) -> bool:
    return client.get(reverse("members:profile")).status_code == 200


def _wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


# -- members: a texted code ------------------------------------------------------------------


def test_it_asks_a_locked_member_for_a_texted_code_instead_of_refusing(
    client, levels, sms_log, settings
) -> None:
    _member()
    _fail(client, "13700002222", settings.MEDBOOK_LOGIN_FAILURES)
    response = client.post(reverse("account_login"), {"login": "13700002222", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("members:login_code")
    assert not _logged_in(client)  # the right password alone is not enough any more
    assert "137****2222" in sms_log.messages()[-1]
    page = client.get(reverse("members:login_code")).content.decode()
    assert "137****2222" in page and "验证码" in page


def test_it_lets_a_locked_member_in_with_the_password_and_the_code(
    client, levels, sms_log, settings
) -> None:
    _member()
    _lock(client, "13700002222")
    response = client.post(
        reverse("members:login_code"), {"code": sms_log.code(), "password": PASSWORD}
    )
    assert response.status_code == 302
    assert _logged_in(client)
    # The owner proved it is them: their next login is an ordinary one again.
    other = Client()
    other.post(reverse("account_login"), {"login": "13700002222", "password": PASSWORD})
    assert _logged_in(other)


def test_it_does_not_let_a_locked_member_in_with_the_code_and_a_wrong_password(
    client, levels, sms_log, settings
) -> None:
    _member()
    _lock(client, "13700002222")
    code = sms_log.code()
    response = client.post(reverse("members:login_code"), {"code": code, "password": "nope"})
    assert response.status_code == 400
    assert "密码错误" in response.content.decode()
    assert not _logged_in(client)
    # The code was used up by that try.
    client.post(reverse("members:login_code"), {"code": code, "password": PASSWORD})
    assert not _logged_in(client)


def test_it_limits_wrong_codes(client, levels, sms_log, settings) -> None:
    _member()
    _lock(client, "13700002222")
    code = sms_log.code()
    for _ in range(settings.MEDBOOK_CODE_MAX_ATTEMPTS):
        response = client.post(
            reverse("members:login_code"), {"code": _wrong(code), "password": PASSWORD}
        )
        assert response.status_code == 400
        assert "验证码错误" in response.content.decode()
    client.post(reverse("members:login_code"), {"code": code, "password": PASSWORD})
    assert not _logged_in(client)


def test_it_limits_how_many_codes_are_texted(client, levels, sms_log, settings) -> None:
    settings.MEDBOOK_LOGIN_CODE_RATE = "2/3600"
    _member()
    _lock(client, "13700002222")  # one code texted
    client.post(reverse("members:login_code"), {"resend": "1"})  # a second
    response = client.post(reverse("members:login_code"), {"resend": "1"}, follow=True)
    assert "请求过于频繁" in response.content.decode()
    assert len(sms_log.messages()) == 2


def test_it_limits_how_many_login_codes_one_address_asks_for(
    client, levels, sms_log, settings
) -> None:
    """One address cannot text codes to number after number."""
    settings.MEDBOOK_LOGIN_CODE_RATE_IP = "2/3600"
    for n in range(3):
        _member(f"+861370000555{n}")
        _lock(Client(), f"1370000555{n}")
    assert len(sms_log.messages()) == 2


def test_a_locked_member_learns_nothing_about_the_password_without_the_code(
    client, levels, sms_log, settings
) -> None:
    """Past the limit the right and a wrong password get the same answer: guessing on is
    pointless (the password is only checked together with a right code)."""
    settings.MEDBOOK_LOGIN_CODE_RATE = "100/60"
    _member()
    _fail(client, "13700002222", settings.MEDBOOK_LOGIN_FAILURES)
    right = client.post(reverse("account_login"), {"login": "13700002222", "password": PASSWORD})
    wrong = client.post(reverse("account_login"), {"login": "13700002222", "password": "x1"})
    assert (right.status_code, right["Location"]) == (wrong.status_code, wrong["Location"])
    assert not _logged_in(client)


def test_an_unknown_number_gets_the_same_answer_and_no_text(
    client, levels, sms_log, settings
) -> None:
    _fail(client, "13700009999", settings.MEDBOOK_LOGIN_FAILURES)
    response = client.post(reverse("account_login"), {"login": "13700009999", "password": "x"})
    assert response["Location"] == reverse("members:login_code")
    assert sms_log.messages() == []
    page = client.post(reverse("members:login_code"), {"code": "123456", "password": "x"})
    assert page.status_code == 400


def test_the_limit_holds_for_each_account_alone(client, levels, sms_log, settings) -> None:
    _member()
    _member("+8613700003333")
    _lock(client, "13700002222")
    other = Client()
    other.post(reverse("account_login"), {"login": "13700003333", "password": PASSWORD})
    assert _logged_in(other)


def test_the_code_page_without_a_locked_login_sends_to_the_login(client) -> None:
    assert client.get(reverse("members:login_code"))["Location"] == reverse("account_login")


# -- staff: the TOTP and a delay ---------------------------------------------------------------


def _desk(username: str = "desk9"):
    desk = staff_user(username, FRONT_DESK)
    desk.set_password(PASSWORD)
    desk.save()
    return desk


def test_a_locked_staff_login_is_delayed_but_password_and_totp_still_get_in(
    client, settings
) -> None:
    settings.MEDBOOK_STAFF_LOCKOUT_DELAY = 1
    desk = _desk()
    started = time.monotonic()
    _fail(client, "desk9", settings.MEDBOOK_LOGIN_FAILURES, url="staff:login")
    assert time.monotonic() - started < 1  # within the limit: no delay

    started = time.monotonic()
    response = client.post(reverse("staff:login"), {"login": "desk9", "password": PASSWORD})
    assert time.monotonic() - started >= 1  # past it: delayed, not refused
    assert response["Location"] == reverse("mfa_authenticate")
    assert client.get(reverse("staff:today"))["Location"].startswith(reverse("staff:login"))
    client.post(reverse("mfa_authenticate"), {"code": totp_code(desk.totp_secret)})
    assert client.get(reverse("staff:today")).status_code == 200


def test_a_locked_staff_login_with_a_wrong_password_is_delayed_and_refused(
    client, settings
) -> None:
    settings.MEDBOOK_STAFF_LOCKOUT_DELAY = 1
    _desk()
    _fail(client, "desk9", settings.MEDBOOK_LOGIN_FAILURES, url="staff:login")
    started = time.monotonic()
    response = client.post(reverse("staff:login"), {"login": "desk9", "password": "nope"})
    assert time.monotonic() - started >= 1
    assert response.status_code == 200
    assert client.get(reverse("staff:today"))["Location"].startswith(reverse("staff:login"))


# -- staff recovery by a clinic admin ---------------------------------------------------------


def test_a_clinic_admin_clears_a_staff_lockout_and_it_is_logged(
    client, clinic_admin, settings
) -> None:
    settings.MEDBOOK_STAFF_LOCKOUT_DELAY = 1
    desk = _desk()
    _fail(Client(), "desk9", settings.MEDBOOK_LOGIN_FAILURES + 2, url="staff:login")
    client.force_login(clinic_admin)
    page = client.get(reverse("staff:staff_accounts"))
    assert page.status_code == 200 and "desk9" in page.content.decode()

    response = client.post(reverse("staff:staff_account_reset", args=[desk.pk]))

    assert response["Location"] == reverse("staff:staff_accounts")
    row = OperationLog.objects.get(action="staff.lockout_reset")
    assert row.actor == clinic_admin and row.target_id == str(desk.pk)
    started = time.monotonic()
    login = Client().post(reverse("staff:login"), {"login": "desk9", "password": PASSWORD})
    assert time.monotonic() - started < 1  # no delay any more
    assert login["Location"] == reverse("mfa_authenticate")


def test_a_clinic_admin_resets_a_staff_authenticator_and_it_is_set_up_again(
    client, clinic_admin
) -> None:
    from allauth.mfa.models import Authenticator

    desk = _desk()
    desk_session = Client()
    desk_session.force_login(desk)
    assert desk_session.get(reverse("staff:today")).status_code == 200
    client.force_login(clinic_admin)

    client.post(reverse("staff:staff_account_reset", args=[desk.pk]), {"authenticator": "1"})

    assert not Authenticator.objects.filter(user=desk).exists()
    assert OperationLog.objects.filter(
        action="staff.mfa_reset", actor=clinic_admin, target_id=str(desk.pk)
    ).exists()
    # Their open session ended; at the next login they set up a new authenticator.
    assert desk_session.get(reverse("staff:today")).status_code == 302
    fresh = Client()
    response = fresh.post(reverse("staff:login"), {"login": "desk9", "password": PASSWORD})
    assert response.status_code == 302
    assert fresh.get(reverse("staff:today"))["Location"] == reverse("mfa_activate_totp")


def test_front_desk_cannot_reset_a_staff_login(client, front_desk) -> None:
    other = _desk()
    client.force_login(front_desk)
    response = client.post(reverse("staff:staff_account_reset", args=[other.pk]))
    assert response.status_code == 403
    assert not OperationLog.objects.filter(action__startswith="staff.").exists()


def test_a_members_login_or_a_superuser_is_not_a_staff_login_to_reset(
    client, clinic_admin, member
) -> None:
    from tests.members.factories import UserFactory

    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(clinic_admin)
    for pk in (member.user.pk, root.pk):
        response = client.post(reverse("staff:staff_account_reset", args=[pk]))
        assert response.status_code == 404
