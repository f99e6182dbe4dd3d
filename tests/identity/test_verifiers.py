"""The verifier adapters: the sandbox's documented answers, and Tencent FaceID's protocol
against its stand-in (signature checked as the service does; every documented result code, API
errors, a timeout, a broken body)."""

from __future__ import annotations

import json
import time

import pytest

from identity.choices import Outcome
from identity.verifiers import configured_verifier
from identity.verifiers.sandbox import DEMO_PEOPLE, SandboxVerifier
from identity.verifiers.tencent import TencentIdCardVerifier, read_answer
from members.models import IdType
from tests.identity.tencent_standin import MATCHING_NAME, SECRET_ID, SECRET_KEY

RESIDENT = IdType.RESIDENT


# -- the sandbox -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "id_number", "outcome"),
    [
        ("张伟", "310104199003051239", Outcome.MATCH),  # the demo table
        ("李娜", "310104199003051239", Outcome.MISMATCH),  # the table's number, another name
        ("王小明", "110101201801012342", Outcome.MATCH),
        ("赵六", "11010519850612000X", Outcome.NOT_FOUND),  # sequence 000
        ("赵六", "110105198506120018", Outcome.MISMATCH),  # sequence 001
        ("赵六", "110105198506120026", Outcome.ERROR),  # sequence 002
        ("赵六", "110105199001018768", Outcome.MATCH),  # any other sequence, a real-looking name
        ("Zhao 6", "110105199001018768", Outcome.MISMATCH),  # not a name
    ],
)
def test_it_answers_by_the_documented_rules(name, id_number, outcome) -> None:
    result = SandboxVerifier().verify(name=name, id_type=RESIDENT, id_number=id_number)
    assert (result.outcome, result.provider) == (outcome, "sandbox")
    assert result.reference.startswith("SBX-")


def test_its_demo_table_holds_valid_numbers_only() -> None:
    from medbook.personal_data import validate_national_id

    assert all(validate_national_id(number) == number for number in DEMO_PEOPLE)


def test_it_checks_nothing_but_resident_ids() -> None:
    result = SandboxVerifier().verify(name="张伟", id_type="passport", id_number="E12345678")
    assert (result.outcome, result.code) == (Outcome.ERROR, "unsupported_id_type")


def test_the_sandbox_is_the_default(settings) -> None:
    assert settings.MEDBOOK_REALNAME_PROVIDER == "sandbox"
    assert configured_verifier().name == "sandbox"


# -- Tencent Cloud FaceID IdCardVerification, against the stand-in ------------------------------


def test_the_setting_chooses_tencent(faceid) -> None:
    verifier = configured_verifier()
    assert isinstance(verifier, TencentIdCardVerifier)
    assert verifier.url == faceid.url


def test_it_signs_requests_the_way_the_service_checks_them(faceid) -> None:
    result = configured_verifier().verify(
        name=MATCHING_NAME, id_type=RESIDENT, id_number="440305199505132561"
    )
    assert result.outcome == Outcome.MATCH
    assert [seen.verdict for seen in faceid.seen] == ["ok"]
    sent = faceid.seen[0]
    assert json.loads(sent.body) == {"IdCard": "440305199505132561", "Name": MATCHING_NAME}
    assert sent.headers["x-tc-action"] == "IdCardVerification"
    assert sent.headers["x-tc-version"] == "2018-03-01"
    assert sent.headers["content-type"] == "application/json; charset=utf-8"
    assert sent.headers["authorization"].startswith(f"TC3-HMAC-SHA256 Credential={SECRET_ID}/")


def test_a_wrong_secret_key_is_refused_by_the_service_and_is_an_error(faceid) -> None:
    verifier = TencentIdCardVerifier(secret_id=SECRET_ID, secret_key="not-the-key", url=faceid.url)
    result = verifier.verify(name=MATCHING_NAME, id_type=RESIDENT, id_number="440305199505132561")
    assert (result.outcome, result.code) == (Outcome.ERROR, "AuthFailure.SignatureFailure")
    assert result.reference  # the RequestId, for Tencent's support
    assert [seen.verdict for seen in faceid.seen] == ["AuthFailure.SignatureFailure"]


def test_an_unknown_secret_id_is_an_error(faceid) -> None:
    verifier = TencentIdCardVerifier(secret_id="AKIDother", secret_key=SECRET_KEY, url=faceid.url)
    result = verifier.verify(name=MATCHING_NAME, id_type=RESIDENT, id_number="440305199505132561")
    assert (result.outcome, result.code) == (Outcome.ERROR, "AuthFailure.SecretIdNotFound")


