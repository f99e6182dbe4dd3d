"""No constraint's name reaches a user: every constraint has a message for people."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation

from appointments.choices import DoctorTitle
from appointments.models import Schedule, TitleFee
from medbook.constraints import MESSAGES, message_for
from tests.appointments.factories import ScheduleFactory

OURS = ("medbook", "members", "appointments", "billing", "reports", "privacy", "triage")


def _constraint_names() -> set[str]:
    return {
        constraint.name
        for model in apps.get_models()
        if model._meta.app_label in OURS
        for constraint in model._meta.constraints
    }


def test_every_constraint_has_a_message_and_every_message_a_constraint() -> None:
    names = _constraint_names()
    assert sorted(names - set(MESSAGES)) == []
    assert sorted(set(MESSAGES) - names) == []


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_violated_check_says_what_is_wrong_not_its_name(language) -> None:
    fee = TitleFee(title=DoctorTitle.CHIEF, fee=Decimal("-1"))
    with translation.override(language):
        with pytest.raises(ValidationError) as refused:
            fee.validate_constraints()
        text = " ".join(refused.value.messages)
        assert "titlefee_fee_gte_0" not in text
        assert str(MESSAGES["titlefee_fee_gte_0"]) in text


@pytest.mark.django_db
def test_an_integrity_error_is_mapped_to_its_constraints_message() -> None:
    schedule = ScheduleFactory()
    twin = Schedule(
        doctor=schedule.doctor,
        date=schedule.date,
        session=schedule.session,
        start_time=schedule.start_time,
        end_time=schedule.end_time,
        release_at=schedule.release_at,
        fee=schedule.fee,
    )
    with pytest.raises(IntegrityError) as clash, transaction.atomic():
        twin.save()
    with translation.override("en"):
        assert message_for(clash.value) == "This doctor already has a session starting then."
