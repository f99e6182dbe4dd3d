"""现场挂号 of the person at the desk: found by number or registered on the spot, in one
transaction with the booking."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from appointments import exceptions as booking_errors
from billing import services
from medbook.errors import Invalid
from members.models import Member
from tests.appointments.factories import ScheduleFactory
from tests.members.factories import MemberFactory

pytestmark = [pytest.mark.core, pytest.mark.django_db]


def today_session(**kwargs):
    return ScheduleFactory(fee=0, release_at=timezone.now() + dt.timedelta(days=1), **kwargs)


def test_a_known_number_books_that_member(levels, front_desk) -> None:
    member = MemberFactory(phone="+8613911112222")
    booked = services.register_walk_in_patient(
        phone="139 1111 2222", name="", schedule=today_session(), by=front_desk
    )
    assert booked.member == member and booked.channel == "walk_in"
    assert Member.objects.count() == 1


def test_a_new_number_registers_the_patient_with_the_name_given(levels, front_desk) -> None:
    booked = services.register_walk_in_patient(
        phone="13911113333", name="刘芳", schedule=today_session(), by=front_desk
    )
    assert booked.member.name == "刘芳" and booked.member.phone == "+8613911113333"


def test_a_new_number_without_a_name_is_refused_on_the_name_field(levels, front_desk) -> None:
    with pytest.raises(Invalid) as refused:
        services.register_walk_in_patient(
            phone="13911114444", name="  ", schedule=today_session(), by=front_desk
        )
    assert refused.value.field == "name"
    assert not Member.objects.exists()


def test_a_refused_booking_registers_nobody(levels, front_desk) -> None:
    full = today_session(capacity=1)
    services.register_walk_in_patient(
        phone="13911115555", name="张伟", schedule=full, by=front_desk
    )
    with pytest.raises(booking_errors.SoldOut):
        services.register_walk_in_patient(
            phone="13911116666", name="王静", schedule=full, by=front_desk
        )
    assert list(Member.objects.values_list("name", flat=True)) == ["张伟"]
