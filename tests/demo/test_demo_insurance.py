"""Issue 19 part 4 in the demo: the sandbox insurer's plans are loaded, 13800000000's family
and some other holders carry an insurance card, and an insured patient booking pays only the
self-pay share."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from appointments.choices import Channel
from billing import services
from billing.models import InsuranceClaim, InsurancePlan
from members.models import InsuranceCard, Member, Relation
from tests.appointments.factories import ScheduleFactory
from tests.demo.seeding import seeded_for_group

pytestmark = [pytest.mark.django_db]


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker) -> Iterator[None]:
    with seeded_for_group(django_db_blocker, members=40, appointments=200):
        yield


def test_the_first_demo_member_and_family_are_insured(seeded) -> None:
    first = Member.objects.get(user__username__endswith="0000000")
    cards = InsuranceCard.objects.filter(patient__member=first)
    assert cards.filter(patient__relation=Relation.SELF, insurance_type="employee").exists()
    assert cards.count() == first.patients.count()
    assert InsuranceCard.objects.exclude(patient__member=first).exists()
    assert InsurancePlan.objects.filter(active=True).count() == 2


def test_an_insured_demo_member_pays_only_the_self_pay_share(seeded) -> None:
    first = Member.objects.select_related("level").get(user__username__endswith="0000000")
    holder = first.patients.get(relation=Relation.SELF)
    first.level.max_active_appointments = 99  # whatever the seed booked for them already
    first.level.save(update_fields=["max_active_appointments"])

    appointment = services.place_booking(
        member=first,
        schedule=ScheduleFactory(fee=Decimal("100.00")),
        channel=Channel.WEB,
        patient=holder,
    )

    claim = InsuranceClaim.objects.get(order=appointment.order)
    assert claim.fund > 0 and claim.self_pay < claim.total
    assert appointment.order.amount == claim.self_pay
