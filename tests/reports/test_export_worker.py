"""An export end to end on a real Celery worker (prefork, RabbitMQ, PostgreSQL): the job the
outbox promises is delivered to the worker (twice, as a relay may), the progress the page polls
climbs while the file is written and reaches 100%, and the file is in the shared storage with
every appointment in it — once."""

from __future__ import annotations

import datetime as dt
import io
import time
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.utils import timezone

from appointments.choices import ScheduleStatus, Session
from appointments.models import Appointment, Schedule
from medbook.models import OperationLog, OutboxTask
from medbook.roles import FINANCE
from reports import exports
from reports.choices import ExportStatus
from reports.dashboards import BY_SLUG
from reports.models import Export
from tests.appointments.factories import DoctorFactory
from tests.conftest import staff_user
from tests.members.factories import MemberFactory
from tests.test_celery_rabbitmq import worker  # noqa: F401  (fixture)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAYS, SESSIONS, PER_SESSION = 150, 2, 10


@pytest.fixture
def shared_storage(monkeypatch, settings, tmp_path):
    """One folder for the worker's files and this process's reads (as a shared volume)."""
    folder = tmp_path / "exports"
    monkeypatch.setenv("MEDBOOK_EXPORT_DIR", str(folder))
    settings.STORAGES = {
        **settings.STORAGES,
        "exports": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(folder)},
        },
    }
    return folder


@pytest.fixture
def export_worker(shared_storage, worker):  # noqa: F811  (the fixture imported above)
    return worker


@pytest.fixture
def busy_clinic(levels):
    """3,000 appointments: 150 days, two sessions a day of ten, every slot taken."""
    doctor = DoctorFactory(name="王医生")
    members = [MemberFactory(level=levels["普通"]) for _ in range(PER_SESSION)]
    first = dt.date(2026, 1, 1)
    schedules = Schedule.objects.bulk_create(
        Schedule(
            doctor=doctor,
            date=first + dt.timedelta(days=day),
            session=Session.MORNING if hour < 12 else Session.AFTERNOON,
            start_time=dt.time(hour),
            end_time=dt.time(hour + 3),
            capacity=PER_SESSION,
            booked=PER_SESSION,
            fee=Decimal("50.00"),
            status=ScheduleStatus.FINISHED,
            release_at=dt.datetime(2025, 12, 1, tzinfo=SHANGHAI),
        )
        for day in range(DAYS)
        for hour in (8, 14)
    )
    Appointment.objects.bulk_create(
        Appointment(
            member=member,
            schedule=schedule,
            queue_number=number,
            estimated_time=schedule.start_time,
            status="completed",
            channel="web",
            fee=schedule.fee,
            created_at=dt.datetime(2025, 12, 20, tzinfo=SHANGHAI),
        )
        for schedule in schedules
        for number, member in enumerate(members, start=1)
    )
    return first, first + dt.timedelta(days=DAYS - 1)


def test_an_export_runs_on_a_real_worker_with_its_progress_reaching_100(
    export_worker, busy_clinic, shared_storage
):
    start, end = busy_clinic
    user = staff_user("finance", FINANCE)
    export, created = exports.request_export(
        by=user,
        dashboard=BY_SLUG["bookings"],
        kind="appointments",
        export_format="xlsx",
        filters={"range": "custom", "start": start.isoformat(), "end": end.isoformat()},
        filter_names={},
        language="zh-hans",
    )
    assert created
    promised = OutboxTask.objects.get(task="reports.tasks.run_export")
    assert promised.args == [export.pk]

    # What the relay hands to the broker, twice (a relay may send a row again).
    export_worker(promised.task, *promised.args)
    export_worker(promised.task, *promised.args)

    seen: list[tuple[str, int]] = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        row = Export.objects.values_list("status", "progress").get(pk=export.pk)
        if not seen or seen[-1] != row:
            seen.append(row)
        if row[0] in (ExportStatus.DONE, ExportStatus.FAILED):
            break
        time.sleep(0.02)
    export.refresh_from_db()
    assert export.status == ExportStatus.DONE, (export.error, seen)
    assert seen[-1] == (ExportStatus.DONE, 100)
    # The bar climbed while the file was written.
    climbing = [progress for status, progress in seen if status == ExportStatus.RUNNING]
    assert any(0 < progress < 100 for progress in climbing), seen
    assert climbing == sorted(climbing)
    assert export.row_count == DAYS * SESSIONS * PER_SESSION

    with exports.storage().open(export.file.name, "rb") as content:
        book = openpyxl.load_workbook(io.BytesIO(content.read()), read_only=True)
    rows = list(book["预约明细"].iter_rows(values_only=True))
    assert len(rows) == DAYS * SESSIONS * PER_SESSION + 1
    assert rows[0][0] == "日期"
    assert rows[1][:4] == (dt.datetime(2026, 1, 1), "上午", "08:00", 1)
    assert rows[-1][:4] == (dt.datetime(2026, 5, 30), "下午", "14:00", PER_SESSION)
    assert (shared_storage / export.file.name).exists()
    # Written once, logged once, though the job came twice.
    assert OperationLog.objects.filter(action="reports.export").count() == 1
    assert export.finished_at <= timezone.now()
