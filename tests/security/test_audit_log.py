"""The operation log: append-only in PostgreSQL, hash-chained, verified, purged only when old."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory
from django.urls import reverse

from medbook import audit
from medbook.models import OperationLog
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db


def three_rows(user) -> list[OperationLog]:
    return [audit.record(actor=user, action="test.step", detail={"n": n}) for n in range(3)]


def test_rows_are_chained_and_verify(member) -> None:
    rows = three_rows(member.user)
    assert rows[1].prev_hash == rows[0].hash and rows[2].prev_hash == rows[1].hash
    out = io.StringIO()
    call_command("verify_audit_log", stdout=out)
    assert "intact" in out.getvalue()


@pytest.mark.postgres
def test_the_application_cannot_update_or_delete_rows(member) -> None:
    row = three_rows(member.user)[0]
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        OperationLog.objects.filter(pk=row.pk).update(reason="edited")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        OperationLog.objects.filter(pk=row.pk).delete()
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM medbook_operationlog")
    assert OperationLog.objects.filter(action="test.step").count() == 3


def _as_dba(sql: str, params: list) -> None:
    """What only someone with the database superuser's powers could do: bypass triggers."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)


@pytest.mark.postgres
def test_verify_detects_an_edited_row(member) -> None:
    rows = three_rows(member.user)
    _as_dba(
        "UPDATE medbook_operationlog SET reason = 'nothing happened' WHERE id = %s", [rows[1].pk]
    )
    err = io.StringIO()
    with pytest.raises(CommandError, match="tampered"):
        call_command("verify_audit_log", stdout=io.StringIO(), stderr=err)
    assert f"row {rows[1].pk}" in err.getvalue()


@pytest.mark.postgres
def test_verify_detects_a_removed_row(member) -> None:
    rows = three_rows(member.user)
    _as_dba("DELETE FROM medbook_operationlog WHERE id = %s", [rows[1].pk])
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("verify_audit_log", stdout=io.StringIO(), stderr=err)
    assert f"row {rows[2].pk}: does not follow" in err.getvalue()


def test_purging_refuses_less_than_180_days() -> None:
    with pytest.raises(CommandError, match="180"):
        call_command("purge_audit_log", days=90, stdout=io.StringIO())


@pytest.mark.postgres
def test_purging_removes_only_rows_past_the_retention(member) -> None:
    rows = three_rows(member.user)
    _as_dba(
        "UPDATE medbook_operationlog SET created_at = now() - interval '400 days' WHERE id <= %s",
        [rows[0].pk],  # the oldest part of the chain
    )
    call_command("purge_audit_log", days=365, stdout=io.StringIO())
    remaining = OperationLog.objects.filter(action="test.step").order_by("pk")
    assert list(remaining.values_list("pk", flat=True)) == [rows[1].pk, rows[2].pk]
    call_command("verify_audit_log", stdout=io.StringIO())  # the rest still verifies


def test_logins_and_failed_logins_are_logged_without_the_full_number(client, levels) -> None:
    member = MemberFactory(phone="+8613700009999")
    member.user.set_password("Kq7!medbook-2026")
    member.user.save()
    client.post(reverse("account_login"), {"login": "13700009999", "password": "wrong"})
    client.post(reverse("account_login"), {"login": "13700009999", "password": "Kq7!medbook-2026"})
    failed = OperationLog.objects.get(action="auth.login_failed")
    assert failed.outcome == "failure" and "13700009999" not in failed.target_label
    assert failed.ip == "127.0.0.1"
    assert OperationLog.objects.filter(action="auth.login", actor=member.user).count() == 1
    client.post(reverse("account_logout"))
    assert OperationLog.objects.filter(action="auth.logout").count() == 1


def test_role_changes_are_logged(front_desk) -> None:
    from django.contrib.auth.models import Group

    front_desk.groups.add(Group.objects.get(name="诊所管理员"))
    assert OperationLog.objects.filter(
        action="access.groups_changed", target_id=str(front_desk.pk)
    ).exists()


def test_the_client_address_comes_from_a_trusted_proxy_only(settings) -> None:
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert audit.client_ip(request) == "10.0.0.5"  # no proxy trusted: the header is ignored
    settings.MEDBOOK_TRUSTED_PROXIES = ["10.0.0.5"]
    assert audit.client_ip(request) == "1.2.3.4"
    spoofed = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="6.6.6.6, 1.2.3.4"
    )
    assert audit.client_ip(spoofed) == "1.2.3.4"  # what our proxy saw, not what the client said


def test_the_console_filters_the_log(client, clinic_admin, member) -> None:
    audit.record(actor=clinic_admin, action="member.unmask", target=member, reason="核对身份")
    audit.record(actor=clinic_admin, action="billing.refund", target=member, reason="退款")
    client.force_login(clinic_admin)
    page = client.get(reverse("staff:operation_log") + "?action=member.").content.decode()
    rows = page[page.index("<tbody>") : page.index("</tbody>")]
    assert "核对身份" in rows and "退款" not in rows
    assert member.phone[3:] not in page
    bad = client.get(reverse("staff:operation_log") + "?day=not-a-day&page=x")
    assert bad.status_code == 200
