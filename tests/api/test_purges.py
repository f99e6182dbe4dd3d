"""The daily jobs that forget what the API no longer needs: API logins that ended over 30 days
ago, and booking idempotency keys older than a week."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from billing.models import BookingKey
from billing.services.booking_keys import purge_booking_keys
from billing.tasks import purge_booking_keys as purge_booking_keys_task
from medbook.jobs import JOBS
from medbook.models import ApiTokenFamily
from medbook.tasks import purge_ended_api_logins
from tests.api.helpers import call, pair_for
from tests.appointments.factories import ScheduleFactory

pytestmark = pytest.mark.django_db


def test_ended_api_logins_are_forgotten_after_30_days(member) -> None:
    now = timezone.now()
    live = pair_for(member.user)
    expired_long_ago = pair_for(member.user)
    revoked_long_ago = pair_for(member.user)
    revoked_lately = pair_for(member.user)
    families = {
        "live": live.family.pk,
        "expired": expired_long_ago.family.pk,
        "revoked": revoked_long_ago.family.pk,
        "lately": revoked_lately.family.pk,
    }
    ApiTokenFamily.objects.filter(pk=families["expired"]).update(
        expires_at=now - dt.timedelta(days=31)
    )
    ApiTokenFamily.objects.filter(pk=families["revoked"]).update(
        revoked_at=now - dt.timedelta(days=31)
    )
    ApiTokenFamily.objects.filter(pk=families["lately"]).update(
        revoked_at=now - dt.timedelta(days=29)
    )
    assert purge_ended_api_logins.apply().get() == 2
    left = {str(pk) for pk in ApiTokenFamily.objects.values_list("pk", flat=True)}
    assert left == {str(families["live"]), str(families["lately"])}


def test_booking_keys_are_forgotten_after_a_week(client, member) -> None:
    token = pair_for(member.user).access
    for schedule in (ScheduleFactory(), ScheduleFactory()):
        response = call(
            client,
            "post",
            "appointments",
            {"schedule": schedule.pk},
            token=token,
            headers={"HTTP_IDEMPOTENCY_KEY": str(uuid.uuid4())},
        )
        assert response.status_code == 201
    old, new = BookingKey.objects.order_by("pk")
    BookingKey.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=8))
    assert purge_booking_keys_task.apply().get() == 1
    assert list(BookingKey.objects.values_list("pk", flat=True)) == [new.pk]
    assert purge_booking_keys() == 0  # nothing else is old enough


def test_both_purges_are_periodic_jobs() -> None:
    tasks = {job.task for job in JOBS}
    assert {"medbook.tasks.purge_ended_api_logins", "billing.tasks.purge_booking_keys"} <= tasks
