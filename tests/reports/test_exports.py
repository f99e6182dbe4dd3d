"""Exports of the dashboards (CSV, XLSX) on a small clinic whose figures are worked out by hand
(below): the files hold what the page shows, typed; the appointment list is masked for finance
and in full for clinic admins; each export and download is in the operation log; files expire;
only the requester (or a clinic admin) may fetch one; bad input writes nothing; a second click
finds the first export; a lost run is queued again.

The job is run in-process here (``exports.run_export``, what the Celery task calls); the same
job on a real worker over RabbitMQ: test_export_worker.py."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone, translation

from appointments.choices import Channel
from billing.models import Order
from medbook.models import OperationLog, OutboxTask
from medbook.roles import FINANCE
from reports import exports, services
from reports.choices import ExportStatus
from reports.dashboards import BY_SLUG
from reports.models import Export
from reports.selectors import BookingFilters
from tests.appointments.factories import DepartmentFactory, DoctorFactory
from tests.conftest import staff_user
from tests.members.factories import MemberFactory
from tests.reports.clinic import SHANGHAI, change_level, joined, session, visit

pytestmark = pytest.mark.django_db

UTC = dt.UTC
WEEK = {"range": "custom", "start": "2026-03-02", "end": "2026-03-08"}


@pytest.fixture(autouse=True)
def export_storage(settings, tmp_path):
    """Each test's files in its own folder."""
    settings.STORAGES = {
        **settings.STORAGES,
        "exports": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "exports")},
        },
    }
    return tmp_path / "exports"


def order(
    appointment, *, amount: str, paid: bool = True, refunded: str = "0.00", status: str = "paid"
):
    return Order.objects.create(
        appointment=appointment,
        member=appointment.member,
        out_trade_no=f"T{appointment.pk:08d}",
        gateway="sandbox",
        original_amount=appointment.fee,
        discount_rate=Decimal(amount) / appointment.fee,
        amount=Decimal(amount),
        refunded_amount=Decimal(refunded),
        status=status,
        expires_at=appointment.created_at + dt.timedelta(minutes=15),
        paid_at=appointment.created_at if paid else None,
    )


@pytest.fixture
def clinic(levels):
    """内科 (A医生) and 儿科 (C医生), the week of 2 March 2026; every fee ¥50.

    ====  ======================  ==================================================
    no.   session                 appointments (member, status, channel, order)
    ====  ======================  ==================================================
    s1    A Mon 08:00 (4 slots)   m1 completed, paid 50 · m2 no-show, paid 45
    s2    A Mon 14:00 (4 slots)   m1 completed (api), paid 47.50, ¥20 refunded
                                  m2 cancelled, paid 45, ¥45 refunded
    s3    C Tue 08:00 (4 slots)   m2 confirmed (walk-in), unpaid
    ====  ======================  ==================================================

    m1 张三丰 (13812345678) is 普通 until midnight of 2 March in Shanghai, then 银卡: the s1
    booking (28 Feb) is 普通, the s2 booking (16:30 UTC on 1 March) 银卡. m2 李四 is 金卡.
    Totals: 12 slots, 4 booked, 1 cancelled, 1 no-show, 2 completed.
    """
    internal = DepartmentFactory(name="内科", sort_order=1)
    children = DepartmentFactory(name="儿科", sort_order=2)
    a = DoctorFactory(name="A医生", department=internal)
    c = DoctorFactory(name="C医生", department=children)
    start = dt.datetime(2026, 1, 1, tzinfo=UTC)
    m1 = joined(MemberFactory(name="张三丰", phone="+8613812345678", level=levels["普通"]), start)
    m2 = joined(MemberFactory(name="李四", phone="+8613912345670", level=levels["金卡"]), start)
    change_level(m1, levels["银卡"], dt.datetime(2026, 3, 2, tzinfo=SHANGHAI))
    early = dt.datetime(2026, 2, 27, 2, tzinfo=UTC)
    s1 = session(a, dt.date(2026, 3, 2), dt.time(8))
    order(visit(s1, m1, "completed", booked_at=dt.datetime(2026, 2, 28, tzinfo=UTC)), amount="50")
    order(visit(s1, m2, "no_show", booked_at=early), amount="45", paid=True)
    s2 = session(a, dt.date(2026, 3, 2), dt.time(14))
    late = dt.datetime(2026, 3, 1, 16, 30, tzinfo=UTC)
    order(
        visit(s2, m1, "completed", channel=Channel.API, booked_at=late),
        amount="47.50",
        paid=True,
        refunded="20.00",
        status="partially_refunded",
    )
    order(
        visit(s2, m2, "cancelled", booked_at=early),
        amount="45",
        paid=True,
        refunded="45.00",
        status="refunded",
    )
    s3 = session(c, dt.date(2026, 3, 3), dt.time(8))
    order(
        visit(s3, m2, "confirmed", channel=Channel.WALK_IN, booked_at=early),
        amount="45",
        paid=False,
        status="unpaid",
    )
    services.rebuild_rollups(start=dt.date(2026, 2, 1), end=dt.date(2026, 3, 31))
    return {"internal": internal, "a": a, "c": c, "levels": levels, "m1": m1, "m2": m2}


