"""Issue 14: the appointments API — book, my appointments, one appointment, pay, cancel with
the refund preview — answering with the booking pages' own rules and refusals, in the
request's language; another member's appointment is a 404."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from urllib.parse import parse_qsl, urlparse
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from appointments.choices import AppointmentStatus
from appointments.models import Schedule
from billing.choices import RefundStatus
from billing.models import Order, Refund
from medbook.models import OutboxTask
from tests.api.helpers import call, error, pair_for
from tests.appointments.factories import ScheduleFactory
from tests.billing.factories import book, expired_order, paid_order
from tests.billing.providers import new_keys, private_pem, public_pem, use_gateway
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db

APPOINTMENT_FIELDS = {
    "id",
    "status",
    "status_label",
    "queue_number",
    "estimated_time",
    "channel",
    "fee",
    "created_at",
    "confirmed_at",
    "cancelled_at",
    "cancel_reason",
    "schedule",
    "patient",
    "order",
    "refunds",
    "can_pay",
}


@pytest.fixture
def diamond(member, levels):
    """Member A at the top level: six upcoming appointments at a time."""
    member.level = levels["钻石"]
    member.save(update_fields=["level"])
    return member


@pytest.fixture
def access(member) -> str:
    return pair_for(member.user).access


@pytest.fixture
def session() -> Schedule:
    return ScheduleFactory(fee=Decimal("60.00"))


def _book(client, token, schedule_id, *, language="en", **more):
    return call(
        client,
        "post",
        "appointments",
        {"schedule": schedule_id, **more},
        token=token,
        language=language,
    )


def test_booking_holds_the_slot_with_an_unpaid_order(client, access, session) -> None:
    response = _book(client, access, session.pk)

    assert response.status_code == 201
    body = response.json()
    assert set(body) == APPOINTMENT_FIELDS
    assert body["status"] == AppointmentStatus.PENDING_PAYMENT
    assert body["channel"] == "api" and body["queue_number"] == 1
    assert body["schedule"]["id"] == session.pk
    assert set(body["schedule"]["doctor"]) == {"id", "name", "title", "title_label"}
    assert body["order"]["amount"] == "60.00" and body["order"]["status"] == "unpaid"
    assert body["can_pay"] is True and body["refunds"] is None
    assert response["Location"] == f"/api/v1/appointments/{body['id']}/"
    assert "no-store" in response["Cache-Control"]


def test_an_insured_booking_shows_the_insurers_split(client, member, access, session) -> None:
    from tests.billing.insurance_fixtures import insure, plan

    plan(ratio="0.70", personal="0.50")
    insure(member)

    body = _book(client, access, session.pk).json()

    order = body["order"]
    assert order["insurance"]["insurer"] == "sandbox"
    parts = (order["insurance"]["fund"], order["insurance"]["personal"])
    assert order["insurance"]["self_pay"] == order["amount"]  # the member pays only their share
    assert sum(map(Decimal, (*parts, order["amount"]))) == Decimal(order["insurance"]["total"])
    listed = call(client, "get", "appointments", token=access).json()["results"][0]
    assert listed["order"]["insurance"] == order["insurance"]
    one = call(client, "get", "appointment", token=access, args=[body["id"]]).json()
    assert one["order"]["insurance"]["reversed_fund"] == "0.00"


def test_a_free_session_is_confirmed_at_once(client, access) -> None:
    body = _book(client, access, ScheduleFactory(fee=0).pk).json()
    assert body["status"] == AppointmentStatus.CONFIRMED
    assert body["order"] is None and body["can_pay"] is False


def test_refusals_are_the_services_codes_in_the_requests_language(client, access, session) -> None:
    assert _book(client, access, session.pk).status_code == 201

    again = _book(client, access, session.pk)
    assert error(again) == (409, "already_booked")
    assert again.json()["error"]["message"] == "You already have an appointment for this session."
    in_chinese = _book(client, access, session.pk, language="zh-hans")
    assert error(in_chinese) == (409, "already_booked")
    assert in_chinese.json()["error"]["message"] == "您已预约了该时段，无需重复预约。"


@pytest.mark.parametrize(
    ("schedule_kwargs", "code"),
    [
        ({"capacity": 1, "booked_by_another": True}, "sold_out"),
        ({"release_at_hours": 5}, "not_yet_open"),
        ({"status": "suspended"}, "suspended"),
    ],
)
def test_a_session_that_cannot_be_booked_is_a_409(client, access, schedule_kwargs, code) -> None:
    kwargs = dict(schedule_kwargs)
    if "release_at_hours" in kwargs:
        kwargs["release_at"] = timezone.now() + dt.timedelta(hours=kwargs.pop("release_at_hours"))
    someone_else = kwargs.pop("booked_by_another", False)
    schedule = ScheduleFactory(**kwargs)
    if someone_else:
        book(MemberFactory(), schedule)
    response = _book(client, access, schedule.pk)
    assert error(response) == (409, code)
    assert Order.objects.count() == (1 if someone_else else 0)


def test_bad_input_is_a_400_and_books_nothing(client, access, session) -> None:
    for body in ({}, {"schedule": "x"}, {"schedule": -1}, {"schedule": 2**40}):
        response = call(client, "post", "appointments", body, token=access)
        assert error(response) == (400, "invalid")
        assert "schedule" in response.json()["error"]["fields"]
    bad_key = call(
        client,
        "post",
        "appointments",
        {"schedule": session.pk},
        token=access,
        headers={"HTTP_IDEMPOTENCY_KEY": "é" * 3},
    )
    assert error(bad_key) == (400, "invalid")
    assert "Idempotency-Key" in bad_key.json()["error"]["fields"]
    assert error(_book(client, access, 999_999)) == (404, "not_found")
    assert not session.appointments.exists()


def test_a_late_booking_needs_the_member_to_accept_it(client, access) -> None:
    soon = timezone.localtime() + dt.timedelta(hours=3)
    schedule = ScheduleFactory(
        date=soon.date(), start_time=soon.time().replace(microsecond=0), end_time=dt.time(23, 59)
    )
    refused = _book(client, access, schedule.pk)
    assert error(refused) == (400, "late_booking_unconfirmed")
    assert _book(client, access, schedule.pk, accept_late=True).status_code == 201


def test_my_appointments_are_paged_filtered_and_my_own(
    client, diamond, other_member, access
) -> None:
    member = diamond
    mine = [book(member, ScheduleFactory(fee=Decimal("10.00"))) for _ in range(2)]
    book(other_member, ScheduleFactory())
    paid = paid_order(member)

    first = call(client, "get", "appointments", token=access, query={"page_size": 2}).json()
    assert [a["id"] for a in first["results"]] == [paid.appointment_id, mine[1].pk]
    rest = client.get(first["next"], HTTP_AUTHORIZATION=f"Bearer {access}").json()
    assert [a["id"] for a in rest["results"]] == [mine[0].pk] and rest["next"] is None

    confirmed = call(client, "get", "appointments", token=access, query={"status": "confirmed"})
    assert [a["id"] for a in confirmed.json()["results"]] == [paid.appointment_id]
    upcoming = call(client, "get", "appointments", token=access, query={"upcoming": "true"})
    assert len(upcoming.json()["results"]) == 3
    past = call(client, "get", "appointments", token=access, query={"upcoming": "false"})
    assert past.json()["results"] == []
    bad = call(client, "get", "appointments", token=access, query={"status": "lost"})
    assert error(bad) == (400, "invalid")


def test_another_members_appointment_is_a_404_everywhere(client, other_member, member) -> None:
    theirs = book(member, ScheduleFactory())
    token = pair_for(other_member.user).access
    for method, name, body in [
        ("get", "appointment", None),
        ("post", "appointment_pay", {"method": "sandbox"}),
        ("get", "appointment_cancel", None),
        ("post", "appointment_cancel", None),
    ]:
        response = call(client, method, name, body, token=token, args=[theirs.pk])
        assert error(response) == (404, "not_found"), name
    theirs.refresh_from_db()
    assert theirs.status == AppointmentStatus.PENDING_PAYMENT


def test_pay_returns_the_sandbox_cashier(client, member, access, session) -> None:
    appointment = book(member, session)
    response = call(
        client,
        "post",
        "appointment_pay",
        {"method": "sandbox"},
        token=access,
        args=[appointment.pk],
    )
    assert response.status_code == 200
    body = response.json()
    assert body["gateway"] == "sandbox" and body["amount"] == "60.00"
    assert body["out_trade_no"] == appointment.order.out_trade_no
    assert body["url"].startswith(f"http://testserver/payments/sandbox/{body['out_trade_no']}/?t=")
    assert body["order_string"] == ""
    cashier = client.get(body["url"])  # the page the app opens
    assert cashier.status_code == 200


def test_pay_refuses_what_cannot_be_paid(client, diamond, access) -> None:
    member = diamond

    def pay(appointment_id, method="sandbox"):
        return call(
            client,
            "post",
            "appointment_pay",
            {"method": method, "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
            token=access,
            args=[appointment_id],
        )

    assert error(pay(paid_order(member).appointment_id)) == (409, "already_paid")
    assert error(pay(expired_order(member).appointment_id)) == (409, "hold_expired")
    free = book(member, ScheduleFactory(fee=0))
    assert error(pay(free.pk)) == (409, "nothing_to_pay")
    unpaid = book(member, ScheduleFactory())
    for method in ("wechat_jsapi", "wechat_app", "wechat_native", "alipay_app"):
        assert error(pay(unpaid.pk, method)) == (409, "gateway_unavailable"), method
    assert error(pay(unpaid.pk, "cash")) == (400, "invalid")
    call(client, "post", "appointment_cancel", token=access, args=[unpaid.pk])
    assert error(pay(unpaid.pk)) == (409, "cancelled")


def test_pay_with_alipay_gives_the_page_url_and_the_app_order_string(
    client, settings, member, access
) -> None:
    keys = new_keys("app", "alipay")
    use_gateway(
        settings,
        "alipay",
        MEDBOOK_ALIPAY_APP_ID="2021000000000001",
        MEDBOOK_ALIPAY_PRIVATE_KEY=private_pem(keys["app"]),
        MEDBOOK_ALIPAY_PUBLIC_KEY=public_pem(keys["alipay"]),
    )
    appointment = book(member, ScheduleFactory(fee=Decimal("80.00")))
    assert appointment.order.gateway == "alipay"

    page = call(
        client,
        "post",
        "appointment_pay",
        {"method": "alipay_page"},
        token=access,
        args=[appointment.pk],
    ).json()
    query = dict(parse_qsl(urlparse(page["url"]).query))
    assert query["method"] == "alipay.trade.page.pay" and query["sign"]
    # Alipay takes no payment after the hold: Beijing time, to the second.
    hold = appointment.order.expires_at.astimezone(ZoneInfo("Asia/Shanghai"))
    deadline = hold.strftime("%Y-%m-%d %H:%M:%S")
    assert json.loads(query["biz_content"])["time_expire"] == deadline
    app = call(
        client,
        "post",
        "appointment_pay",
        {"method": "alipay_app"},
        token=access,
        args=[appointment.pk],
    ).json()
    fields = dict(parse_qsl(app["order_string"]))
    assert fields["method"] == "alipay.trade.app.pay" and fields["sign"]
    assert f'"out_trade_no":"{appointment.order.out_trade_no}"' in fields["biz_content"]
    assert json.loads(fields["biz_content"])["time_expire"] == deadline
    assert app["url"] == ""
    sandbox = call(
        client,
        "post",
        "appointment_pay",
        {"method": "sandbox"},
        token=access,
        args=[appointment.pk],
    )
    assert error(sandbox) == (409, "gateway_unavailable")


def test_cancel_preview_then_cancel_starts_the_refund_through_the_outbox(
    client, member, access
) -> None:
    order = paid_order(member, fee="60.00")

    preview = call(client, "get", "appointment_cancel", token=access, args=[order.appointment_id])
    assert preview.status_code == 200
    body = preview.json()
    assert body["can_cancel"] is True and body["reason_code"] is None
    assert body["paid"] == "60.00" and body["refund"] == "60.00"
    assert body["rule"] == "full_refund" and body["late"] is False
    assert Order.objects.get(pk=order.pk).status == "paid"  # a preview changes nothing

    done = call(client, "post", "appointment_cancel", token=access, args=[order.appointment_id])
    assert done.status_code == 200
    result = done.json()
    assert result["refund"] == "60.00"
    assert result["appointment"]["status"] == AppointmentStatus.CANCELLED
    assert result["appointment"]["refunds"] == {"requested": "60.00", "refunded": "0.00"}
    refund = Refund.objects.get(order=order)
    assert refund.status == RefundStatus.REQUESTED and refund.amount == Decimal("60.00")
    assert OutboxTask.objects.filter(task="billing.tasks.carry_out_refund").exists()

    again = call(client, "post", "appointment_cancel", token=access, args=[order.appointment_id])
    assert error(again) == (409, "not_cancellable")
    after = call(client, "get", "appointment_cancel", token=access, args=[order.appointment_id])
    assert after.json()["can_cancel"] is False and after.json()["rule"] == "not_cancellable"


def test_an_unpaid_cancellation_releases_the_slot_without_a_refund(
    client, member, access, session
) -> None:
    appointment = book(member, session)
    preview = call(client, "get", "appointment_cancel", token=access, args=[appointment.pk])
    assert preview.json()["rule"] == "nothing_paid" and preview.json()["refund"] == "0.00"
    done = call(client, "post", "appointment_cancel", token=access, args=[appointment.pk]).json()
    assert done["refund"] == "0.00" and done["appointment"]["order"]["status"] == "closed"
    session.refresh_from_db()
    assert session.booked == 0


def test_a_late_cancellation_is_refused_for_a_level_without_the_privilege(
    client, member, access
) -> None:
    soon = timezone.localtime() + dt.timedelta(hours=3)
    schedule = ScheduleFactory(
        date=soon.date(), start_time=soon.time().replace(microsecond=0), end_time=dt.time(23, 59)
    )
    appointment = book(member, schedule)
    preview = call(
        client,
        "get",
        "appointment_cancel",
        token=access,
        args=[appointment.pk],
        language="zh-hans",
    ).json()
    assert preview["can_cancel"] is False and preview["reason_code"] == "cancellation_closed"
    assert preview["rule"] == "not_cancellable" and "24" in preview["reason"]
    refused = call(client, "post", "appointment_cancel", token=access, args=[appointment.pk])
    assert error(refused) == (409, "cancellation_closed")


def test_staff_and_anonymous_callers_are_refused(client, front_desk, session) -> None:
    assert error(_book(client, None, session.pk)) == (401, "not_authenticated")
    staff = pair_for(front_desk, second_factor=True).access
    assert error(call(client, "get", "appointments", token=staff)) == (403, "permission_denied")


def test_the_list_reads_a_page_in_a_fixed_number_of_queries(client, diamond, access) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert call(client, "get", "appointments", token=access).status_code == 200
        return len(captured)

    paid_order(diamond)
    one = queries()
    for _ in range(3):
        paid_order(diamond)
    book(diamond, ScheduleFactory())
    assert queries() == one
