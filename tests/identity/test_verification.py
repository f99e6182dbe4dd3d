"""Verifying a name and ID number: attempts are logged without the number, counted against the
rate limits per login and per ID number, bad input writes nothing, and the provider is never
a server error."""

from __future__ import annotations

import pytest
from django.db import connection

from identity import services
from identity.choices import Channel, Outcome
from identity.exceptions import NotVerifiable, TooManyAttempts
from identity.models import VerificationAttempt
from medbook.errors import Invalid
from medbook.models import OperationLog
from members.models import IdType
from tests.identity.tencent_standin import MATCHING_NAME

pytestmark = pytest.mark.django_db

MATCHING = ("张伟", "310104199003051239")  # the sandbox's demo table
ANY_VALID = "110105199001018768"


def verify(user, name, number, *, channel=Channel.ONLINE, id_type=IdType.RESIDENT):
    return services.verify_identity(
        by=user, name=name, id_type=id_type, id_number=number, channel=channel
    )


def test_it_logs_the_attempt_with_its_outcome(member) -> None:
    attempt = verify(member.user, *MATCHING)
    assert attempt.outcome == Outcome.MATCH
    assert (attempt.user, attempt.provider, attempt.channel) == (member.user, "sandbox", "online")
    assert attempt.reference.startswith("SBX-")
    log = OperationLog.objects.get(action="identity.verify")
    assert log.actor == member.user
    assert log.detail["outcome"] == "match" and log.detail["attempt"] == attempt.pk


def test_a_mismatch_is_logged_as_a_failure(member) -> None:
    attempt = verify(member.user, "李娜", MATCHING[1])
    assert attempt.outcome == Outcome.MISMATCH
    assert OperationLog.objects.get(action="identity.verify").outcome == "failure"


def test_no_plaintext_id_number_or_name_is_stored(member) -> None:
    verify(member.user, *MATCHING)
    verify(member.user, "李娜", "11010519850612000X")
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_to_json(a)::text FROM identity_verificationattempt a")
        attempts = " ".join(row[0] for row in cursor.fetchall())
        cursor.execute("SELECT row_to_json(o)::text FROM medbook_operationlog o")
        logs = " ".join(row[0] for row in cursor.fetchall())
    for stored in (attempts, logs):
        assert "310104199003051239" not in stored and "11010519850612000X" not in stored
        assert "张伟" not in stored and "李娜" not in stored
    # …but the attempts on one number can be found by its blind index.
    assert (
        VerificationAttempt.objects.filter(
            subject_index=services.subject_index(MATCHING[1])
        ).count()
        == 1
    )


def test_the_same_number_typed_in_lower_case_is_the_same_subject(member) -> None:
    verify(member.user, "赵六", "11010519850612000x")
    assert VerificationAttempt.objects.get().subject_index == services.subject_index(
        "11010519850612000X"
    )


@pytest.mark.parametrize(
    ("name", "number", "field"),
    [
        ("", ANY_VALID, "name"),
        ("张" * 65, ANY_VALID, "name"),
        ("张伟", "310104199003051238", "id_number"),  # check digit wrong
        ("张伟", "12345", "id_number"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(member, name, number, field) -> None:
    with pytest.raises(Invalid) as refused:
        verify(member.user, name, number)
    assert refused.value.field == field and refused.value.status == 400
    assert not VerificationAttempt.objects.exists()
    assert not OperationLog.objects.filter(action="identity.verify").exists()


def test_documents_other_than_resident_ids_go_to_the_desk(member) -> None:
    with pytest.raises(NotVerifiable):
        verify(member.user, "张伟", "E12345678", id_type="passport")
    assert not VerificationAttempt.objects.exists()


def test_a_login_is_limited_per_hour(member, settings) -> None:
    settings.MEDBOOK_REALNAME_RATE_USER = "2/3600"
    verify(member.user, "赵六", "110105199001018768")
    verify(member.user, "赵六", "320106197211203458")
    with pytest.raises(TooManyAttempts) as refused:
        verify(member.user, "赵六", "440305199505132561")
    assert refused.value.status == 429
    assert "一小时后再试" in refused.value.message  # zh-hans, the clinic's language
    assert VerificationAttempt.objects.count() == 2  # the refused one never reached the provider
    denied = OperationLog.objects.get(action="identity.verify", outcome="denied")
    assert denied.detail == {"channel": "online", "refused": "login"}


def test_one_id_number_is_limited_whoever_asks(member, other_member, settings) -> None:
    settings.MEDBOOK_REALNAME_RATE_ID = "2/3600"
    verify(member.user, "李娜", MATCHING[1])
    verify(other_member.user, "刘芳", MATCHING[1])
    with pytest.raises(TooManyAttempts):
        verify(other_member.user, *MATCHING)
    assert OperationLog.objects.get(outcome="denied").detail["refused"] == "id_number"
    verify(other_member.user, "赵六", ANY_VALID)  # another number is fine


def test_the_desk_has_its_own_larger_limit(member, front_desk, settings) -> None:
    settings.MEDBOOK_REALNAME_RATE_USER = "1/3600"
    settings.MEDBOOK_REALNAME_RATE_DESK = "3/3600"
    for number in ("110105199001018768", "320106197211203458", "440305199505132561"):
        verify(front_desk, "赵六", number, channel=Channel.DESK)
    with pytest.raises(TooManyAttempts):
        verify(front_desk, "赵六", "110101201801012342", channel=Channel.DESK)


def test_a_provider_that_times_out_is_an_error_outcome_not_a_failure(member, faceid) -> None:
    faceid.behaviour, faceid.delay = "slow", 2  # the timeout is 1 s
    attempt = verify(member.user, MATCHING_NAME, "440305199505132561")
    assert (attempt.outcome, attempt.provider, attempt.code) == ("error", "tencent", "timeout")


def test_with_tencent_the_answer_and_its_request_id_are_kept(member, faceid) -> None:
    attempt = verify(member.user, MATCHING_NAME, "440305199505132561")
    assert (attempt.outcome, attempt.provider, attempt.code) == ("match", "tencent", "0")
    assert attempt.message == "姓名和身份证号一致" and len(attempt.reference) == 36


def test_an_adapter_that_breaks_is_an_error_outcome(member, monkeypatch) -> None:
    from identity.verifiers.sandbox import SandboxVerifier

    def broken(self, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(SandboxVerifier, "verify", broken)
    attempt = verify(member.user, *MATCHING)
    assert (attempt.outcome, attempt.code) == ("error", "adapter_failure")


def test_every_outcome_has_a_message_for_the_person_asking() -> None:
    assert len({services.outcome_message(outcome) for outcome in Outcome.values}) == 4
