"""Every page of the member journeys costs a fixed, small number of SQL queries, measured on
the demo clinic seeded at ten times its default size (5,000 members, 30,000 appointments)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from appointments.models import Schedule
from members.models import Member

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

# Page -> most queries allowed (session, user, member, the page's own reads, unread count).
LIMITS = {
    "home": 6,  # the department grid with its 有号 counts, and the doctors page by page (a count)
    "search": 5,
    "doctor": 8,  # +1: the member's release reminders (已设提醒)
    "doctor_htmx": 8,
    # +1: the account's patients, to choose who the visit is for; +1 the patient's medical
    # insurance card, and for an insured patient +2: the insurer's plan and the year's use (the
    # split the booking would make)
    "book": 10,
    "appointments": 6,
    "appointments_past": 6,
    "appointment": 8,  # +1 for the refund summary when the order was paid
    "cancel": 8,
    "membership": 7,
    "messages": 6,
    "profile": 5,
}


def test_member_pages_cost_a_fixed_number_of_queries_at_ten_times_the_demo(client) -> None:
    call_command("seed_demo", members=5000, appointments=30000, stdout=io.StringIO())
    member = (
        Member.objects.annotate(n=Count("appointments")).order_by("-n", "pk").select_related("user")
    ).first()
    assert member.n >= 10
    client.force_login(member.user)
    appointment = member.appointments.order_by("-pk").first()
    schedule = (
        Schedule.objects.filter(status="published", booked__lt=10)
        .exclude(appointments__member=member)
        .order_by("-date")
        .first()
    )
    pages = {
        "home": (reverse("appointments:home"), {}),
        "search": (reverse("appointments:home") + "?q=高血压", {}),
        "doctor": (reverse("appointments:doctor_detail", args=[schedule.doctor_id]), {}),
        "doctor_htmx": (
            reverse("appointments:doctor_detail", args=[schedule.doctor_id]),
            {"HX-Request": "true"},
        ),
        "book": (reverse("billing:book", args=[schedule.pk]), {}),
        "appointments": (reverse("billing:appointments"), {}),
        "appointments_past": (reverse("billing:appointments") + "?show=past", {}),
        "appointment": (reverse("billing:appointment_detail", args=[appointment.pk]), {}),
        "cancel": (reverse("billing:appointment_cancel", args=[appointment.pk]), {}),
        "membership": (reverse("members:membership"), {}),
        "messages": (reverse("members:messages"), {}),
        "profile": (reverse("members:profile"), {}),
    }
    counts = {}
    for name, (url, headers) in pages.items():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, headers=headers)
        assert response.status_code == 200, (name, response.status_code)
        counts[name] = len(queries)
    over = {name: n for name, n in counts.items() if n > LIMITS[name]}
    assert not over, f"pages over their query budget: {over} (budget {LIMITS})"
