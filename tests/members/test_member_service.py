"""Staff member service: level changes, lifting bans, unmasking — each with a reason, logged."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from medbook.errors import Forbidden, Invalid
from medbook.models import OperationLog
from medbook.roles import CLINIC_ADMIN, FRONT_DESK
from members import services
from members.models import Message
from tests.members.factories import staff

pytestmark = [pytest.mark.core, pytest.mark.django_db]


def test_an_admin_changes_a_level_with_a_reason(member, levels) -> None:
    admin = staff(CLINIC_ADMIN, "a1")
    with pytest.raises(Invalid):
        services.change_level(member=member, level=levels["金卡"], by=admin, reason=" ")
    services.change_level(member=member, level=levels["金卡"], by=admin, reason="老客户回馈")
    member.refresh_from_db()
    assert member.level == levels["金卡"]
    log = OperationLog.objects.get(action="member.change_level")
    assert (log.actor, log.reason, log.detail["to"]) == (admin, "老客户回馈", "金卡会员")
    assert Message.objects.filter(member=member, kind="level_up").exists()


def test_front_desk_cannot_change_levels(member, levels) -> None:
    with pytest.raises(Forbidden):
        services.change_level(
            member=member, level=levels["金卡"], by=staff(FRONT_DESK, "d1"), reason="x"
        )


def test_lifting_a_ban_lets_the_member_book_and_is_logged(member) -> None:
    member.banned_until = timezone.now() + dt.timedelta(days=20)
    member.save()
    services.lift_ban(member=member, by=staff(FRONT_DESK, "d2"), reason="因病住院，已核实")
    member.refresh_from_db()
    assert member.banned_until is None and member.no_show_ban_lifted_at is not None
    assert OperationLog.objects.filter(action="member.lift_ban").count() == 1


def test_unmasking_needs_the_permission_and_every_look_is_logged(member) -> None:
    desk = staff(FRONT_DESK, "d3")
    with pytest.raises(Forbidden):
        services.unmask_personal_data(member=member, by=desk, reason="核对身份")
    admin = staff(CLINIC_ADMIN, "a2")
    data = services.unmask_personal_data(member=member, by=admin, reason="核对身份")
    assert data["phone"] == member.phone
    outcomes = list(
        OperationLog.objects.filter(action="member.unmask")
        .order_by("pk")
        .values_list("outcome", "actor__username")
    )
    assert outcomes == [("denied", "d3"), ("success", "a2")]
    assert member.phone not in str(list(OperationLog.objects.values()))


def test_a_points_adjustment_is_logged(member) -> None:
    desk = staff(FRONT_DESK, "d4")
    services.adjust_points(member=member, delta=50, note="活动补发", by=desk)
    log = OperationLog.objects.get(action="member.adjust_points")
    assert log.detail == {"delta": 50, "balance": 50}