@pytest.fixture
def finance(db):
    return staff_user("finance", FINANCE)


@pytest.fixture
def other_finance(db):
    return staff_user("finance2", FINANCE)


def ask(user, *, dashboard="bookings", kind="tables", fmt="xlsx", language="en", **filters):
    """An export of ``dashboard`` for the hand-made week (and ``filters``), written at once."""
    from reports.forms import BookingFilterForm

    form = BookingFilterForm(_query({**WEEK, **filters}), today=dt.date(2026, 3, 9))
    assert form.is_valid(), form.errors
    export, _created = exports.request_export(
        by=user,
        dashboard=BY_SLUG[dashboard],
        kind=kind,
        export_format=fmt,
        filters=form.export_data(),
        filter_names=form.names(),
        language=language,
    )
    done = exports.run_export(export_id=export.pk)
    assert done is not None, Export.objects.get(pk=export.pk).error
    return done


def _query(data: dict):
    from django.http import QueryDict

    query = QueryDict(mutable=True)
    query.update(data)
    return query


def workbook(export: Export) -> openpyxl.Workbook:
    with exports.storage().open(export.file.name, "rb") as content:
        return openpyxl.load_workbook(io.BytesIO(content.read()))


def values(sheet) -> list[tuple]:
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


def test_the_xlsx_holds_the_page_tables_typed_and_its_totals_are_the_page(clinic, finance):
    export = ask(finance)
    book = workbook(export)
    assert book.sheetnames == [
        "About this file",
        "Headline figures",
        "Booked and slots per day",
        "By department",
        "Morning and afternoon",
        "By doctor",
        "Utilisation by weekday and hour",
    ]
    about = dict(row for row in values(book["About this file"])[2:] if row[0])
    assert about["Dashboard"] == "Bookings and utilisation"
    assert about["Period"] == "2026-03-02 – 2026-03-08"
    assert about["Department"] == "All departments"
    assert about["Requested by"] == "finance"

    headline = {row[0]: row[1:] for row in values(book["Headline figures"])[1:]}
    assert headline["Slots offered"] == (12, 0, 12)
    assert headline["Booked"] == (4, 0, 4)
    assert headline["Utilisation"][0] == pytest.approx(0.333)  # 4 / 12 = 33.3%
    assert headline["Cancelled"][0] == 1
    assert headline["No-shows"][0] == 1
    assert headline["Completed visits"][0] == 2

    by_day = book["Booked and slots per day"]
    assert by_day.freeze_panes == "A2"
    rows = values(by_day)
    assert rows[0] == (
        "Day",
        "Slots offered",
        "Booked",
        "Utilisation",
        "Cancelled",
        "No-shows",
        "Completed visits",
    )
    assert rows[1] == ("2026-03-02", 8, 3, pytest.approx(0.375), 1, 1, 2)
    assert rows[2] == ("2026-03-03", 4, 1, pytest.approx(0.25), 0, 0, 0)
    assert rows[3] == ("2026-03-04", 0, 0, None, 0, 0, 0)
    assert len(rows) == 8  # header + 7 days
    # The file's totals are the page's.
    with translation.override("en"):
        board = BY_SLUG["bookings"].build(
            BookingFilters(dt.date(2026, 3, 2), dt.date(2026, 3, 8)), dt.date(2026, 3, 9)
        )
    totals = board.dashboard.totals
    assert sum(row[1] for row in rows[1:]) == totals.capacity == 12
    assert sum(row[2] for row in rows[1:]) == totals.booked == 4
    assert sum(row[4] for row in rows[1:]) == totals.cancelled
    # Every table cell is the page table's value (rates as fractions of one).
    for table in board.tables.values():
        sheet_rows = values(book[table.title[:31]])[1:]
        assert len(sheet_rows) == len(table.rows)
        for got, want in zip(sheet_rows, table.rows, strict=True):
            for cell, value, column in zip(got, want, table.columns, strict=True):
                if column.kind == "percent" and value is not None:
                    assert Decimal(str(cell)) * 100 == pytest.approx(value)
                else:
                    assert cell == value
    cell = by_day["D2"]
    assert (cell.number_format, by_day["B2"].number_format) == ("0.0%", "#,##0")
    assert export.row_count == sum(len(table.rows) for table in board.tables.values())


