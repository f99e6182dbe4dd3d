"""In-app messages for level-ups, and staff points adjustments with a reason."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from medbook.errors import Forbidden, Invalid
from members import services
from members.models import Message, MessageKind, PointsEntry, PointsReason
from tests.members.factories import UserFactory

pytestmark = [pytest.mark.core, pytest.mark.django_db]


@pytest.fixture
def clerk():
    user = UserFactory(is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="adjust_points"))
    return user


def test_a_level_up_sends_a_message_linked_to_its_ledger_entry(member, levels) -> None:
    entry = services.add_points(member=member, delta=500, reason=PointsReason.VISIT)

    message = Message.objects.get(member=member)
    assert message.kind == MessageKind.LEVEL_UP
    assert "银卡会员" in message.title
    assert message.reference == f"points:{entry.pk}"
    assert message.read_at is None


def test_points_below_the_next_threshold_send_no_message(member) -> None:
    services.add_points(member=member, delta=499, reason=PointsReason.VISIT)

    assert not Message.objects.exists()


def test_staff_adjust_points_with_a_reason_and_the_member_is_told(member, clerk) -> None:
    entry = services.adjust_points(member=member, delta=30, note="投诉处理补偿", by=clerk)

    assert (entry.reason, entry.note, entry.created_by) == (
        PointsReason.ADJUSTMENT,
        "投诉处理补偿",
        clerk,
    )
    message = Message.objects.get(member=member, kind=MessageKind.POINTS)
    assert "+30" in message.title
    assert "投诉处理补偿" in message.body


def test_an_adjustment_needs_a_reason(member, clerk) -> None:
    with pytest.raises(Invalid) as refused:
        services.adjust_points(member=member, delta=30, note="  ", by=clerk)
    assert refused.value.field == "note"
    assert not PointsEntry.objects.exists()


def test_an_adjustment_needs_the_permission(member) -> None:
    with pytest.raises(Forbidden):
        services.adjust_points(member=member, delta=30, note="想加点分", by=UserFactory())
    assert not PointsEntry.objects.exists()
