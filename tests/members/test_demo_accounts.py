"""The embedded default's demo administrator."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from members.models import User

pytestmark = pytest.mark.django_db


def test_it_creates_the_admin_once_and_prints_the_same_login(settings, tmp_path) -> None:
    settings.EMBEDDED = True
    settings.VAR_DIR = tmp_path
    first, second = io.StringIO(), io.StringIO()

    call_command("ensure_demo_accounts", stdout=first)
    call_command("ensure_demo_accounts", stdout=second)

    credentials = json.loads((tmp_path / "demo-accounts.json").read_text())
    admin = User.objects.get(username="admin")
    assert admin.is_superuser
    assert admin.check_password(credentials["password"])
    assert credentials["password"] in first.getvalue()
    assert first.getvalue() == second.getvalue()
    assert User.objects.filter(username="admin").count() == 1


def test_it_refuses_outside_the_embedded_default(settings) -> None:
    settings.EMBEDDED = False

    with pytest.raises(CommandError, match="createsuperuser"):
        call_command("ensure_demo_accounts", stdout=io.StringIO())


def test_it_prints_a_demo_member_who_can_log_in_with_the_demo_password(
    settings, tmp_path, client
) -> None:
    from django.urls import reverse

    from members.demo import DEMO_MEMBER_PASSWORD

    settings.EMBEDDED = True
    settings.VAR_DIR = tmp_path
    call_command("seed_demo", members=20, appointments=50, stdout=io.StringIO())
    out = io.StringIO()
    call_command("ensure_demo_accounts", stdout=out)

    line = next(text for text in out.getvalue().splitlines() if text.startswith("Member login"))
    phone = line.split(": ")[1].split(" / ")[0]
    response = client.post(
        reverse("account_login"), {"login": phone, "password": DEMO_MEMBER_PASSWORD}
    )
    assert response.status_code == 302
    assert client.get(reverse("billing:appointments")).status_code == 200