def test_the_csv_is_a_zip_of_one_utf8_csv_per_table_that_excel_reads(clinic, finance):
    export = ask(finance, fmt="csv", language="zh-hans")
    assert export.file_name == "预约与号源利用率_2026-03-02_2026-03-08.zip"
    with exports.storage().open(export.file.name, "rb") as content:
        archive = zipfile.ZipFile(io.BytesIO(content.read()))
    names = archive.namelist()
    assert len(names) == 7
    assert names[0].startswith("00 ") and names[2].startswith("02 ")
    raw = archive.read(names[2])
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel shows the Chinese
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][0] == "日期"
    assert rows[0][3].endswith("(%)")
    assert rows[1] == ["2026-03-02", "8", "3", "37.5", "1", "1", "2"]


def test_the_appointment_list_is_masked_for_finance(clinic, finance):
    export = ask(finance, kind="appointments")
    assert export.masked is True
    assert export.row_count == 5  # 4 booked + 1 cancelled: every appointment of the week
    book = workbook(export)
    assert book.sheetnames == ["About this file", "Appointment list"]
    rows = values(book["Appointment list"])
    assert rows[0] == (
        "Day",
        "Session",
        "Starts",
        "Queue number",
        "Department",
        "Doctor",
        "Member",
        "Mobile number",
        "Level when booked",
        "Channel",
        "Status",
        "Fee",
        "Paid",
        "Refunded",
    )
    day = dt.datetime(2026, 3, 2)
    assert rows[1:] == [
        (day, "Morning", "08:00", 1, "内科", "A医生", "张**", "138****5678", "普通会员",
         "Website", "Completed", 50, 50, 0),
        (day, "Morning", "08:00", 2, "内科", "A医生", "李*", "139****5670", "金卡会员",
         "Website", "No-show", 50, 45, 0),
        (day, "Afternoon", "14:00", 1, "内科", "A医生", "张**", "138****5678", "银卡会员",
         "App / API", "Completed", 50, 47.5, 20),
        (day, "Afternoon", "14:00", 2, "内科", "A医生", "李*", "139****5670", "金卡会员",
         "Website", "Cancelled", 50, 45, 45),
        (dt.datetime(2026, 3, 3), "Morning", "08:00", 1, "儿科", "C医生", "李*", "139****5670",
         "金卡会员", "Walk-in", "Confirmed", 50, 0, 0),
    ]  # fmt: skip
    sheet = book["Appointment list"]
    assert sheet["A2"].number_format == "yyyy-mm-dd"
    assert sheet["L2"].number_format == "#,##0.00"
    about = dict(row for row in values(book["About this file"])[2:] if row[0])
    assert about["Personal data"].startswith("Masked")


def test_the_appointment_list_is_in_full_for_clinic_admins(clinic, clinic_admin):
    export = ask(clinic_admin, kind="appointments", fmt="csv")
    assert export.masked is False
    with exports.storage().open(export.file.name, "rb") as content:
        rows = list(csv.reader(io.StringIO(content.read().decode("utf-8-sig"))))
    assert rows[0][-3:] == ["Fee", "Paid", "Refunded"]
    assert rows[1][6:8] == ["张三丰", "13812345678"]
    assert rows[3][-3:] == ["50.00", "47.50", "20.00"]


def test_the_appointment_list_follows_the_filters_level_when_booked(clinic, finance):
    silver = ask(finance, kind="appointments", fmt="csv", level=str(clinic["levels"]["银卡"].pk))
    with exports.storage().open(silver.file.name, "rb") as content:
        rows = list(csv.reader(io.StringIO(content.read().decode("utf-8-sig"))))
    assert [row[:4] for row in rows[1:]] == [["2026-03-02", "Afternoon", "14:00", "1"]]
    children = ask(finance, kind="appointments", department=str(clinic["c"].department.pk))
    assert children.row_count == 1
    # Same set as the dashboard's: booked + cancelled of the same filters.
    board = BY_SLUG["bookings"].build(
        BookingFilters(dt.date(2026, 3, 2), dt.date(2026, 3, 8), level=clinic["levels"]["银卡"]),
        dt.date(2026, 3, 9),
    )
    assert silver.row_count == board.dashboard.totals.booked + board.dashboard.totals.cancelled


