"""Django admin that finds things (issue 17, part 5): appointments, orders and refunds by a
member's phone or ID number through the blind index, "今天" in its date filters, the operation
log readable and never editable; and the console's jobs page in the reader's language."""

from __future__ import annotations

import re

import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from billing import services
from medbook import audit
from medbook.models import OperationLog
from members.channel_models import SendRecord
from tests.billing.factories import paid_order
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db

VALID_ID = "11010519491231002X"


@pytest.fixture
def two_orders(levels):
    """A paid order of 赵敏 (phone and ID) and one of 周芷若, each cancelled with a refund."""
    mine = paid_order(MemberFactory(name="赵敏", phone="+8613912345678", national_id=VALID_ID))
    other = paid_order(MemberFactory(name="周芷若"))
    for order in (mine, other):
        services.cancel_booking(appointment=order.appointment, by=order.member.user, reason="改期")
    return mine, other


@pytest.mark.parametrize(
    "changelist",
    [
        "admin:appointments_appointment_changelist",
        "admin:billing_order_changelist",
        "admin:billing_refund_changelist",
    ],
)
@pytest.mark.parametrize("term", ["139 1234 5678", "+8613912345678", VALID_ID.lower()])
def test_it_finds_a_members_rows_by_phone_or_id(admin_client, two_orders, changelist, term):
    mine, other = two_orders
    page = admin_client.get(reverse(changelist), {"q": term}).content.decode()
    # The rows, without their links (which repeat the query as typed, as admin's always do).
    page = re.search(r'<table id="result_list">.*?<tbody>(.*?)</tbody>', page, re.S).group(1)
    page = re.sub(r'href="[^"]*"', "", page)
    assert mine.out_trade_no in page or "赵敏" in page
    assert "周芷若" not in page and other.out_trade_no not in page
    assert "13912345678" not in page and VALID_ID not in page


def test_a_part_of_a_number_finds_nothing_and_names_still_work(admin_client, two_orders):
    url = reverse("admin:billing_order_changelist")
    assert "赵敏" not in admin_client.get(url, {"q": "1391234"}).content.decode()
    page = admin_client.get(url, {"q": "周芷若"}).content.decode()
    assert "周芷若" in page and "赵敏" not in page


def test_admin_date_filters_say_today_not_the_consoles_board(admin_client, levels):
    page = admin_client.get(reverse("admin:billing_order_changelist")).content.decode()
    assert "今天" in page
    assert "今日看板" not in page
    for english in ("Model name", "Add link", "Change or view list link"):
        assert english not in page


def test_the_console_still_calls_its_board_todays_board(client, front_desk):
    client.force_login(front_desk)
    page = client.get(reverse("staff:home")).content.decode()
    assert "今日看板" in page


def test_the_operation_log_is_readable_and_searchable_in_admin(admin_client, front_desk):
    audit.record(actor=front_desk, action="member.unmask", reason="核对身份")
    audit.record(actor=front_desk, action="billing.counter_payment", reason="")
    url = reverse("admin:medbook_operationlog_changelist")
    page = admin_client.get(url, {"q": "核对"}).content.decode()
    assert "查看完整个人信息" in page and "窗口收费" not in page
    page = admin_client.get(url, {"area": "billing."}).content.decode()
    assert "窗口收费" in page and "查看完整个人信息" not in page
    assert "类别" in page and "支付与退款" in page and "Payments and refunds" not in page
    row = OperationLog.objects.get(action="member.unmask")
    detail = admin_client.get(reverse("admin:medbook_operationlog_change", args=[row.pk]))
    assert detail.status_code == 200 and "核对身份" in detail.content.decode()


