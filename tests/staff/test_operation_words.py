"""The Chinese console and admin read in Chinese where the rows are ours (issue 17, part 5): the
operation log names each operation and its object in the reader's language (not by its code
or an English class name), the admin's roles and logins list their permissions in Chinese, and
django-celery-beat's schedules are said in words of the reader's language."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import translation
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from appointments.models import Appointment
from medbook import audit
from medbook.models import OperationLog
from medbook.operations import ACTIONS
from medbook.roles import FRONT_DESK, permission_name
from records import services as record_services
from tests.staff.test_admin_floor import KEPT_AS_WRITTEN

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["appointments", "billing", "demo", "identity", "interop", "medbook", "members"]
PACKAGES += ["privacy", "records", "reports", "triage"]
CODE = re.compile(r"^[a-z_]+\.[a-z_]*[a-z]$")


def visible(page: str) -> str:
    """The page's words as a reader sees them (no tags, attributes, scripts or styles)."""
    body = page[page.index("<body") :]
    return re.sub(r"<(script|style)[^>]*>.*?</\1>|<[^>]+>", " ", body, flags=re.S)


def written_codes() -> tuple[set[str], set[str]]:
    """The operation codes the source writes: whole codes, and the fixed starts of codes made
    with an f-string (``f"visit_record.view_{what}"``)."""
    whole: set[str] = set()
    starts: set[str] = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                values: list[ast.AST] = []
                if isinstance(node, ast.keyword) and node.arg == "action":
                    values = [node.value]
                elif path.name == "audit_signals.py" and isinstance(node, ast.Constant):
                    values = [node]
                for value in values:
                    for part in ast.walk(value):
                        if isinstance(part, ast.JoinedStr):
                            head = part.values[0]
                            if isinstance(head, ast.Constant) and "." in str(head.value):
                                starts.add(str(head.value))
                        elif isinstance(part, ast.Constant) and CODE.match(str(part.value)):
                            whole.add(str(part.value))
    return whole, starts


def test_every_operation_the_code_writes_has_a_name() -> None:
    whole, starts = written_codes()
    assert {"member.unmask", "auth.login", "admin.change", "mfa.added"} <= whole
    assert whole - set(ACTIONS) == set()
    assert starts == {"visit_record.view_", "access."}
    for start in starts:
        assert any(code.startswith(start) for code in ACTIONS), start
    views = {"visit_record.view_page", "visit_record.view_pdf", "visit_record.view_form"}
    assert views | {"visit_record.view_fhir", "access.groups_changed"} <= set(ACTIONS)


def test_every_operation_has_a_chinese_name() -> None:
    with translation.override("zh-hans"):
        for code, label in ACTIONS.items():
            assert not re.search(r"[A-Za-z]{3,}", re.sub(r"FHIR|App", "", str(label))), code


@pytest.fixture
def log_reader(client, clinic_admin):
    client.force_login(clinic_admin)
    return client


def test_the_console_log_names_operations_and_objects_in_chinese(
    log_reader, clinic_admin, member
) -> None:
    audit.record(actor=clinic_admin, action="member.unmask", target=member, reason="核对身份")
    record_services.log_staff_reads(record_ids=[4, 7], by=clinic_admin, through="fhir")
    page = log_reader.get(reverse("staff:operation_log")).content.decode()
    text = visible(page)
    assert "查看完整个人信息" in text and "查看门诊病历（FHIR）" in text
    assert "来源地址" in text and "起始日期" not in text  # the address column, not a report's
    assert f"会员 #{member.pk}" in text and "门诊病历 #4 #7" in text
    for english in ("member.unmask", "visit_record", "VisitRecord", "Patient"):
        assert english not in text


def test_the_console_log_filters_by_a_chosen_operation(log_reader, clinic_admin, member) -> None:
    audit.record(actor=clinic_admin, action="member.unmask", target=member, reason="核对身份")
    audit.record(actor=clinic_admin, action="member.lift_ban", target=member, reason="误判")
    audit.record(actor=clinic_admin, action="member.unmask_all", reason="另一操作")
    page = log_reader.get(reverse("staff:operation_log"), {"action": "member.unmask"})
    text = visible(page.content.decode())
    assert "核对身份" in text and "误判" not in text and "另一操作" not in text
    area = log_reader.get(reverse("staff:operation_log"), {"action": "member."})
    assert {"核对身份", "误判", "另一操作"} <= set(
        re.findall(r"核对身份|误判|另一操作", visible(area.content.decode()))
    )
    assert '<option value="member.unmask" selected>' in page.content.decode()


