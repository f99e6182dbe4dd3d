"""Issue 19 part 4 under concurrency on PostgreSQL: two visits of one patient settled at once
never pass the insurer's yearly cap together."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db.models import Sum

from appointments.choices import Channel
from billing import services
from billing.models import InsuranceClaim, InsuranceUsage
from members.models import Member
from tests.appointments.factories import ScheduleFactory
from tests.appointments.test_concurrency import run_in_threads
from tests.billing.insurance_fixtures import insure, plan

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_visits_racing_the_annual_cap_never_exceed_it(levels) -> None:
    plan(ratio="1.00", cap="100.00", personal="0.00")
    from tests.members.factories import MemberFactory

    member = MemberFactory(level=levels["钻石"])  # room for several active bookings
    patient = insure(member)
    schedules = [ScheduleFactory(fee=Decimal("100.00")) for _ in range(4)]  # 80.00 each

    def book(schedule_id: int):
        def job():
            return services.place_booking(
                member=Member.objects.get(pk=member.pk),
                schedule=ScheduleFactory._meta.model.objects.get(pk=schedule_id),
                channel=Channel.WEB,
            )

        return job

    results = run_in_threads([book(s.pk) for s in schedules])

    assert not [r for r in results if isinstance(r, Exception)], results
    claims = InsuranceClaim.objects.filter(patient=patient)
    assert claims.count() == 4
    fund = claims.aggregate(total=Sum("fund"))["total"]
    assert fund == Decimal("100.00")  # 80 + 20 + 0 + 0, in whatever order
    assert InsuranceUsage.objects.get(patient=patient).fund_used == fund
    assert all(c.fund + c.personal + c.self_pay == c.total for c in claims)
