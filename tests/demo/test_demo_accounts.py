"""The embedded default's demo logins: superuser, clinic admin, front desk, doctor, member."""

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
    assert admin.check_password(credentials["admin"])
    assert credentials["admin"] in first.getvalue()
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

    from demo.data import DEMO_MEMBER_PASSWORD

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


def test_the_console_logins_have_their_roles_and_the_doctor_their_queue(
    settings, tmp_path, client
) -> None:
    from django.urls import reverse

    settings.EMBEDDED = True
    settings.VAR_DIR = tmp_path
    call_command("seed_demo", members=20, appointments=50, stdout=io.StringIO())
    call_command("ensure_demo_accounts", stdout=io.StringIO())
    credentials = json.loads((tmp_path / "demo-accounts.json").read_text())

    for username, page in [
        ("clinicadmin", "staff:templates"),
        ("frontdesk", "staff:today"),
        ("doctor", "staff:queue"),
        ("finance", "staff:reports_bookings"),
    ]:
        client.logout()
        response = client.post(
            reverse("staff:login"), {"login": username, "password": credentials[username]}
        )
        assert response["Location"] == reverse("mfa_authenticate"), username
        code = io.StringIO()
        call_command("demo_totp_code", username, stdout=code)
        response = client.post(reverse("mfa_authenticate"), {"code": code.getvalue().strip()})
        assert response.status_code == 302, username
        assert client.get(reverse(page)).status_code == 200, username
    assert User.objects.get(username="doctor").doctor.is_active


def test_the_doctor_login_has_sessions_today_and_every_day_of_the_week(settings, tmp_path):
    import datetime as dt

    from django.utils import timezone

    from appointments.models import Doctor, Schedule

    settings.EMBEDDED = True
    settings.VAR_DIR = tmp_path
    call_command("seed_demo", members=20, appointments=50, stdout=io.StringIO())
    out = io.StringIO()
    call_command("ensure_demo_accounts", stdout=out)

    doctor = Doctor.objects.get(user__username="doctor")
    today = timezone.localdate()
    week = [today + dt.timedelta(days=n) for n in range(7)]
    days = set(
        Schedule.objects.filter(doctor=doctor, date__in=week, status="published").values_list(
            "date", flat=True
        )
    )
    assert today in days
    assert {day for day in week if day.weekday() < 5} <= days
    assert "doctor / " in out.getvalue() and doctor.name in out.getvalue()


def test_the_doctor_login_moves_to_the_demo_doctor_from_another(settings, tmp_path):
    from appointments.models import Doctor
    from demo.data import DEMO_DOCTOR

    settings.EMBEDDED = True
    settings.VAR_DIR = tmp_path
    call_command("seed_demo", members=20, appointments=50, stdout=io.StringIO())
    call_command("ensure_demo_accounts", stdout=io.StringIO())
    login = User.objects.get(username="doctor")
    Doctor.objects.filter(user=login).update(user=None)
    Doctor.objects.exclude(name=DEMO_DOCTOR).filter(pk=Doctor.objects.order_by("pk")[0].pk).update(
        user=login
    )

    call_command("ensure_demo_accounts", stdout=io.StringIO())

    assert Doctor.objects.get(user=login).name == DEMO_DOCTOR
