"""The points ledger: balance equals the ledger, levels rise, the ledger is append-only."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, transaction

from members import selectors, services
from members.exceptions import PointsRefused
from members.models import Member, PointsEntry, PointsReason

pytestmark = pytest.mark.django_db


@pytest.mark.core
def test_points_move_the_balance_with_a_ledger_entry(member) -> None:
    services.add_points(
        member=member, delta=120, reason=PointsReason.VISIT, reference="appointment:1"
    )
    entry = services.add_points(member=member, delta=-20, reason=PointsReason.REDEMPTION)

    member.refresh_from_db()
    assert member.points_balance == 100
    assert entry.balance_after == 100
    assert not selectors.members_with_ledger_drift().exists()


@pytest.mark.core
def test_the_level_rises_when_the_threshold_is_reached(member, levels) -> None:
    services.add_points(member=member, delta=499, reason=PointsReason.VISIT)
    member.refresh_from_db()
    assert member.level == levels["普通"]

    services.add_points(member=member, delta=1, reason=PointsReason.VISIT)
    member.refresh_from_db()
    assert member.level == levels["银卡"]


@pytest.mark.core
def test_points_never_go_below_zero(member) -> None:
    services.add_points(member=member, delta=10, reason=PointsReason.VISIT)

    with pytest.raises(PointsRefused, match="只有 10 积分"):
        services.add_points(member=member, delta=-11, reason=PointsReason.REDEMPTION)
    assert PointsEntry.objects.count() == 1


@pytest.mark.core
def test_drift_between_balance_and_ledger_is_reported(member, other_member) -> None:
    services.add_points(member=member, delta=10, reason=PointsReason.VISIT)
    Member.objects.filter(pk=member.pk).update(points_balance=11)

    assert list(selectors.members_with_ledger_drift()) == [member]


@pytest.mark.postgres
def test_the_database_refuses_to_change_or_delete_ledger_rows(member) -> None:
    entry = services.add_points(member=member, delta=10, reason=PointsReason.VISIT)

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        PointsEntry.objects.filter(pk=entry.pk).update(delta=1000)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        PointsEntry.objects.filter(pk=entry.pk).delete()
    assert PointsEntry.objects.get(pk=entry.pk).delta == 10