def test_rows_written_before_the_log_named_objects_neutrally_read_in_chinese(
    clinic_admin,
) -> None:
    """Rows from before: English class names and words in the label (the chain keeps them)."""
    rows = [
        audit.record(actor=clinic_admin, action="fhir.unmask", target_label="Patient"),
        audit.record(
            actor=clinic_admin, action="visit_record.view_fhir", target_label="VisitRecord"
        ),
        audit.record(
            actor=clinic_admin,
            action="visit_record.view_page",
            target_type="records.visitrecord",
            target_id="4",
            target_label="#4 (appointment #3010)",
        ),
        audit.record(
            actor=clinic_admin, action="admin.change", target_label="appointment 3010: #1 陈志强"
        ),
    ]
    with translation.override("zh-hans"):
        labels = [row.object_label for row in rows]
    assert labels == ["就诊人", "门诊病历", "门诊病历 #4（预约 #3010）", "预约 3010: #1 陈志强"]
    with translation.override("en"):
        assert rows[2].object_label == "Visit record #4 (appointment #3010)"


def test_admin_writes_name_their_object_by_type_and_id(clinic_admin, levels) -> None:
    kind = ContentType.objects.get_for_model(Appointment)
    LogEntry.objects.create(
        user=clinic_admin,
        content_type=kind,
        object_id="3010",
        object_repr="#1 陈志强 2026-12-01 08:00",
        action_flag=CHANGE,
        change_message="[]",
    )
    row = OperationLog.objects.get(action="admin.change")
    assert (row.target_type, row.target_id) == ("appointments.appointment", "3010")
    assert row.target_label == "#1 陈志强 2026-12-01 08:00"
    with translation.override("zh-hans"):
        assert row.object_label == "预约 #1 陈志强 2026-12-01 08:00"


def test_the_admin_log_names_operations_and_finds_them_by_their_chinese_name(
    admin_client, clinic_admin, member
) -> None:
    audit.record(actor=clinic_admin, action="member.unmask", target=member, reason="核对身份")
    audit.record(actor=clinic_admin, action="billing.counter_payment", reason="现金")
    url = reverse("admin:medbook_operationlog_changelist")
    text = visible(admin_client.get(url, {"q": "完整个人信息"}).content.decode())
    assert "查看完整个人信息" in text and "核对身份" in text and "现金" not in text
    assert "member.unmask" not in text and f"会员 #{member.pk}" in text
    row = OperationLog.objects.get(action="member.unmask")
    change = reverse("admin:medbook_operationlog_change", args=[row.pk])
    text = visible(admin_client.get(change).content.decode())
    assert "查看完整个人信息" in text and "members.member" not in text
    assert "member.unmask" not in text  # nor in the page's title and breadcrumbs


def english_in(texts: list[str]) -> list[str]:
    return [t for t in texts if set(re.findall(r"[A-Za-z]{2,}", t)) - KEPT_AS_WRITTEN]


def test_admin_lists_a_roles_permissions_in_chinese(admin_client) -> None:
    role = Group.objects.get(name=FRONT_DESK)
    page = admin_client.get(reverse("admin:auth_group_change", args=[role.pk])).content.decode()
    options = re.findall(r"<option[^>]*>([^<]*)</option>", page)
    assert len(options) > 100
    assert "预约服务 | 预约 | 可以查看预约" in options  # Django's four, worded from the model
    assert "预约服务 | 预约 | 可办理签到" in options  # the clinic's own, from Meta.permissions
    assert "会员管理 | 会员历史 | 可以查看会员历史" in options  # django-simple-history's
    assert "登录会话 | 登录会话 | 可以查看登录会话" in options  # not the clinic's 时段
    assert english_in(options) == []


def test_admin_lists_a_logins_permissions_in_chinese(admin_client, front_desk) -> None:
    url = reverse("admin:members_user_change", args=[front_desk.pk])
    options = re.findall(r"<option[^>]*>([^<]*)</option>", admin_client.get(url).content.decode())
    assert "预约服务 | 预约 | 可以查看预约" in options
    assert english_in(options) == []


