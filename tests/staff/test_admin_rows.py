"""The cheap row rendering of long lists (issue 17, part 6): what the admin and the console
show per row is exactly what Django's own code shows, made without its per-row costs — the
action checkbox without a widget template, the row link without a reverse, a choice's label
without rebuilding the field's choices."""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.contrib.admin import ModelAdmin
from django.contrib.admin.views.main import ChangeList
from django.template import engines
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from appointments.choices import AppointmentStatus
from appointments.models import Appointment, ScheduleTemplate
from medbook.choices import choice_label
from medbook.paginator import LargeTableAdmin, LightRows
from tests.appointments.factories import ScheduleFactory, book
from tests.conftest import enable_totp
from tests.members.factories import MemberFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(db):
    user = UserFactory(is_staff=True, is_superuser=True)
    enable_totp(user)
    return user


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_action_checkbox_is_the_admins_own_html(language, levels) -> None:
    schedule = ScheduleFactory()
    template = ScheduleTemplate(
        doctor=schedule.doctor, weekday=2, session="afternoon", start_time="13:30"
    )
    for obj in (schedule, template):
        model_admin = admin.site._registry[type(obj)]
        assert isinstance(model_admin, LightRows)
        with translation.override(language):
            assert model_admin.action_checkbox(obj) == ModelAdmin.action_checkbox(model_admin, obj)


def test_big_tables_rows_link_as_the_admin_would_without_a_reverse_each(
    superuser, levels, monkeypatch
) -> None:
    appointment = book(MemberFactory(), ScheduleFactory())
    request = RequestFactory().get(reverse("admin:appointments_appointment_changelist"))
    request.user = superuser
    model_admin = admin.site._registry[Appointment]
    changelist = model_admin.get_changelist_instance(request)
    assert isinstance(model_admin, LargeTableAdmin)
    expected = ChangeList.url_for_result(changelist, appointment)
    assert changelist.url_for_result(appointment) == expected  # the address reversed once

    reversed_ = []
    monkeypatch.setattr("django.contrib.admin.views.main.reverse", lambda *a, **k: reversed_)
    assert changelist.url_for_result(appointment) == expected
    assert reversed_ == []


def test_every_status_label_is_the_fields_own_display_in_both_languages(levels) -> None:
    appointment = book(MemberFactory(), ScheduleFactory())
    pill = engines["django"].from_string("{% load choices %}{% status_pill a %}")
    for status in AppointmentStatus:
        appointment.status = status
        for language in ("zh-hans", "en"):
            with translation.override(language):
                label = appointment.get_status_display()
                assert str(choice_label(appointment, "status")) == label
                html = pill.render({"a": appointment})
                tone = appointment.status_tone
                assert html == f'<span class="pill {tone} status-{status}">{escape(label)}</span>'
    appointment.status = "no-such-status"  # not a choice: the value itself, as Django shows it
    assert choice_label(appointment, "status") == appointment.get_status_display()


def test_names_made_of_choices_read_as_before(levels) -> None:
    doctor = ScheduleFactory().doctor
    template = ScheduleTemplate(doctor=doctor, weekday=0, session="morning")
    with translation.override("zh-hans"):
        assert str(doctor) == f"{doctor.local_name} · {doctor.get_title_display()}"
        assert str(template) == (
            f"{doctor} {template.get_weekday_display()} {template.get_session_display()}"
        )


def test_a_big_tables_changelist_shows_50_rows_a_page(client, superuser, levels) -> None:
    schedule = ScheduleFactory(capacity=60)
    for _ in range(55):
        book(MemberFactory(), schedule)
    client.force_login(superuser)

    page = client.get(reverse("admin:appointments_appointment_changelist")).content.decode()

    assert page.count('class="action-select"') == 0  # read-only: no actions, no checkboxes
    assert len(re.findall(r'<th class="field-created_at[^"]*"><a href=', page)) == 50
    assert "?p=2" in page