def test_a_long_list_moves_on_to_a_new_sheet(clinic, finance, settings):
    settings.MEDBOOK_EXPORT_SHEET_ROWS = 2
    book = workbook(ask(finance, kind="appointments"))
    assert book.sheetnames == [
        "About this file",
        "Appointment list",
        "Appointment list (2)",
        "Appointment list (3)",
    ]
    assert [len(values(book[name])) for name in book.sheetnames[1:]] == [3, 3, 2]
    assert values(book["Appointment list (3)"])[0][0] == "Day"


def test_text_a_spreadsheet_would_run_stays_text(clinic, clinic_admin):
    clinic["m1"].name = '=HYPERLINK("http://x","y")'
    clinic["m1"].save(update_fields=["name"])
    book = workbook(ask(clinic_admin, kind="appointments"))
    cell = book["Appointment list"]["G2"]
    assert cell.data_type == "s"
    assert cell.value == '=HYPERLINK("http://x","y")'
    export = ask(clinic_admin, kind="appointments", fmt="csv")
    with exports.storage().open(export.file.name, "rb") as content:
        text = content.read().decode("utf-8-sig")
    assert "'=HYPERLINK" in text


def test_each_export_and_download_is_in_the_operation_log(client, clinic, finance):
    export = ask(finance, kind="appointments")
    entry = OperationLog.objects.get(action="reports.export")
    assert entry.actor == finance
    assert entry.outcome == "success"
    assert entry.detail == {
        "dashboard": "bookings",
        "content": "appointments",
        "format": "xlsx",
        "filters": export.filters,
        "rows": 5,
        "masked": True,
    }
    assert export.filters["start"] == "2026-03-02"
    client.force_login(finance)
    response = client.get(reverse("staff:reports_export_download", args=[export.token]))
    assert response.status_code == 200
    b"".join(response.streaming_content)
    download = OperationLog.objects.get(action="reports.export_download")
    assert (download.actor, download.target_id) == (finance, str(export.pk))


def test_a_failed_export_says_why_and_is_logged(clinic, finance):
    export, _created = exports.request_export(
        by=finance,
        dashboard=BY_SLUG["bookings"],
        kind="tables",
        export_format="xlsx",
        filters={**WEEK, "department": "999999"},
        filter_names={},
        language="en",
    )
    assert exports.run_export(export_id=export.pk) is None
    export.refresh_from_db()
    assert export.status == ExportStatus.FAILED
    assert "filters no longer fit" in export.error
    assert OperationLog.objects.get(action="reports.export").outcome == "failure"