def test_every_permission_has_a_chinese_name(db) -> None:
    with translation.override("zh-hans"):
        for permission in Permission.objects.select_related("content_type"):
            name = permission_name(permission)
            assert not re.search(r"\b(Can|can) ", name), (permission.codename, name)


def test_crontab_schedules_read_in_the_readers_language(admin_client, levels) -> None:
    weekly, _ = CrontabSchedule.objects.get_or_create(
        minute="30", hour="2", day_of_week="1", day_of_month="*", month_of_year="*",
        timezone="Asia/Shanghai",
    )  # fmt: skip
    daily = CrontabSchedule.objects.filter(day_of_week="*", hour="2", minute="0").first()
    listing = visible(
        admin_client.get(
            reverse("admin:django_celery_beat_crontabschedule_changelist")
        ).content.decode()
    )
    assert "周一" in listing and "Monday" not in listing and "At " not in listing
    assert daily is None or "每天 02:00" in listing
    change = reverse("admin:django_celery_beat_crontabschedule_change", args=[weekly.pk])
    text = visible(admin_client.get(change).content.decode())
    assert "周一" in text and "Human readable" not in text and "m/h/dM" not in text
    with translation.override("en"):
        from medbook.jobs import crontab_in_words

        assert crontab_in_words(weekly) == "At 02:30, only on Monday"


def test_the_periodic_tasks_list_and_page_have_no_english_labels(admin_client, levels) -> None:
    task = PeriodicTask.objects.filter(crontab__isnull=False).first()
    assert task is not None  # the clinic's jobs, added after migrate
    text = visible(
        admin_client.get(
            reverse("admin:django_celery_beat_periodictask_changelist")
        ).content.decode()
    )
    assert "任务" in text and "执行时间" in text
    for english in ("Task Name", "Scheduler", "At "):
        assert english not in text
    change = reverse("admin:django_celery_beat_periodictask_change", args=[task.pk])
    page = admin_client.get(change).content.decode()
    assert "Crontab translation" not in visible(page) and "At 0" not in page
    for english in ("False", "True", "None", "import_contacts", "Arguments", "Schedule"):
        assert english not in visible(page), english


def test_send_records_name_their_text_and_provider_in_chinese(admin_client) -> None:
    from django.utils import timezone

    from members.channel_models import SendRecord

    for purpose in ("cancelled", "verification_code"):
        SendRecord.objects.create(
            channel="sms", purpose=purpose, recipient="138****1234", provider="log",
            status="sent", finished_at=timezone.now(),
        )  # fmt: skip
    url = reverse("admin:members_sendrecord_changelist")
    text = visible(admin_client.get(url).content.decode())
    assert "仅写日志" in text and "验证码" in text
    rows = text[text.index("138****1234") - 200 :]
    for english in ("cancelled", "verification_code", " log "):
        assert english not in rows
    found = SendRecord.objects.get(purpose="cancelled")
    page = admin_client.get(reverse("admin:members_sendrecord_change", args=[found.pk]))
    text = visible(page.content.decode())
    assert "仅写日志" in text and "cancelled" not in text


def test_points_entries_name_what_they_were_for(admin_client, member) -> None:
    from members import services as member_services
    from members.models import PointsReason

    member_services.add_points(
        member=member, delta=100, reason=PointsReason.VISIT, reference="appointment:983"
    )
    text = visible(
        admin_client.get(reverse("admin:members_pointsentry_changelist")).content.decode()
    )
    assert "预约 #983" in text and "appointment:983" not in text


def test_django_admins_own_english_leftovers_read_in_chinese(admin_client) -> None:
    text = visible(admin_client.get(reverse("admin:members_user_add")).content.decode())
    assert "创建用户后，即可编辑更多用户选项。" in text and "After you" not in text
    catalog = admin_client.get(reverse("admin:jsi18n")).content.decode()
    assert "\\u5168\\u9009%s" in catalog or "全选%s" in catalog  # "Choose all %s"


def test_the_periodic_tasks_list_names_each_job(admin_client, levels) -> None:
    text = visible(
        admin_client.get(
            reverse("admin:django_celery_beat_periodictask_changelist")
        ).content.decode()
    )
    assert "释放未付款的预约" in text
    assert "expire_unpaid_orders" not in text  # no filter of Celery's task paths