def test_a_tampered_body_fails_the_signature(faceid) -> None:
    """The signature covers the body: the stand-in recomputes it over what arrived."""
    import requests

    from identity.verifiers.tencent import signed_headers

    signed_for = json.dumps({"IdCard": "440305199505132561", "Name": "韦小宝"}).encode()
    headers = signed_headers(
        secret_id=SECRET_ID,
        secret_key=SECRET_KEY,
        host=faceid.url.split("/")[2],
        payload=signed_for,
        timestamp=int(time.time()),
    )
    sent = json.dumps({"IdCard": "440305199505132561", "Name": "韦大宝"}).encode()
    answer = requests.post(faceid.url, data=sent, headers=headers, timeout=5)
    assert read_answer(status=answer.status_code, body=answer.content).code == (
        "AuthFailure.SignatureFailure"
    )


@pytest.mark.parametrize(
    ("name", "id_number", "outcome", "code"),
    [
        (MATCHING_NAME, "440305199505132561", Outcome.MATCH, "0"),
        ("韦大宝", "440305199505132561", Outcome.MISMATCH, "-1"),
        (MATCHING_NAME, "11010519850612000X", Outcome.NOT_FOUND, "-2"),
        ("Wei 3", "440305199505132561", Outcome.MISMATCH, "-3"),
        (MATCHING_NAME, "320106197211203458", Outcome.ERROR, "-4"),
        (MATCHING_NAME, "310104199003051239", Outcome.NOT_FOUND, "-5"),
        (MATCHING_NAME, "110101201801012342", Outcome.ERROR, "-6"),
        (MATCHING_NAME, "110105199001018768", Outcome.ERROR, "-7"),
    ],
)
def test_every_documented_result_maps_to_an_outcome(faceid, name, id_number, outcome, code):
    result = configured_verifier().verify(name=name, id_type=RESIDENT, id_number=id_number)
    assert (result.outcome, result.code, result.provider) == (outcome, code, "tencent")
    assert result.message  # Tencent's Description, kept for the log
    assert len(result.reference) == 36


def test_a_result_the_documentation_does_not_list_is_an_error(faceid) -> None:
    faceid.behaviour = "unknown_result"
    result = configured_verifier().verify(
        name=MATCHING_NAME, id_type=RESIDENT, id_number="440305199505132561"
    )
    assert (result.outcome, result.code) == (Outcome.ERROR, "unknown_result")


def test_a_timeout_is_an_error(faceid) -> None:
    faceid.behaviour, faceid.delay = "slow", 3
    verifier = TencentIdCardVerifier(
        secret_id=SECRET_ID, secret_key=SECRET_KEY, url=faceid.url, timeout=0.5
    )
    result = verifier.verify(name=MATCHING_NAME, id_type=RESIDENT, id_number="440305199505132561")
    assert (result.outcome, result.code) == (Outcome.ERROR, "timeout")


@pytest.mark.parametrize(
    ("behaviour", "code"),
    [
        ("malformed", "malformed_answer"),
        ("not_an_object", "malformed_answer"),
        ("http_502", "http_502"),
    ],
)
def test_a_broken_answer_is_an_error(faceid, behaviour, code) -> None:
    faceid.behaviour = behaviour
    result = configured_verifier().verify(
        name=MATCHING_NAME, id_type=RESIDENT, id_number="440305199505132561"
    )
    assert (result.outcome, result.code) == (Outcome.ERROR, code)


def test_a_service_that_is_down_is_an_error() -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    verifier = TencentIdCardVerifier(
        secret_id=SECRET_ID, secret_key=SECRET_KEY, url=f"http://127.0.0.1:{port}/", timeout=1
    )
    result = verifier.verify(name=MATCHING_NAME, id_type=RESIDENT, id_number="440305199505132561")
    assert (result.outcome, result.code) == (Outcome.ERROR, "unreachable")


def test_other_documents_are_not_sent(faceid) -> None:
    result = configured_verifier().verify(name="韦小宝", id_type="passport", id_number="E1234567")
    assert (result.outcome, result.code) == (Outcome.ERROR, "unsupported_id_type")
    assert faceid.seen == []


def test_provider_words_never_keep_a_number() -> None:
    body = json.dumps(
        {
            "Response": {
                "Error": {
                    "Code": "InvalidParameterValue",
                    "Message": "IdCard 440305199505132561 bad",
                },
                "RequestId": "r",
            }
        }
    ).encode()
    result = read_answer(status=200, body=body)
    assert "440305" not in result.message
