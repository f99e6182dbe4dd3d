"""放号提醒 on the member's pages: the doctor page offers it on a session not yet open to the
member and marks the ones set (已设提醒); the member lists and cancels their reminders."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from appointments import services
from appointments.choices import ReminderStatus, ScheduleStatus
from appointments.models import ReleaseReminder
from tests.appointments.factories import ScheduleFactory
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ordinary(levels, client):
    member = MemberFactory(name="王五", level=levels["普通"])
    client.force_login(member.user)
    return member


@pytest.fixture
def later():
    """Released, open to the public in a day (to 金卡 in 12 hours)."""
    return ScheduleFactory(
        release_at=timezone.now() + dt.timedelta(days=1),
        date=timezone.localdate() + dt.timedelta(days=5),
    )


def doctor_page(client, schedule) -> str:
    url = reverse("appointments:doctor_detail", args=[schedule.doctor_id])
    return client.get(url).content.decode()


def session_block(page: str, schedule) -> str:
    start = page.index(f'id="schedule-{schedule.pk}"')
    return page[start : page.index("</li>", start)]


def test_the_doctor_page_offers_a_reminder_on_a_session_not_yet_open(client, ordinary, later):
    open_now = ScheduleFactory(doctor=later.doctor)
    page = doctor_page(client, later)
    assert "放号提醒" in session_block(page, later)
    assert reverse("appointments:reminder_set", args=[later.pk]) in session_block(page, later)
    assert "放号提醒" not in session_block(page, open_now)


def test_setting_it_goes_back_to_the_page_and_marks_the_session(client, ordinary, later):
    url = reverse("appointments:reminder_set", args=[later.pk])
    back = reverse("appointments:doctor_detail", args=[later.doctor_id])
    response = client.post(url, {"next": back})
    assert response.status_code == 302 and response["Location"] == back
    assert ReleaseReminder.objects.get().member == ordinary

    page = client.get(back).content.decode()
    assert "已设提醒" in session_block(page, later)
    assert "已设置放号提醒" in page  # the page message says when it goes out
    # The HTMX refresh of the sessions keeps the mark.
    partial = client.get(back, headers={"HX-Request": "true"}).content.decode()
    assert "已设提醒" in session_block(partial, later)


def test_a_next_address_off_the_site_is_not_followed(client, ordinary, later):
    response = client.post(
        reverse("appointments:reminder_set", args=[later.pk]), {"next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("appointments:doctor_detail", args=[later.doctor_id])


def test_a_visitor_is_asked_to_log_in_for_a_reminder(client, levels, later):
    page = doctor_page(client, later)
    assert "登录设置放号提醒" in session_block(page, later)


def test_a_session_already_open_is_refused_and_nothing_is_written(client, ordinary):
    open_now = ScheduleFactory()
    response = client.post(reverse("appointments:reminder_set", args=[open_now.pk]))
    assert response.status_code == 409
    assert "无需设置提醒" in response.content.decode()
    assert not ReleaseReminder.objects.exists()


def test_a_draft_or_unknown_session_is_not_found(client, ordinary, later):
    later.status = ScheduleStatus.DRAFT
    later.save(update_fields=["status"])
    for pk in (later.pk, 999999):
        assert client.post(reverse("appointments:reminder_set", args=[pk])).status_code == 404
    assert not ReleaseReminder.objects.exists()


def test_the_list_shows_waiting_reminders_with_their_time_and_closed_ones(client, ordinary, later):
    waiting = services.set_release_reminder(member=ordinary, schedule=later)
    gone = ScheduleFactory(release_at=later.release_at, date=later.date)
    closed = services.set_release_reminder(member=ordinary, schedule=gone)
    services.cancel_release_reminder(reminder=closed)

    page = client.get(reverse("appointments:reminders")).content.decode()
    due = timezone.localtime(later.release_at)
    waiting_block = page[page.index(f'id="reminder-{waiting.pk}"') :]
    assert f"提醒时间 {due.month}月{due.day}日 {due:%H:%M}" in waiting_block
    assert later.doctor.name in waiting_block and "取消提醒" in waiting_block
    assert "以往的提醒" in page and f'id="reminder-{closed.pk}"' in page
    # Reached from My appointments.
    appointments = client.get(reverse("billing:appointments")).content.decode()
    assert reverse("appointments:reminders") in appointments


def test_the_member_cancels_a_reminder(client, ordinary, later):
    reminder = services.set_release_reminder(member=ordinary, schedule=later)
    response = client.post(reverse("appointments:reminder_cancel", args=[reminder.pk]))
    assert response["Location"] == reverse("appointments:reminders")
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.CANCELLED
    assert "已设提醒" not in session_block(doctor_page(client, later), later)


def test_another_members_reminder_is_not_found(client, ordinary, later, levels):
    theirs = services.set_release_reminder(
        member=MemberFactory(level=levels["普通"]), schedule=later
    )
    response = client.post(reverse("appointments:reminder_cancel", args=[theirs.pk]))
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == ReminderStatus.WAITING


def test_a_sent_reminder_cannot_be_cancelled(client, ordinary, later):
    reminder = services.set_release_reminder(member=ordinary, schedule=later)
    services.send_release_reminders(now=later.release_at)
    response = client.post(reverse("appointments:reminder_cancel", args=[reminder.pk]))
    assert response.status_code == 409
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.SENT


def test_the_message_links_to_the_session_to_book(client, ordinary, later):
    services.set_release_reminder(member=ordinary, schedule=later)
    services.send_release_reminders(now=later.release_at)
    page = client.get(reverse("members:messages")).content.decode()
    assert "放号提醒" in page
    assert reverse("billing:book", args=[later.pk]) in page
