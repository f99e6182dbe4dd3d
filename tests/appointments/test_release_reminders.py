"""Release reminders (放号提醒): due at the member's own opening time (their level's lead hours
before the public release, at the level they have when it is due), sent once with its text
promised in the same transaction, never for a cancelled or past session; set and cancelled by
the member within the rules."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from appointments import exceptions as errors
from appointments import services
from appointments.choices import ReminderStatus, ScheduleStatus
from appointments.models import ReleaseReminder
from medbook.models import OutboxTask
from members import delivery
from members.models import Message
from tests.appointments.factories import ScheduleFactory
from tests.members.factories import MemberFactory

pytestmark = [pytest.mark.core, pytest.mark.django_db]

HOUR = dt.timedelta(hours=1)


@pytest.fixture
def opening():
    """The public opening of the session the tests ask about: two days from now, on the hour."""
    return (timezone.now() + dt.timedelta(days=2)).replace(minute=0, second=0, microsecond=0)


@pytest.fixture
def session(opening):
    """A released session, not yet open to anyone below 钻石 (24 h lead): it is two days
    after its public opening."""
    return ScheduleFactory(
        release_at=opening, date=timezone.localdate(opening) + dt.timedelta(days=2)
    )


def set_at(member, schedule, *, now=None) -> ReleaseReminder:
    return services.set_release_reminder(
        member=member, schedule=schedule, now=now or timezone.now()
    )


@pytest.mark.parametrize(
    ("level", "lead_hours"), [("普通", 0), ("银卡", 2), ("金卡", 12), ("钻石", 24)]
)
def test_it_is_sent_at_the_members_own_opening_time(
    levels, session, opening, level, lead_hours
) -> None:
    member = MemberFactory(level=levels[level])
    reminder = set_at(member, session, now=opening - dt.timedelta(hours=30))
    own_opening = opening - lead_hours * HOUR

    assert services.send_release_reminders(now=own_opening - dt.timedelta(seconds=1)) == 0
    assert not Message.objects.exists()
    assert services.send_release_reminders(now=own_opening) == 1

    reminder.refresh_from_db()
    message = Message.objects.get()
    assert (reminder.status, reminder.closed_at, reminder.message) == (
        ReminderStatus.SENT,
        own_opening,
        message,
    )
    assert (message.member, message.kind, message.session_id) == (member, "reminder", session.pk)
    assert session.doctor.name in message.title
    assert own_opening.astimezone(timezone.get_current_timezone()).strftime("%H:%M") in (
        message.body
    )


def test_it_is_sent_once_however_often_the_job_runs(member, session, opening) -> None:
    set_at(member, session)
    assert services.send_release_reminders(now=opening) == 1
    assert services.send_release_reminders(now=opening) == 0
    assert services.send_release_reminders(now=opening + HOUR) == 0
    assert Message.objects.count() == 1


def test_the_text_is_promised_with_the_message_and_goes_out(
    member, session, opening, sms_log
) -> None:
    set_at(member, session)
    services.send_release_reminders(now=opening)
    message = Message.objects.get()
    # Written in the same transaction as the message: a broker outage cannot lose it.
    assert OutboxTask.objects.filter(task="members.tasks.deliver_message", args=[message.pk])
    delivery.deliver_message(message_id=message.pk)
    texts = sms_log.messages()
    assert len(texts) == 1 and session.doctor.name in texts[0]


def test_a_level_raised_after_setting_it_brings_the_reminder_forward(
    levels, session, opening
) -> None:
    member = MemberFactory(level=levels["普通"])
    set_at(member, session)
    member.level = levels["金卡"]  # 12 h early now
    member.save(update_fields=["level"])
    assert services.send_release_reminders(now=opening - 12 * HOUR) == 1


def test_a_level_lowered_after_setting_it_waits_for_the_new_opening(
    levels, session, opening
) -> None:
    member = MemberFactory(level=levels["金卡"])
    set_at(member, session, now=opening - 20 * HOUR)
    member.level = levels["普通"]
    member.save(update_fields=["level"])
    assert services.send_release_reminders(now=opening - 12 * HOUR) == 0
    assert services.send_release_reminders(now=opening) == 1


def test_a_cancelled_reminder_is_never_sent(member, session, opening) -> None:
    reminder = set_at(member, session)
    services.cancel_release_reminder(reminder=reminder)
    services.cancel_release_reminder(reminder=reminder)  # twice: nothing more

    assert services.send_release_reminders(now=opening) == 0
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.CANCELLED
    assert not Message.objects.exists()


def test_a_sent_reminder_cannot_be_cancelled(member, session, opening) -> None:
    reminder = set_at(member, session)
    services.send_release_reminders(now=opening)
    with pytest.raises(errors.ReminderClosed):
        services.cancel_release_reminder(reminder=reminder)


def test_a_session_cancelled_meanwhile_closes_the_reminder_unsent(member, session, opening) -> None:
    reminder = set_at(member, session)
    session.status = ScheduleStatus.SUSPENDED
    session.save(update_fields=["status"])

    # Closed at the next run, before it would have been due: the list says so at once.
    assert services.send_release_reminders(now=opening - 20 * HOUR) == 0
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.SESSION_CANCELLED
    assert services.send_release_reminders(now=opening) == 0
    assert not Message.objects.exists()


def test_a_reminder_whose_session_has_passed_is_dropped(member, session, opening) -> None:
    """The job was down from before the opening until after the session began."""
    reminder = set_at(member, session)
    assert services.send_release_reminders(now=session.starts_at + HOUR) == 0
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.EXPIRED
    assert not Message.objects.exists()


def test_a_late_run_still_sends_while_the_session_lies_ahead(member, session, opening) -> None:
    set_at(member, session)
    assert services.send_release_reminders(now=opening + 5 * HOUR) == 1


def test_setting_it_twice_keeps_one_reminder(member, session) -> None:
    first = set_at(member, session)
    assert set_at(member, session) == first
    assert ReleaseReminder.objects.count() == 1


def test_after_a_cancellation_it_can_be_set_again(member, session, opening) -> None:
    services.cancel_release_reminder(reminder=set_at(member, session))
    set_at(member, session)
    assert services.send_release_reminders(now=opening) == 1


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"release_at": timezone.now() - HOUR}, errors.AlreadyOpen),
        ({"status": ScheduleStatus.SUSPENDED}, errors.ScheduleSuspended),
        ({"status": ScheduleStatus.FINISHED}, errors.ScheduleInPast),
        ({"status": ScheduleStatus.DRAFT}, errors.ScheduleUnavailable),
    ],
    ids=["open", "suspended", "finished", "draft"],
)
def test_it_is_refused_for_a_session_it_makes_no_sense_for(member, session, change, error) -> None:
    for field, value in change.items():
        setattr(session, field, value)
    session.save()
    with pytest.raises(error):
        set_at(member, session)
    assert not ReleaseReminder.objects.exists()


def test_a_session_open_to_the_members_level_needs_no_reminder(levels, session, opening) -> None:
    vip = MemberFactory(level=levels["钻石"])
    with pytest.raises(errors.AlreadyOpen):
        set_at(vip, session, now=opening - 23 * HOUR)


def test_a_member_holds_a_bounded_number_of_waiting_reminders(member, opening, session) -> None:
    for _ in range(services.MAX_WAITING_REMINDERS):
        set_at(member, ScheduleFactory(release_at=opening, date=session.date))
    with pytest.raises(errors.TooManyReminders):
        set_at(member, session)
    assert ReleaseReminder.objects.count() == services.MAX_WAITING_REMINDERS
