"""An insurance claim's parts add up to its charge on either database: SQLite keeps decimals as
floating point, where 0.10 + 0.20 is not 0.30 (the soak test's booking of an insured member
was a 500 on the embedded database)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.db import IntegrityError, transaction

from appointments.choices import Channel
from billing import services
from billing.models import InsuranceClaim
from tests.appointments.factories import ScheduleFactory
from tests.billing.insurance_fixtures import insure, plan

pytestmark = [pytest.mark.django_db, pytest.mark.core]


@pytest.fixture
def claim(member) -> InsuranceClaim:
    plan(ratio="0.70", personal="0.50")
    insure(member)
    schedule = ScheduleFactory(fee=D("50.00"))
    order = services.place_booking(member=member, schedule=schedule, channel=Channel.WEB).order
    return InsuranceClaim.objects.get(order=order)


def _set(claim: InsuranceClaim, total: str, fund: str, personal: str, self_pay: str) -> None:
    with transaction.atomic():
        InsuranceClaim.objects.filter(pk=claim.pk).update(
            total=D(total), fund=D(fund), personal=D(personal), self_pay=D(self_pay)
        )


def test_parts_that_add_up_in_decimals_are_accepted(claim) -> None:
    _set(claim, "0.30", "0.10", "0.20", "0.00")
    _set(claim, "47.50", "33.25", "7.12", "7.13")
    claim.refresh_from_db()
    assert claim.fund + claim.personal + claim.self_pay == claim.total == D("47.50")


def test_parts_a_cent_off_are_refused(claim) -> None:
    with pytest.raises(IntegrityError):
        _set(claim, "0.30", "0.10", "0.20", "0.01")
