"""Closing an account on request: confirmed with the password; refused while a visit is ahead or
money in flight; the login closed, the number released, personal data erased (down to a dump of
the database), financial records kept under a pseudonym; logged."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from appointments.models import Appointment
from billing.models import Order, Refund
from medbook import audit
from medbook.models import OperationLog
from members.consent import Consent
from members.models import Member, Message, Patient, PointsEntry
from tests.appointments.factories import ScheduleFactory
from tests.billing.factories import book, paid_order
from tests.members.factories import sign_up
from tests.privacy.helpers import PASSWORD, two_people
from tests.security.test_data_at_rest import _dump


def _close(client, password: str = PASSWORD, understand: bool = True):
    data = {"password": password}
    if understand:
        data["understand"] = "on"
    return client.post(reverse("privacy:close"), data)


@pytest.mark.django_db
def test_it_asks_the_password_and_the_tick_and_changes_nothing_without(client, levels) -> None:
    a, _b = two_people()
    client.force_login(a.member.user)
    assert client.get(reverse("privacy:close")).status_code == 200
    assert _close(client, password="wrong").status_code == 400
    assert _close(client, understand=False).status_code == 400
    assert Member.objects.get(pk=a.member.pk).name == a.name
    assert not OperationLog.objects.filter(action="privacy.erasure").exists()


@pytest.mark.django_db
def test_it_is_refused_while_a_visit_is_ahead(client, levels) -> None:
    a, _b = two_people()
    paid_order(a.member)  # a confirmed appointment ahead
    client.force_login(a.member.user)
    page = client.get(reverse("privacy:close")).content.decode()
    assert "未完成的预约" in page
    response = _close(client)
    assert response.status_code == 409
    assert "未完成的预约" in response.content.decode()
    assert Member.objects.get(pk=a.member.pk).name == a.name


@pytest.mark.django_db
def test_it_is_refused_while_money_is_in_flight(client, levels) -> None:
    a, _b = two_people()
    appointment = book(a.member, ScheduleFactory(fee=Decimal("50.00")))
    Appointment.objects.filter(pk=appointment.pk).update(status="cancelled")  # order still unpaid
    client.force_login(a.member.user)
    response = _close(client)
    assert response.status_code == 409
    assert "支付或退款正在进行中" in response.content.decode()


@pytest.mark.django_db
def test_erasure_closes_the_login_erases_personal_data_and_keeps_the_money_records(
    client, levels, sms_log
) -> None:
    a, b = two_people()
    member = a.member
    orders = list(Order.objects.filter(member=member).values_list("pk", "amount", "status"))
    points = list(PointsEntry.objects.filter(member=member).values_list("pk", "delta"))
    other = Client()
    other.force_login(member.user)  # a second session of the member
    client.force_login(member.user)

    response = _close(client)
    assert response.status_code == 302 and response["Location"] == reverse("appointments:home")

    member.refresh_from_db()
    assert (
        member.name == f"已注销会员{member.pk}"
        and member.phone == ""
        and member.phone_index is None
    )
    assert (member.national_id, member.birth_date) == ("", None)
    user = member.user
    assert not user.is_active and not user.has_usable_password()
    assert not user.username.startswith("member-")
    # Every session ended: this one logged out, the other deleted from the store.
    assert other.get(reverse("members:profile")).status_code == 302
    assert not any(
        str(s.get_decoded().get("_auth_user_id")) == str(user.pk) for s in Session.objects.all()
    )
    # Patients and messages erased; history rows with personal data gone.
    for patient in Patient.objects.filter(member=member):
        assert (patient.name, patient.id_number, patient.guardian_id_number) == (
            "（已删除）",
            "",
            "",
        )
        assert patient.id_number_index is None and patient.removed_at is not None
    assert not Patient.history.filter(member_id=member.pk).exclude(name="（已删除）").exists()
    assert set(Member.history.filter(id=member.pk).values_list("name", flat=True)) <= {member.name}
    assert set(Message.objects.filter(member=member).values_list("body", flat=True)) == {
        "（已删除）"
    }
    # Money and points kept, on the pseudonymous member; consents kept without the address.
    assert list(Order.objects.filter(member=member).values_list("pk", "amount", "status")) == orders
    assert Refund.objects.filter(order__member=member).exists()
    assert list(PointsEntry.objects.filter(member=member).values_list("pk", "delta")) == points
    assert Consent.objects.filter(user=user, ip__isnull=True).count() == 3
    # Logged; the chain of the operation log still holds.
    row = OperationLog.objects.get(action="privacy.erasure")
    assert row.actor == user and row.target_id == str(member.pk) and a.name not in row.target_label
    assert list(audit.broken_links(OperationLog.objects.order_by("pk").iterator())) == []
    # The other member is untouched.
    assert Member.objects.get(pk=b.member.pk).name == b.name

    # The login is closed; the number is free for its owner to sign up again.
    login = Client().post(reverse("account_login"), {"login": a.phone, "password": PASSWORD})
    assert login.status_code == 200  # the form again: no such account
    again = sign_up(Client(), a.phone, name="陈晓明")
    assert again["Location"] == reverse("account_verify_phone")
    assert "验证码" in sms_log.messages()[-1]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_dump_after_erasure_holds_none_of_the_members_personal_data(client, levels) -> None:
    a, b = two_people()
    client.force_login(a.member.user)
    assert client.post(reverse("privacy:export")).status_code == 200  # logged before erasure
    assert _close(client).status_code == 302

    dump = _dump()
    assert b.name in dump and b.child_name in dump  # the dump is real
    digits = a.phone
    for secret in (
        a.name,
        a.child_name,
        a.baby_name,
        digits,
        digits[3:],  # the number without its prefix: 12345678
        a.national_id,
        a.child_id,
        a.national_id[:14],
        a.child_id[:14],
    ):
        assert secret not in dump, f"{secret} is still in the database"
