"""Issue 19 part 4: the provincial 医保 mobile-payment protocol behind the insurer interface,
against a local stand-in: requests signed (app id + secret, timestamp, nonce), answers whose
signature does not check out not believed, timeouts and refusals a clear refusal with nothing
booked, reversals carried out after commit by the job."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from appointments.choices import Channel
from appointments.models import Appointment
from billing import services
from billing.insurance import ClaimRequest, InsuranceRefused, InsuranceUnavailable, get_insurer
from billing.insurance.provincial import envelope, opened, signature
from billing.insurance.services import REVERSE_TASK, carry_out_reversal
from billing.models import InsuranceClaim, Order
from medbook.models import OutboxTask
from members.patients import self_patient
from tests.appointments.factories import ScheduleFactory
from tests.billing.factories import run_refunds
from tests.billing.insurance_fixtures import insure
from tests.billing.provincial_standin import APP_ID, SECRET

pytestmark = [pytest.mark.django_db]

D = Decimal


def _claim(amount: str = "100.00") -> ClaimRequest:
    return ClaimRequest(
        out_trade_no="MB20260101000000123",
        patient_id=1,
        insurance_type="employee",
        card_number="GD0000000001",
        region="广州市",
        amount=D(amount),
        level_id=None,
        department_id=1,
        when=timezone.now(),
    )


def test_a_signed_message_opens_and_a_changed_one_does_not() -> None:
    message = envelope({"fundPay": "1.00"}, app_id=APP_ID, secret=SECRET)
    assert opened(message, app_id=APP_ID, secret=SECRET) == {"fundPay": "1.00"}
    with pytest.raises(ValueError, match="bad signature"):
        opened({**message, "bizContent": '{"fundPay":"99.00"}'}, app_id=APP_ID, secret=SECRET)
    with pytest.raises(ValueError, match="bad signature"):
        opened(message, app_id=APP_ID, secret="another secret")
    stale = {**message, "timestamp": str(int(message["timestamp"]) - 10 * 60 * 1000)}
    stale["sign"] = signature(stale, secret=SECRET, kind=stale["signType"])
    with pytest.raises(ValueError, match="stale"):
        opened(stale, app_id=APP_ID, secret=SECRET)


def test_it_settles_through_the_standin(provincial) -> None:
    settled = get_insurer("provincial").settle(claim=_claim("33.33"))

    assert (settled.split.fund, settled.split.personal, settled.split.self_pay) == (
        D("19.99"),
        D("6.67"),
        D("6.67"),
    )
    assert settled.reference == "SETL00000001"
    api, biz = provincial.calls[-1]
    assert (api, biz["medfeeSumamt"], biz["psnNo"]) == (
        "settlement/settle",
        "33.33",
        "GD0000000001",
    )


def test_an_answer_with_a_bad_signature_is_not_believed(provincial) -> None:
    provincial.sign_with = "not the province's secret"
    with pytest.raises(InsuranceUnavailable):
        get_insurer("provincial").quote(claim=_claim())


def test_a_request_with_a_bad_signature_is_refused_by_the_insurer(provincial, settings) -> None:
    settings.MEDBOOK_INSURANCE_PROVINCIAL_SECRET = "a wrong secret"
    with pytest.raises((InsuranceRefused, InsuranceUnavailable)):
        get_insurer("provincial").quote(claim=_claim())
    assert provincial.calls == []  # the stand-in never took it for a real request


def test_a_slow_insurer_is_unavailable(provincial) -> None:
    provincial.delay = 1.5
    with pytest.raises(InsuranceUnavailable):
        get_insurer("provincial").quote(claim=_claim())


def _insure_provincial(member):
    patient = insure(member)
    card = patient.insurance_card
    card.insurer = "provincial"
    card.save(update_fields=["insurer"])
    return patient


def _book(member, fee: str = "100.00"):
    schedule = ScheduleFactory(fee=D(fee))
    return services.place_booking(member=member, schedule=schedule, channel=Channel.WEB)


def test_an_insured_booking_pays_only_the_self_pay_share_the_province_settled(
    provincial, member
) -> None:
    _insure_provincial(member)

    order = _book(member).order

    claim = InsuranceClaim.objects.get(order=order)
    assert (claim.fund, claim.personal, claim.self_pay) == (D("60.00"), D("20.00"), D("20.00"))
    assert claim.reference == "SETL00000001" and claim.insurer == "provincial"
    assert order.amount == D("20.00")
    assert provincial.calls[-1][1]["outTradeNo"] == order.out_trade_no


@pytest.mark.parametrize("trouble", ["slow", "refused"])
def test_trouble_with_the_insurer_books_nothing_and_says_so(provincial, member, trouble) -> None:
    _insure_provincial(member)
    if trouble == "slow":
        provincial.delay = 1.5
    else:
        provincial.refuse_code = "2001"

    with pytest.raises((InsuranceUnavailable, InsuranceRefused)) as refused:
        _book(member)

    assert "nothing was booked" in str(refused.value.message) or "未预约" in str(
        refused.value.message
    )
    assert not Appointment.objects.exists() and not Order.objects.exists()


def test_a_booking_that_fails_gives_the_settlement_back(provincial, member) -> None:
    _insure_provincial(member)
    full = ScheduleFactory(fee=D("100.00"), capacity=1)
    services.place_booking(member=member, schedule=full, channel=Channel.WEB)

    with pytest.raises(Exception):  # noqa: B017 (the booking core's refusal)
        services.place_booking(
            member=member, schedule=full, channel=Channel.WEB, patient=self_patient(member=member)
        )

    assert len(provincial.settlements) == 2
    assert len(provincial.reversed) == 1  # the second settlement, given back


def test_cancelling_reverses_the_provinces_parts_after_commit(provincial, member) -> None:
    _insure_provincial(member)
    appointment = _book(member)
    order = appointment.order
    from billing.gateways import sandbox

    trade = sandbox.pay(order=order)
    services.confirm_payment(
        out_trade_no=order.out_trade_no, gateway_trade_no=trade.trade_no, amount=order.amount
    )

    services.cancel_booking(appointment=appointment, by=member.user, reason="有事")
    run_refunds()

    assert provincial.reversed == {}  # not inside the transaction
    job = OutboxTask.objects.get(task=REVERSE_TASK)
    claim_id, fund, personal, reverse_no = job.args
    carry_out_reversal(claim_id=claim_id, fund=fund, personal=personal, reverse_no=reverse_no)
    carry_out_reversal(claim_id=claim_id, fund=fund, personal=personal, reverse_no=reverse_no)
    assert list(provincial.reversed.values()) == [
        {"setlId": "SETL00000001", "reverseNo": reverse_no, "fundPay": "60.00", "acctPay": "20.00"}
    ]
    assert Order.objects.get(pk=order.pk).refunded_amount == D("20.00")
