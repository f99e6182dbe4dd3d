"""Visit records in the member's data export (their account's only) and after the account is
closed (kept, as the clinic must keep outpatient records; the patient's name erased)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from privacy.erasure import erase_personal_data
from privacy.export import member_data
from records import selectors
from records.services import RecordText, amend_record
from tests.records.factories import TEXT, written

pytestmark = pytest.mark.django_db


def test_the_export_holds_every_version_of_the_accounts_records_only(
    member, other_member, doctor_user
) -> None:
    own = written(member, doctor_user)
    amend_record(
        record=own,
        text=RecordText(**{**TEXT.__dict__, "advice": "低盐饮食，戒烟限酒"}),
        reason="补充医嘱",
        by=doctor_user,
    )
    written(other_member, doctor_user, RecordText(**{**TEXT.__dict__, "chief_complaint": "别人的"}))

    rows = member_data(member=member)["visit_records"]

    assert [(r["record"], r["version"]) for r in rows] == [(own.pk, 1), (own.pk, 2)]
    assert rows[0]["diagnosis"] == "原发性高血压" and rows[1]["amendment_reason"] == "补充医嘱"
    assert all(r["chief_complaint"] == TEXT.chief_complaint for r in rows)


def test_closing_the_account_keeps_the_records_without_the_patients_name(
    member, doctor_user
) -> None:
    record = written(member, doctor_user)
    erase_personal_data(member=member, user=member.user, now=timezone.now())
    view = selectors.member_records(member=member)[0]
    assert view.record.pk == record.pk
    assert view.current.chief_complaint == TEXT.chief_complaint
    assert view.patient.name == "（已删除）"