def test_files_expire_and_the_sweep_deletes_them(client, clinic, finance, export_storage):
    old = ask(finance)
    fresh = ask(finance, fmt="csv")
    path = export_storage / old.file.name
    assert path.exists()
    # Past its time it is gone for its requester even before the sweep …
    Export.objects.filter(pk=old.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    client.force_login(finance)
    assert client.get(reverse("staff:reports_export_download", args=[old.token])).status_code == 404
    # … and the sweep deletes the file and the row.
    result = exports.sweep_exports()
    assert result.deleted == 1
    assert not path.exists()
    assert list(Export.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert (export_storage / fresh.file.name).exists()


def test_files_are_kept_for_the_configured_hours(clinic, finance, settings):
    settings.MEDBOOK_EXPORT_KEEP_HOURS = 2
    export = ask(finance)
    assert export.expires_at - export.finished_at == dt.timedelta(hours=2)


def test_a_second_run_of_the_job_does_nothing(clinic, finance):
    export = ask(finance)
    assert exports.run_export(export_id=export.pk) is None
    assert OperationLog.objects.filter(action="reports.export").count() == 1


def test_a_run_whose_worker_died_is_queued_again_then_given_up(clinic, finance):
    export, _ = exports.request_export(
        by=finance,
        dashboard=BY_SLUG["bookings"],
        kind="tables",
        export_format="xlsx",
        filters=WEEK,
        filter_names={},
        language="en",
    )
    stale = timezone.now() - exports.LEASE - dt.timedelta(seconds=1)
    # A worker claimed it and died (its heartbeat stopped).
    Export.objects.filter(pk=export.pk).update(
        status=ExportStatus.RUNNING, claim="dead", attempts=1, heartbeat_at=stale
    )
    before = OutboxTask.objects.filter(task=exports.TASK, args=[export.pk]).count()
    assert exports.sweep_exports().requeued == 1
    export.refresh_from_db()
    assert (export.status, export.progress) == (ExportStatus.QUEUED, 0)
    assert OutboxTask.objects.filter(task=exports.TASK, args=[export.pk]).count() == before + 1
    # The dead run cannot touch it any more; the job runs it to the end.
    assert exports.run_export(export_id=export.pk).status == ExportStatus.DONE

    # After MAX_ATTEMPTS interrupted runs it is given up, with a message.
    again, _ = exports.request_export(
        by=finance,
        dashboard=BY_SLUG["bookings"],
        kind="tables",
        export_format="csv",
        filters=WEEK,
        filter_names={},
        language="en",
    )
    Export.objects.filter(pk=again.pk).update(
        status=ExportStatus.RUNNING, claim="dead", attempts=exports.MAX_ATTEMPTS, heartbeat_at=stale
    )
    assert exports.sweep_exports().failed == 1
    again.refresh_from_db()
    assert again.status == ExportStatus.FAILED and again.error


def test_a_waiting_export_whose_job_was_lost_is_promised_again(clinic, finance):
    export, _ = exports.request_export(
        by=finance,
        dashboard=BY_SLUG["bookings"],
        kind="tables",
        export_format="xlsx",
        filters=WEEK,
        filter_names={},
        language="en",
    )
    assert exports.sweep_exports().requeued == 0  # just asked: its job is on its way
    Export.objects.filter(pk=export.pk).update(
        heartbeat_at=timezone.now() - exports.REQUEUE_AFTER - dt.timedelta(seconds=1)
    )
    assert exports.sweep_exports().requeued == 1
    assert OutboxTask.objects.filter(task=exports.TASK, args=[export.pk]).count() == 2


# --- Through the pages ----------------------------------------------------------------------


def post(client, *, htmx: bool = False, **data):
    return client.post(
        reverse("staff:reports_export_new"),
        {"dashboard": "bookings", "kind": "tables", "format": "xlsx", **WEEK, **data},
        headers={"HX-Request": "true"} if htmx else {},
    )


def test_the_request_promises_the_job_in_its_transaction(client, clinic, finance):
    client.force_login(finance)
    response = post(client)
    export = Export.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("staff:reports_export", args=[export.token])
    assert export.status == ExportStatus.QUEUED
    # Written with the export, relayed if the broker is down (medbook.outbox).
    assert OutboxTask.objects.filter(task="reports.tasks.run_export", args=[export.pk]).exists()
    assert export.filters == {**WEEK, "department": "", "doctor": "", "level": "", "channel": ""}


def test_a_preset_is_kept_as_the_days_it_meant(client, clinic, finance):
    client.force_login(finance)
    post(client, range="7d", start="", end="")
    export = Export.objects.get()
    today = timezone.localdate()
    assert export.filters["range"] == "custom"
    assert export.filters["start"] == (today - dt.timedelta(days=6)).isoformat()
    assert export.filters["end"] == today.isoformat()


def test_a_double_click_starts_one_export(client, clinic, finance):
    client.force_login(finance)
    first = post(client, htmx=True)
    second = post(client, htmx=True)
    assert Export.objects.count() == 1
    assert OutboxTask.objects.filter(task="reports.tasks.run_export").count() == 1
    token = Export.objects.get().token
    assert token in first.content.decode() and token in second.content.decode()
    # Another format, or once the first is done, is a new export.
    post(client, format="csv")
    assert Export.objects.count() == 2


@pytest.mark.parametrize(
    "bad",
    [
        {"end": "2026-03-01"},  # before the start
        {"start": "2026-13-01"},
        {"department": "999999"},
        {"dashboard": "nonsense"},
        {"format": "pdf"},
        {"kind": "everything"},
        {"range": "custom", "start": "2020-01-01", "end": "2026-03-08"},  # over two years
    ],
)
def test_bad_input_is_a_400_that_writes_nothing(client, clinic, finance, bad):
    client.force_login(finance)
    response = post(client, **bad)
    assert response.status_code == 400
    assert Export.objects.count() == 0
    assert not OutboxTask.objects.filter(task="reports.tasks.run_export").exists()


def test_the_page_shows_the_progress_then_the_download_link(client, clinic, finance):
    client.force_login(finance)
    post(client)
    export = Export.objects.get()
    url = reverse("staff:reports_export", args=[export.token])
    waiting = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 1s"' in waiting and "<progress" in waiting
    exports.run_export(export_id=export.pk)
    done = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "hx-get" not in done
    assert reverse("staff:reports_export_download", args=[export.token]) in done
    assert client.get(url).status_code == 200  # the page of its own (no JavaScript)


def test_the_dashboard_offers_its_exports_with_its_filters(client, clinic, finance):
    client.force_login(finance)
    page = client.get(reverse("staff:reports_bookings"), {**WEEK}).content.decode()
    assert reverse("staff:reports_export_new") in page
    assert 'name="start" value="2026-03-02"' in page
    assert 'name="kind" value="appointments"' in page


def test_the_list_shows_the_logins_own_exports(client, clinic, finance, other_finance):
    mine = ask(finance)
    ask(other_finance, fmt="csv")
    client.force_login(finance)
    page = client.get(reverse("staff:reports_exports")).content.decode()
    assert reverse("staff:reports_export_download", args=[mine.token]) in page
    assert page.count("/download/") == 1


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("requester", 200),
        ("other_finance", 404),
        ("clinic_admin", 200),
        ("front_desk", 404),
        ("member", 404),
        ("anonymous", "login"),
    ],
)
def test_only_the_requester_or_a_clinic_admin_downloads(
    client, clinic, finance, other_finance, clinic_admin, front_desk, member, who, status
):
    export = ask(finance)
    people = {
        "requester": finance,
        "other_finance": other_finance,
        "clinic_admin": clinic_admin,
        "front_desk": front_desk,
        "member": member.user,
        "anonymous": None,
    }
    if people[who] is not None:
        client.force_login(people[who])
    for route in ("staff:reports_export_download", "staff:reports_export"):
        response = client.get(reverse(route, args=[export.token]))
        if status == "login":
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("staff:login") + "?next=")
        else:
            assert response.status_code == status, route
    if status == 200:
        response = client.get(reverse("staff:reports_export_download", args=[export.token]))
        assert response["Content-Disposition"].startswith("attachment")
        assert b"".join(response.streaming_content)[:2] == b"PK"  # an XLSX is a ZIP