def test_the_operation_log_cannot_be_changed_added_or_deleted_in_admin(admin_client, front_desk):
    audit.record(actor=front_desk, action="member.unmask", reason="核对身份")
    row = OperationLog.objects.get(action="member.unmask")
    change = reverse("admin:medbook_operationlog_change", args=[row.pk])
    admin_client.post(change, {"reason": "改过", "action": "x"})
    assert admin_client.get(reverse("admin:medbook_operationlog_add")).status_code == 403
    assert (
        admin_client.post(
            reverse("admin:medbook_operationlog_delete", args=[row.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    row.refresh_from_db()
    assert (row.reason, row.action) == ("核对身份", "member.unmask")
    assert 'name="_save"' not in admin_client.get(change).content.decode()


def test_the_jobs_page_names_every_job_in_chinese(client, clinic_admin):
    daily, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.DAYS)
    PeriodicTask.objects.get_or_create(
        name="celery.backend_cleanup",
        defaults={"task": "celery.backend_cleanup", "interval": daily},
    )
    client.force_login(clinic_admin)
    page = client.get(reverse("staff:jobs")).content.decode()
    assert "celery.backend_cleanup" not in page and "relay-outbox" not in page
    assert "清理过期的任务结果" in page and "释放未付款的预约" in page
    assert "每天" in page
    assert "Celery beat" not in page and "Periodic tasks" not in page
    for english in ("Hand promised", "Close unpaid", "every ", "Celery deletes"):
        assert english not in page


def test_every_job_has_a_translatable_name_and_description():
    """A job added to medbook/jobs.py without a human name or with a plain-English
    description would show its raw name or English in the Chinese console."""
    from django.utils.functional import Promise

    from medbook.jobs import FOREIGN_JOBS, JOBS

    for job in JOBS:
        assert isinstance(job.title, Promise) and str(job.title), job.name
        assert isinstance(job.description, Promise), job.name
    for title, description in FOREIGN_JOBS.values():
        assert isinstance(title, Promise) and isinstance(description, Promise)


# Words that stay as they are in Chinese: names and abbreviations clinics use as written.
KEPT_AS_WRITTEN = {"MedBook", "App", "API", "TOTP", "ICD", "FHIR", "PDF", "WebAuthn"}


def test_the_admin_index_names_every_section_and_table_in_chinese(admin_client) -> None:
    page = admin_client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    main = re.search(
        r'<div id="content-main">(.*?)<div id="content-related">', page.content.decode(), re.S
    )
    text = re.sub(r"<[^>]+>", " ", main.group(1))
    english = set(re.findall(r"[A-Za-z][A-Za-z ]{2,}", text)) - KEPT_AS_WRITTEN
    assert {word.strip() for word in english} - KEPT_AS_WRITTEN - {""} == set()


def test_the_authenticators_admin_speaks_chinese(admin_client) -> None:
    found = Authenticator.objects.first()  # the admin's own (admin_client has two-factor on)
    for url in (
        reverse("admin:mfa_authenticator_changelist"),
        reverse("admin:mfa_authenticator_change", args=[found.pk]),
    ):
        page = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
        content = page[page.index('<div id="content"') :]
        text = re.sub(r"<(script|style)[^>]*>.*?</\1>|<[^>]+>", " ", content, flags=re.S)
        for english in ("Created at", "Last used", "Type", "Data", "User", "created at", "type"):
            assert english not in text, (url, english)
        assert "验证方式" in text and "最近使用" in text


def test_the_send_records_columns_are_named_in_chinese(admin_client) -> None:
    SendRecord.objects.create(
        channel="sms", purpose="reminder", recipient="138****1234", provider="log",
        status="sent", finished_at=timezone.now(),
    )  # fmt: skip
    url = reverse("admin:members_sendrecord_changelist")
    page = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "响应耗时（秒）" in page and ">Seconds<" not in page


def test_the_periodic_task_page_names_its_sections_in_chinese(admin_client) -> None:
    daily, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.DAYS)
    task, _ = PeriodicTask.objects.get_or_create(
        name="celery.backend_cleanup",
        defaults={"task": "celery.backend_cleanup", "interval": daily},
    )
    change = reverse("admin:django_celery_beat_periodictask_change", args=[task.pk])
    page = admin_client.get(change, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "执行选项" in page and "Execution Options" not in page
    interval = reverse("admin:django_celery_beat_intervalschedule_change", args=[daily.pk])
    page = admin_client.get(interval, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "使用此计划的周期性任务" in page
