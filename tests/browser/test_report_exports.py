"""Exports in Chromium: finance opens 预约与号源利用率 on the demo clinic, clicks 导出 Excel for
the appointment list, sees the progress bar, then the download link, and downloads the file; on
a desktop the tables as CSV, and the list of their exports. The job is carried out by a real
Celery worker on RabbitMQ: a relay here hands the outbox's promised jobs to the worker's queue
(as medbook.outbox's relay does), a moment late so that the bar can be seen waiting. No CSP
violation (the page fixture fails on one). Screenshots: test-results/screenshots/exports-*.png.
"""

from __future__ import annotations

import datetime as dt
import threading
import time

import openpyxl
import pytest
from django.db import connection
from django.utils import timezone

from medbook.models import OutboxTask
from reports.choices import ExportStatus
from reports.models import Export
from tests.browser.conftest import ARTIFACTS, DESKTOP, screenshot
from tests.browser.test_reports import demo  # noqa: F401  (fixture)
from tests.browser.test_staff_journeys import log_in
from tests.reports.test_export_worker import shared_storage  # noqa: F401  (fixture)
from tests.test_celery_rabbitmq import worker  # noqa: F401  (fixture)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

HAND_OVER_AFTER = 2.0  # seconds a promised export waits, so the page shows it waiting


def shots(page, name: str) -> None:
    """The whole page, and the export panel close up (what a person looks at)."""
    screenshot(page, name)
    page.locator(".export-panel").screenshot(path=str(ARTIFACTS / f"{name}-panel.png"))


@pytest.fixture
def relay(shared_storage, worker):  # noqa: F811  (fixtures imported above)
    """Hands each promised export job to the worker's queue, HAND_OVER_AFTER seconds late."""
    stop = threading.Event()
    handed: set[int] = set()  # (the tests' broker, memory://, took them after commit: lost)

    def run() -> None:
        try:
            while not stop.is_set():
                due = OutboxTask.objects.filter(
                    task="reports.tasks.run_export",
                    created_at__lte=timezone.now() - dt.timedelta(seconds=HAND_OVER_AFTER),
                ).exclude(pk__in=handed)
                for row in due:
                    worker(row.task, *row.args)
                    handed.add(row.pk)
                time.sleep(0.2)
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(timeout=10)


def test_finance_exports_the_appointment_list_and_the_tables(page, demo, relay, tmp_path):  # noqa: F811
    log_in(page, "finance")
    page.get_by_role("link", name="报表").first.click()
    page.get_by_role("link", name="预约与号源利用率").click()
    page.get_by_role("heading", name="预约与号源利用率").wait_for()
    # htmx (a deferred script) must have taken the forms over, or on a loaded machine the click
    # posts the plain form and lands on the export's own page.
    page.wait_for_load_state("load")
    page.wait_for_function("() => window.htmx !== undefined")

    # Phone: the appointment list as Excel.
    panel = page.locator(".export-panel")
    panel.locator("form", has_text="预约明细").get_by_role("button", name="导出 Excel").click()
    bar = page.locator("#export-status progress")
    bar.wait_for()
    assert page.locator("#export-status").get_by_text("排队中").is_visible()
    panel.scroll_into_view_if_needed()
    shots(page, "exports-01-waiting-phone-zh")
    link = page.locator("#export-status").get_by_role("link", name="下载")
    link.wait_for(timeout=60_000)
    assert page.locator("#export-status progress").count() == 0
    shots(page, "exports-02-ready-phone-zh")
    with page.expect_download() as download:
        link.click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.name.startswith("预约与号源利用率_预约明细_") and path.suffix == ".xlsx"
    export = Export.objects.get(kind="appointments")
    assert export.status == ExportStatus.DONE and export.masked
    book = openpyxl.load_workbook(path, read_only=True)
    assert book.sheetnames == ["文件说明", "预约明细"]
    rows = list(book["预约明细"].iter_rows(values_only=True))
    assert len(rows) - 1 == export.row_count > 0
    assert all("*" in row[6] for row in rows[1:])  # names masked for finance

    # Desktop: the tables as CSV (a ZIP), then the list of exports.
    page.set_viewport_size(DESKTOP)
    panel.locator("form", has_text="页面报表").get_by_role("button", name="导出 CSV").click()
    page.locator("#export-status progress").wait_for()
    shots(page, "exports-03-waiting-desktop-zh")
    page.locator("#export-status").get_by_role("link", name="下载").wait_for(timeout=60_000)
    shots(page, "exports-04-ready-desktop-zh")
    page.get_by_role("link", name="我的导出").click()
    page.get_by_role("heading", name="我的导出").wait_for()
    assert page.get_by_role("link", name="下载").count() == 2
    screenshot(page, "exports-05-list-desktop-zh")
    page.set_viewport_size({"width": 375, "height": 812})
    screenshot(page, "exports-06-list-phone-zh")
