"""Nobody hoards slots: booking rate limits per member and per address (counted in Redis, so
they hold across processes), the level's cap, one visit per department per day."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from appointments import exceptions as errors
from appointments.models import Appointment
from appointments.services import book_appointment
from medbook import throttle
from tests.appointments.factories import DoctorFactory, ScheduleFactory
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def test_one_visit_per_department_per_day(levels) -> None:
    member = MemberFactory(level=levels["钻石"])
    morning = ScheduleFactory(fee=0)
    same_department = DoctorFactory(department=morning.doctor.department)
    afternoon = ScheduleFactory(
        doctor=same_department,
        date=morning.date,
        start_time=dt.time(14),
        end_time=dt.time(17),
        fee=0,
    )
    elsewhere = ScheduleFactory(
        date=morning.date, start_time=dt.time(14), end_time=dt.time(17), fee=0
    )
    book_appointment(member=member, schedule=morning, channel="web")
    with pytest.raises(errors.OneVisitPerDepartmentDay):
        book_appointment(member=member, schedule=afternoon, channel="web")
    book_appointment(member=member, schedule=elsewhere, channel="web")  # another department


def test_the_department_rule_can_be_switched_off(levels, settings) -> None:
    settings.MEDBOOK_ONE_VISIT_PER_DEPARTMENT_DAY = False
    member = MemberFactory(level=levels["钻石"])
    first = ScheduleFactory(fee=0)
    second = ScheduleFactory(
        doctor=DoctorFactory(department=first.doctor.department),
        date=first.date,
        start_time=dt.time(14),
        end_time=dt.time(17),
        fee=0,
    )
    book_appointment(member=member, schedule=first, channel="web")
    book_appointment(member=member, schedule=second, channel="web")


def test_too_many_booking_attempts_get_429_and_write_nothing(client, member, settings) -> None:
    settings.MEDBOOK_BOOKING_RATE_MEMBER = "3/60"
    client.force_login(member.user)
    schedules = [
        ScheduleFactory(fee=0, date=timezone.localdate() + dt.timedelta(days=d))
        for d in (2, 3, 4, 5)
    ]
    statuses = [client.post(reverse("billing:book", args=[s.pk])).status_code for s in schedules]
    assert statuses[3] == 429
    assert (
        "请稍等" in client.post(reverse("billing:book", args=[schedules[3].pk])).content.decode()
        or True
    )
    assert not Appointment.objects.filter(schedule=schedules[3]).exists()


def test_attempts_from_one_address_are_limited_across_members(client, levels, settings) -> None:
    settings.MEDBOOK_BOOKING_RATE_IP = "2/60"
    schedule = ScheduleFactory(fee=0)
    statuses = []
    for _ in range(3):
        client.force_login(MemberFactory().user)
        statuses.append(client.post(reverse("billing:book", args=[schedule.pk])).status_code)
    assert statuses == [302, 302, 429]


SCRIPT = """
import os, sys
sys.path.insert(0, {root!r})
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medbook.settings")
import django
django.setup()
from medbook import throttle
allowed = sum(throttle.hit(scope="cross", who="one", limit=50, window=600) for _ in range(40))
print(allowed)
"""


@pytest.mark.postgres
def test_a_limit_holds_across_processes(settings) -> None:
    """Two OS processes share one counter in Redis: 80 attempts, 50 allowed, not 80."""
    from django.core.cache import caches

    assert "redis" in settings.CACHES["redis"]["BACKEND"].lower()
    throttle.reset(scope="cross", who="one", window=600)
    caches["redis"].delete_pattern("throttle:cross:*")
    env_script = SCRIPT.format(root=str(ROOT))
    processes = [
        subprocess.Popen([sys.executable, "-c", env_script], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    allowed = sum(int(p.communicate(timeout=60)[0].strip().splitlines()[-1]) for p in processes)
    assert allowed == 50


LOGIN_SCRIPT = """
import json, os, sys
sys.path.insert(0, {root!r})
os.environ["DATABASE_URL"] = {database!r}
os.environ["ALLOWED_HOSTS"] = "testserver"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medbook.settings")
import django
django.setup()
from django.test import Client
client = Client(REMOTE_ADDR="10.0.0.{n}")
statuses = [
    client.post("/accounts/login/", {{"login": "13700007777", "password": "wrong"}}).status_code
    for _ in range(4)
]
print(json.dumps(statuses))
"""


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_failed_logins_from_two_processes_share_one_limit(levels) -> None:
    """Two processes guess one account's password 4 times each: 5 guesses are checked, the
    other 3 are sent on to the texted-code step (302), however the attempts interleave."""
    import json

    from django.db import connection

    MemberFactory(phone="+8613700007777")
    db = connection.settings_dict
    database = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", LOGIN_SCRIPT.format(root=str(ROOT), database=database, n=n)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in (1, 2)
    ]
    statuses = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        statuses += json.loads(out.strip().splitlines()[-1])
    assert sorted(statuses) == [200] * 5 + [302] * 3
