"""Two-factor authentication (TOTP) is required for every staff role and for superusers."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from medbook.models import OperationLog
from medbook.roles import FRONT_DESK
from tests.conftest import staff_user, totp_code
from tests.members.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "Kq7!console-2026"


def with_password(user):
    user.set_password(PASSWORD)
    user.save()
    return user


def test_staff_without_mfa_cannot_reach_the_console_or_admin(client) -> None:
    desk = staff_user("nomfa", FRONT_DESK, mfa=False)
    client.force_login(desk)
    assert client.get(reverse("staff:today"))["Location"] == reverse("mfa_activate_totp")
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)
    assert client.get(reverse("admin:index"))["Location"] == reverse("mfa_activate_totp")
    assert client.get(reverse("staff:home"))["Location"] == reverse("mfa_activate_totp")


def test_a_password_alone_does_not_log_staff_in(client) -> None:
    desk = with_password(staff_user("desk1", FRONT_DESK))
    response = client.post(reverse("staff:login"), {"login": "desk1", "password": PASSWORD})
    assert response["Location"] == reverse("mfa_authenticate")
    assert client.get(reverse("staff:today"))["Location"].startswith(reverse("staff:login"))

    wrong = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert wrong.status_code == 200
    assert client.get(reverse("staff:today"))["Location"].startswith(reverse("staff:login"))

    client.post(reverse("mfa_authenticate"), {"code": totp_code(desk.totp_secret)})
    assert client.get(reverse("staff:today")).status_code == 200


def test_setting_up_the_authenticator_lets_staff_in_and_is_logged(
    client, django_capture_on_commit_callbacks
) -> None:
    with_password(staff_user("desk2", FRONT_DESK, mfa=False))
    client.post(reverse("staff:login"), {"login": "desk2", "password": PASSWORD})
    # The console sends them to set it up; allauth asks for the password once more first.
    landed = client.get(reverse("staff:home"), follow=True)
    assert landed.redirect_chain[-1][0].startswith(reverse("account_reauthenticate"))
    page = client.post(
        landed.redirect_chain[-1][0], {"password": PASSWORD}, follow=True
    ).content.decode()
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert response.status_code == 302
    assert client.get(reverse("staff:today")).status_code == 200
    assert OperationLog.objects.filter(action="mfa.added", actor__username="desk2").exists()


def test_members_log_in_without_a_second_step(client, member) -> None:
    with_password(member.user)
    client.post(reverse("account_login"), {"login": member.phone[3:], "password": PASSWORD})
    assert client.get(reverse("members:profile")).status_code == 200
