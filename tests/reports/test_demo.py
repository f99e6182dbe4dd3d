"""The demo clinic comes with its report figures: the seed builds the rollups of every day it
loads, so the dashboard shows the demo's data at once."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.urls import reverse

from appointments.models import Appointment, Schedule
from reports.models import DailyBookingStat, DailySessionStat

pytestmark = pytest.mark.django_db


def test_the_seed_builds_the_rollups_and_the_dashboard_shows_them(client, clinic_admin) -> None:
    out = io.StringIO()
    call_command("seed_demo", members=30, appointments=300, stdout=out)
    assert "Report figures of" in out.getvalue()
    made = DailyBookingStat.objects.aggregate(n=Sum("booked") + Sum("cancelled"))["n"]
    assert made == Appointment.objects.count() > 0
    offered = DailySessionStat.objects.aggregate(n=Sum("capacity"))["n"]
    assert offered == Schedule.objects.exclude(status="suspended").aggregate(n=Sum("capacity"))["n"]

    client.force_login(clinic_admin)
    response = client.get(reverse("staff:reports_bookings"), {"range": "30d"})
    assert response.status_code == 200
    board = response.context["dashboard"]
    assert board.totals.booked > 0 and board.totals.capacity > 0
    assert board.by_department and board.by_doctor and board.heat_hours
