"""The sandbox cashier in a real browser on a phone-sized screen."""

from __future__ import annotations

from decimal import Decimal

import pytest

from appointments.choices import Channel
from billing import services
from billing.gateways import sandbox
from billing.models import SandboxTrade
from tests.appointments.factories import ScheduleFactory
from tests.browser.conftest import screenshot
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_payer_confirms_on_the_sandbox_cashier(page, levels) -> None:
    order = services.place_booking(
        member=MemberFactory(level=levels["金卡"]),
        schedule=ScheduleFactory(fee=Decimal("80.00")),
        channel=Channel.WEB,
    ).order

    page.goto(page.base_url + sandbox.checkout_url(order))
    assert page.locator(".amount").inner_text() == "¥72.00"
    screenshot(page, "10-sandbox-cashier")

    page.get_by_role("button", name="确认支付").click()
    page.wait_for_selector(".notice.ok")
    screenshot(page, "11-sandbox-paid")
    assert SandboxTrade.objects.filter(out_trade_no=order.out_trade_no).exists()
