"""Issue 19 part 4: medical insurance (医保) settlement. The sandbox insurer's rules (ratio by
level and department, yearly deductible and cap), an insured booking paying only the self-pay
share, a fully covered visit paid at once, and refunds reversing every payer's part alike."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from appointments.choices import AppointmentStatus, Channel
from billing import services
from billing.choices import OrderStatus
from billing.gateways import sandbox
from billing.insurance import ClaimRequest, Split
from billing.insurance.sandbox import SandboxInsurer
from billing.insurance.services import reverse_claim
from billing.models import InsuranceClaim, InsuranceRatio, InsuranceUsage, Order
from medbook import money
from tests.appointments.factories import DepartmentFactory, ScheduleFactory
from tests.billing.factories import run_refunds
from tests.billing.insurance_fixtures import insure, plan

pytestmark = [pytest.mark.django_db]

D = Decimal


def _claim(patient_id: int, amount: str, *, when=None, level_id=None, department_id=1):
    return ClaimRequest(
        out_trade_no="MB1",
        patient_id=patient_id,
        insurance_type="employee",
        card_number="BJ0000000001",
        region="北京市",
        amount=D(amount),
        level_id=level_id,
        department_id=department_id,
        when=when or timezone.now(),
    )


def _parts(split: Split) -> tuple[str, str, str]:
    return (str(split.fund), str(split.personal), str(split.self_pay))


def test_it_applies_the_deductible_then_the_ratio_then_the_cap_over_a_year(member) -> None:
    plan(ratio="0.70", deductible="100.00", cap="200.00", personal="0.50")
    patient = insure(member)
    insurer = SandboxInsurer()
    when = timezone.now()

    visits = [
        insurer.settle(claim=_claim(patient.pk, a, when=when)) for a in ("50", "100", "300", "100")
    ]

    assert [_parts(v.split) for v in visits] == [
        ("0.00", "25.00", "25.00"),  # all under the deductible
        ("35.00", "32.50", "32.50"),  # 50 of the deductible left: 70% of the other 50
        ("165.00", "67.50", "67.50"),  # 70% of 300 is 210, the cap leaves 165
        ("0.00", "50.00", "50.00"),  # the cap is reached
    ]
    usage = InsuranceUsage.objects.get(patient=patient)
    assert (usage.deductible_used, usage.fund_used) == (D("100.00"), D("200.00"))


def test_a_new_year_starts_with_the_deductible_and_cap_fresh(member) -> None:
    plan(ratio="0.50", deductible="20.00", cap="30.00", personal="0.00")
    patient = insure(member)
    insurer = SandboxInsurer()
    this_year = timezone.now()
    insurer.settle(claim=_claim(patient.pk, "200", when=this_year))

    next_year = this_year + dt.timedelta(days=366)
    split = insurer.settle(claim=_claim(patient.pk, "100", when=next_year)).split

    assert _parts(split) == ("30.00", "0.00", "70.00")  # 50% of 80, capped at 30 again


def test_the_most_specific_ratio_wins(member, levels) -> None:
    rules = plan(ratio="0.50", personal="0.00")
    surgery, eyes = DepartmentFactory(), DepartmentFactory()
    InsuranceRatio.objects.create(plan=rules, department=surgery, ratio=D("0.80"))
    InsuranceRatio.objects.create(plan=rules, level=levels["金卡"], ratio=D("0.60"))
    InsuranceRatio.objects.create(
        plan=rules, level=levels["金卡"], department=surgery, ratio=D("0.90")
    )
    patient = insure(member)
    quote = SandboxInsurer().quote

    def fund(level, department) -> str:
        claim = _claim(patient.pk, "100", level_id=level.pk, department_id=department.pk)
        return str(quote(claim=claim).fund)

    assert fund(levels["金卡"], surgery) == "90.00"
    assert fund(levels["普通"], surgery) == "80.00"
    assert fund(levels["金卡"], eyes) == "60.00"
    assert fund(levels["普通"], eyes) == "50.00"


def test_the_ratio_rounds_the_fund_down_to_the_cent(member) -> None:
    plan(ratio="0.33", personal="0.50")
    patient = insure(member)
    split = SandboxInsurer().quote(claim=_claim(patient.pk, "33.33"))
    assert _parts(split) == ("10.99", "11.17", "11.17")  # 10.9989 down; the rest halved down
    assert split.total == D("33.33")


def _book(member, fee: str = "100.00", now=None):
    schedule = ScheduleFactory(fee=D(fee))
    return services.place_booking(member=member, schedule=schedule, channel=Channel.WEB, now=now)


def _pay(order: Order) -> None:
    trade = sandbox.pay(order=order)
    services.confirm_payment(
        out_trade_no=order.out_trade_no, gateway_trade_no=trade.trade_no, amount=order.amount
    )
    order.refresh_from_db()


def test_an_insured_member_pays_only_the_self_pay_share(member) -> None:
    plan(ratio="0.70", personal="0.50")
    insure(member)

    order = _book(member).order

    claim = InsuranceClaim.objects.get(order=order)
    assert (claim.total, claim.fund, claim.personal, claim.self_pay) == (
        D("100.00"),
        D("70.00"),
        D("15.00"),
        D("15.00"),
    )
    assert claim.reference.startswith("SBX")
    assert order.amount == D("15.00")  # what goes through the gateway
    _pay(order)
    assert order.status == OrderStatus.PAID
    assert order.appointment.status == AppointmentStatus.CONFIRMED


def test_an_uninsured_patient_pays_in_full(member) -> None:
    plan()
    order = _book(member).order
    assert order.amount == D("100.00")
    assert not InsuranceClaim.objects.filter(order=order).exists()


def test_a_visit_the_insurer_covers_in_full_is_paid_at_once(member) -> None:
    plan(ratio="1.00")
    insure(member)

    appointment = _book(member)

    order = Order.objects.get(pk=appointment.order.pk)
    assert order.amount == D("0.00")
    assert order.status == OrderStatus.PAID
    assert order.gateway_trade_no.startswith("INSSBX")
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CONFIRMED


def test_a_hold_that_runs_out_gives_the_insurer_its_parts_back(member) -> None:
    plan(ratio="0.70", deductible="10.00", personal="0.50")
    patient = insure(member)
    order = _book(member, now=timezone.now() - dt.timedelta(minutes=30)).order

    services.expire_unpaid_orders()

    claim = InsuranceClaim.objects.get(order=order)
    assert (claim.reversed_fund, claim.reversed_personal) == (claim.fund, claim.personal)
    usage = InsuranceUsage.objects.get(patient=patient)
    assert (usage.fund_used, usage.deductible_used) == (D("0.00"), D("0.00"))


def test_cancelling_a_paid_insured_visit_reverses_every_part(member) -> None:
    plan(ratio="0.70", personal="0.50")
    patient = insure(member)
    appointment = _book(member)
    _pay(appointment.order)

    cancelled = services.cancel_booking(appointment=appointment, by=member.user, reason="有事")
    run_refunds()

    assert cancelled.refund_requested == D("15.00")  # only the member's own part, to them
    order = Order.objects.get(pk=appointment.order.pk)
    assert (order.status, order.refunded_amount) == (OrderStatus.REFUNDED, D("15.00"))
    claim = InsuranceClaim.objects.get(order=order)
    assert (claim.reversed_fund, claim.reversed_personal, claim.reversed_self_pay) == (
        D("70.00"),
        D("15.00"),
        D("15.00"),
    )
    assert InsuranceUsage.objects.get(patient=patient).fund_used == D("0.00")


def test_a_partial_reversal_keeps_the_proportions_and_the_rest_adds_up(member) -> None:
    plan(ratio="0.70", deductible="10.00", personal="0.50")
    patient = insure(member)
    order = _book(member, fee="33.33").order
    claim = InsuranceClaim.objects.get(order=order)
    assert _parts(Split(claim.fund, claim.personal, claim.self_pay)) == ("16.33", "8.50", "8.50")

    first = reverse_claim(order=order, amount=D("10.00"), now=timezone.now())
    rest = reverse_claim(order=order, amount=D("999.00"), now=timezone.now())

    assert _parts(first) == ("4.90", "2.55", "2.55")
    assert first.total + rest.total == D("33.33")
    assert _parts(rest) == ("11.43", "5.95", "5.95")
    usage = InsuranceUsage.objects.get(patient=patient)
    assert (usage.fund_used, usage.deductible_used) == (D("0.00"), D("0.00"))


def test_the_split_is_shown_in_words_on_the_cashier_and_the_appointment(client, member) -> None:
    plan(ratio="0.70", personal="0.50")
    insure(member)
    appointment = _book(member)
    client.force_login(member.user)
    sentence = "医保统筹支付 ¥70.00，个人账户 ¥15.00，您需支付 ¥15.00。"

    cashier = client.get(sandbox.checkout_url(appointment.order))
    detail = client.get(f"/appointments/{appointment.pk}/", follow=True)

    assert sentence in cashier.content.decode()
    page = detail.content.decode()
    assert sentence in page
    # The summary names the member's share as such, not as a member discount.
    assert "医保结算后您需支付</dt><dd>¥15.00" in page
    assert "会员优惠后" not in page


cents = st.integers(min_value=0, max_value=10_000_00).map(money.from_cents)


@settings(max_examples=300, deadline=None)
@given(parts=st.tuples(cents, cents, cents), fractions=st.lists(st.floats(0, 1), max_size=6))
def test_reversals_in_proportion_add_up_and_never_exceed_a_part(parts, fractions) -> None:
    whole = Split(*parts)
    left = whole
    given_back = Split(money.ZERO, money.ZERO, money.ZERO)
    for fraction in [*fractions, 1.0]:
        amount = (left.total * Decimal(str(fraction))).quantize(money.CENT, rounding="ROUND_DOWN")
        share = left.share(amount)
        assert share.total == amount
        assert all(0 <= s <= r for s, r in zip(share.parts, left.parts, strict=True))
        left = left - share
        given_back = Split(*(a + b for a, b in zip(given_back.parts, share.parts, strict=True)))
    assert given_back == whole  # everything back at the end, each part exactly


@settings(max_examples=300, deadline=None)
@given(
    parts=st.lists(cents, min_size=1, max_size=5),
    permille=st.integers(min_value=0, max_value=1000),
)
def test_proportional_parts_add_up_exactly(parts, permille) -> None:
    total = sum(parts, money.ZERO)
    amount = money.from_cents(money.to_cents(total) * permille // 1000)
    shares = money.proportional_parts(parts=tuple(parts), amount=amount)
    assert sum(shares, money.ZERO) == amount
    assert all(0 <= s <= p for s, p in zip(shares, parts, strict=True))


def test_a_visit_paid_by_the_insurer_is_no_mismatch_in_the_gateways_settlement(member) -> None:
    from billing.gateways import get_gateway
    from billing.settlement import settle_day

    plan(ratio="1.00")
    insure(member)
    _book(member)

    settled = settle_day(day=timezone.localdate(), gateway=get_gateway("sandbox"))

    assert (settled.payments_count, settled.mismatch_count) == (0, 0)


def test_the_daily_settlement_shows_the_split_per_insurer(member, other_member) -> None:
    from billing.models import InsuranceSettlement
    from billing.settlement import settle_all

    plan(ratio="0.70", personal="0.50")
    insure(member)
    insure(other_member)
    kept = _book(member)
    cancelled = _book(other_member)
    _pay(kept.order)
    _pay(cancelled.order)
    services.cancel_booking(appointment=cancelled, by=other_member.user, reason="有事")
    _book(member, fee="50.00")  # insured too, not paid yet: settled all the same

    settle_all(day=timezone.localdate())

    row = InsuranceSettlement.objects.get(day=timezone.localdate(), insurer="sandbox")
    assert (row.claims_count, row.total, row.fund, row.personal, row.self_pay) == (
        3,
        D("250.00"),
        D("175.00"),
        D("37.50"),
        D("37.50"),
    )
    assert (row.reversed_fund, row.reversed_personal) == (D("70.00"), D("15.00"))
    assert row.insurer_owes == D("127.50")


def test_an_insured_visit_is_not_moved(member) -> None:
    from billing.insurance.base import InsuredVisitNotMovable

    plan()
    insure(member)
    appointment = _book(member)
    _pay(appointment.order)
    other = ScheduleFactory(
        fee=D("100.00"),
        doctor=appointment.schedule.doctor,
        date=appointment.schedule.date + dt.timedelta(days=1),
    )

    with pytest.raises(InsuredVisitNotMovable):
        services.reschedule_booking(appointment=appointment, schedule=other, by=member.user)

    appointment.refresh_from_db()
    assert appointment.schedule_id != other.pk


def test_an_insured_visits_pages_say_it_is_not_moved_before_the_member_tries(
    client, member
) -> None:
    plan()
    insure(member)
    appointment = _book(member)
    _pay(appointment.order)
    ScheduleFactory(
        fee=D("100.00"),
        doctor=appointment.schedule.doctor,
        date=appointment.schedule.date + dt.timedelta(days=1),
    )
    client.force_login(member.user)

    detail = client.get(reverse("billing:appointment_detail", args=[appointment.pk]))
    move = reverse("billing:appointment_reschedule", args=[appointment.pk])
    assert move not in detail.content.decode()  # no 改约 button
    page = client.get(move).content.decode()
    assert "已用医保结算的就诊不能改约" in page
    assert 'name="schedule"' not in page  # no session offered to pick


def test_the_revenue_rollup_counts_the_insurers_parts_as_no_discount(member) -> None:
    from reports import services as report_services
    from reports.models import DailyRevenueStat

    plan(ratio="0.70", personal="0.50")
    insure(member)
    _pay(_book(member).order)
    today = timezone.localdate()

    report_services.rebuild_rollups(start=today, end=today)

    stat = DailyRevenueStat.objects.get(date=today)
    assert (stat.paid, stat.discount) == (D("15.00"), D("0.00"))  # the level's factor is 1


def test_the_booking_page_shows_the_expected_split(client, member) -> None:
    plan(ratio="0.70", personal="0.50")
    insure(member)
    schedule = ScheduleFactory(fee=D("100.00"))
    client.force_login(member.user)

    html = client.get(f"/book/{schedule.pk}/").content.decode()

    assert "医保统筹支付 ¥70.00，个人账户 ¥15.00，您需支付 ¥15.00。" in html


def test_admin_shows_the_plans_cards_and_settlements_with_the_number_masked(client, member) -> None:
    from tests.conftest import enable_totp
    from tests.members.factories import UserFactory

    plan()
    insure(member, number="BJ1234567890")
    _book(member)
    superuser = UserFactory(username="insurance-admin", is_staff=True, is_superuser=True)
    enable_totp(superuser)
    client.force_login(superuser)

    for page in (
        "/admin/billing/insuranceplan/",
        "/admin/billing/insuranceclaim/",
        "/admin/billing/insurancesettlement/",
        "/admin/billing/insuranceusage/",
        "/admin/members/insurancecard/",
    ):
        response = client.get(page)
        assert response.status_code == 200, page
        assert "BJ1234567890" not in response.content.decode()
    assert "BJ******7890" in client.get("/admin/members/insurancecard/").content.decode()


def test_cancelling_a_visit_the_insurer_paid_in_full_gives_the_insurer_everything_back(
    member,
) -> None:
    plan(ratio="1.00")
    patient = insure(member)
    appointment = _book(member)

    cancelled = services.cancel_booking(appointment=appointment, by=member.user, reason="有事")
    run_refunds()

    assert cancelled.refund_requested == D("0.00")  # nothing of the member's to send back
    claim = InsuranceClaim.objects.get(order=appointment.order)
    assert (claim.reversed_fund, claim.reversed_personal) == (claim.fund, claim.personal)
    assert InsuranceUsage.objects.get(patient=patient).fund_used == D("0.00")
    order = Order.objects.get(pk=appointment.order.pk)
    assert order.status == OrderStatus.REFUNDED  # not "paid": its whole charge went back