def test_a_file_in_full_is_not_for_a_login_that_may_not_see_personal_data(
    client, clinic, clinic_admin, finance
):
    """A clinic admin's unmasked list stays theirs: finance cannot fetch it even with the
    token (and could not as requester either)."""
    export = ask(clinic_admin, kind="appointments")
    client.force_login(finance)
    assert (
        client.get(reverse("staff:reports_export_download", args=[export.token])).status_code == 404
    )


def test_an_export_is_fetched_by_its_token_not_by_its_id(client, clinic, finance):
    export = ask(finance)
    assert len(export.token) >= 40  # 32 random bytes
    client.force_login(finance)
    by_id = client.get(reverse("staff:reports_export_download", args=[str(export.pk)]))
    assert by_id.status_code == 404


def test_the_list_is_read_in_windows_of_whole_days_in_day_order(clinic):
    from reports.selectors.appointments import appointment_rows

    week = BookingFilters(dt.date(2026, 3, 2), dt.date(2026, 3, 8))
    whole = list(appointment_rows(filters=week, masked=True))
    small = list(appointment_rows(filters=week, masked=True, chunk_rows=1))
    assert [len(chunk) for chunk in whole] == [5]
    assert [len(chunk) for chunk in small] == [4, 1]  # a day is never split
    assert [row for chunk in small for row in chunk] == whole[0]
    assert [row[0] for row in whole[0]] == sorted(row[0] for row in whole[0])


def test_a_file_gone_from_the_storage_is_a_404_not_a_500(client, clinic, finance, export_storage):
    export = ask(finance)
    (export_storage / export.file.name).unlink()
    client.force_login(finance)
    response = client.get(reverse("staff:reports_export_download", args=[export.token]))
    assert response.status_code == 404
    assert not OperationLog.objects.filter(action="reports.export_download").exists()


def test_only_those_who_see_the_reports_may_ask_for_an_export(clinic, front_desk):
    from medbook.errors import Forbidden

    with pytest.raises(Forbidden):
        exports.request_export(
            by=front_desk,
            dashboard=BY_SLUG["bookings"],
            kind="tables",
            export_format="csv",
            filters=WEEK,
            filter_names={},
            language="en",
        )
    assert not Export.objects.exists()
