"""Sessions: staff 30 minutes idle and 12 hours in all, members configurable; logging out
ends the user's other sessions; a password change ends them too; CSP on every page."""

from __future__ import annotations

import time

import pytest
from django.test import Client
from django.urls import reverse

from medbook.middleware import SESSION_SEEN, SESSION_STARTED

pytestmark = pytest.mark.django_db


def age(client: Client, key: str, seconds: int) -> None:
    session = client.session
    session[key] = int(time.time()) - seconds
    session.save()


def test_staff_are_logged_out_after_30_idle_minutes(client, front_desk) -> None:
    client.force_login(front_desk)
    assert client.get(reverse("staff:today")).status_code == 200
    age(client, SESSION_SEEN, 29 * 60)
    assert client.get(reverse("staff:today")).status_code == 200  # and this counts as activity
    age(client, SESSION_SEEN, 31 * 60)
    response = client.get(reverse("staff:today"))
    assert response["Location"] == reverse("staff:login")
    assert client.get(reverse("staff:today")).status_code == 302  # really logged out


def test_staff_sessions_end_after_12_hours_however_active(client, front_desk) -> None:
    client.force_login(front_desk)
    age(client, SESSION_STARTED, 12 * 3600 + 60)
    assert client.get(reverse("staff:today"))["Location"] == reverse("staff:login")


def test_member_sessions_follow_their_own_settings(client, member, settings) -> None:
    settings.MEDBOOK_MEMBER_SESSION_IDLE_MINUTES = 60
    client.force_login(member.user)
    age(client, SESSION_SEEN, 45 * 60)  # idle, but within a member's hour
    assert client.get(reverse("members:profile")).status_code == 200
    age(client, SESSION_SEEN, 61 * 60)
    assert client.get(reverse("members:profile"))["Location"] == reverse("account_login")


def test_logging_out_ends_the_other_sessions(member) -> None:
    phone, laptop = Client(), Client()
    phone.force_login(member.user)
    laptop.force_login(member.user)
    assert laptop.get(reverse("members:profile")).status_code == 200
    phone.post(reverse("account_logout"))
    assert laptop.get(reverse("members:profile")).status_code == 302
    assert laptop.get(reverse("members:profile")).status_code == 302


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(member) -> None:
    member.user.set_password("Kq7!medbook-2026")
    member.user.save()
    here, elsewhere = Client(), Client()
    for client in (here, elsewhere):
        client.post(
            reverse("account_login"),
            {"login": member.phone[3:], "password": "Kq7!medbook-2026"},
        )
    here.post(
        reverse("account_change_password"),
        {
            "oldpassword": "Kq7!medbook-2026",
            "password1": "Zx9#new-pass-1",
            "password2": "Zx9#new-pass-1",
        },
    )
    assert here.get(reverse("members:profile")).status_code == 200
    assert elsewhere.get(reverse("members:profile")).status_code == 302


def test_every_page_carries_the_content_security_policy(client, member) -> None:
    for url in (reverse("appointments:home"), reverse("account_login")):
        csp = client.get(url)["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "unsafe-inline" not in csp
    client.force_login(member.user)
    response = client.get(reverse("members:profile"))
    assert "no-store" in response["Cache-Control"]
