"""FHIR R4 Condition: the diagnosis of a visit record (records.VisitRecord), served under
/fhir/Condition. Every answer is parsed with fhir.resources' R4 models (``valid``); who reads
what is the record pages' rule: a member their account's patients, the desk and admins any,
a doctor their own sessions'; staff reads are in the operation log."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from medbook.models import OperationLog
from medbook.roles import DOCTOR
from members.patients import add_patient, self_patient
from records import icd10
from records.services import RecordText, amend_record
from tests.appointments.factories import DoctorFactory
from tests.conftest import staff_user
from tests.interop.test_fhir import _bearer, fhir, ids, outcome, valid
from tests.members.patient_ids import resident_id
from tests.records.factories import TEXT, written

pytestmark = pytest.mark.django_db

ICD10 = "http://hl7.org/fhir/sid/icd-10"
CHILD_ID = resident_id(dt.date(2017, 3, 4))
FLU = RecordText(chief_complaint="发热、咳嗽两天", diagnosis_code="J11.1", advice="多饮水")


@pytest.fixture
def world(member, other_member, doctor_user):
    """张三's own record (I10) and his child's (J11.1) by 王医生; 李四's record by 赵医生."""
    child = add_patient(member=member, name="张小红", relation="child", id_number=CHILD_ID)
    own = written(member, doctor_user)
    childs = written(member, doctor_user, FLU, patient=child)
    other_doctor = staff_user("doctor2", DOCTOR)
    DoctorFactory(user=other_doctor, name="赵医生")
    others = written(other_member, other_doctor)
    return {
        "own": own,
        "child": childs,
        "others": others,
        "holder": self_patient(member=member),
        "child_patient": child,
        "other_doctor": other_doctor,
    }


def found(client, user, **params: Any) -> set[str]:
    return set(ids(valid(fhir(client, "Condition", user, _count=100, **params))))


def test_a_condition_is_the_visits_diagnosis_in_icd10(client, member, doctor_user, world) -> None:
    record = world["own"]
    body = valid(fhir(client, f"Condition/{record.pk}", member.user))
    assert body["resourceType"] == "Condition" and body["id"] == str(record.pk)
    assert body["meta"]["versionId"] == "1"
    assert body["clinicalStatus"]["coding"][0]["code"] == "active"
    assert body["verificationStatus"]["coding"][0]["code"] == "confirmed"
    assert body["category"][0]["coding"][0]["code"] == "encounter-diagnosis"
    hypertension = icd10.diagnosis("I10")
    assert body["code"]["coding"] == [
        {"system": ICD10, "code": "I10", "display": hypertension.name_en}
    ]
    assert body["code"]["text"] == hypertension.name_en  # the request is in English
    assert body["subject"] == {"reference": f"Patient/{world['holder'].pk}", "display": "张三"}
    assert body["encounter"] == {"reference": f"Encounter/{record.appointment_id}"}
    assert body["recorder"]["reference"] == f"Practitioner/{doctor_user.doctor.pk}"
    assert body["recordedDate"] == timezone.localtime(record.created_at).isoformat()
    # The advice and prescriptions are the record's, not the diagnosis'.
    assert "note" not in body and "低盐" not in str(body) and "氨氯地平" not in str(body)
    # The encounter it names is served, and is the visit of the same patient.
    encounter = valid(fhir(client, body["encounter"]["reference"], member.user))
    assert encounter["subject"]["reference"] == body["subject"]["reference"]


def test_the_text_follows_the_callers_language(client, member, world) -> None:
    pair = _bearer(member.user)
    response = client.get(
        f"/fhir/Condition/{world['own'].pk}", HTTP_ACCEPT_LANGUAGE="zh-hans", **pair
    )
    body = valid(response)
    assert body["code"]["text"] == icd10.diagnosis("I10").name_zh
    assert body["code"]["coding"][0]["display"] == icd10.diagnosis("I10").name_en


def test_an_amended_record_shows_its_current_version(client, member, doctor_user, world) -> None:
    record = world["own"]
    amend_record(
        record=record,
        text=RecordText(chief_complaint=TEXT.chief_complaint, diagnosis_code="I11.9"),
        reason="诊断更正",
        by=doctor_user,
    )
    body = valid(fhir(client, f"Condition/{record.pk}", member.user))
    assert body["meta"]["versionId"] == "2"
    assert body["code"]["coding"][0]["code"] == "I11.9"
    assert found(client, member.user, code="I11.9") == {str(record.pk)}
    assert found(client, member.user, code="I10") == set()


def test_search_by_patient_subject_encounter_and_code(client, front_desk, world) -> None:
    own, child = str(world["own"].pk), str(world["child"].pk)
    holder, kid = world["holder"].pk, world["child_patient"].pk
    assert found(client, front_desk, patient=f"Patient/{kid}") == {child}
    assert found(client, front_desk, subject=holder) == {own}
    assert found(client, front_desk, patient=holder, subject=kid) == set()
    assert found(client, front_desk, patient=f"{holder},{kid}") == {own, child}
    assert found(client, front_desk, encounter=f"Encounter/{world['child'].appointment_id}") == {
        child
    }
    assert found(client, front_desk, code="J11.1") == {child}
    assert found(client, front_desk, code="j11.1") == {child}
    assert found(client, front_desk, code=f"{ICD10}|I10") == {own, str(world["others"].pk)}
    assert found(client, front_desk, code="I10", patient=holder) == {own}
    assert found(client, front_desk, code="J11.1,I10", patient=f"{holder},{kid}") == {own, child}
    assert found(client, front_desk, code="http://snomed.info/sct|I10") == set()
    assert found(client, front_desk, code="|I10") == set()
    assert found(client, front_desk, _id=own) == {own}


def test_search_by_recorded_date_with_prefixes(client, front_desk, world) -> None:
    everyone = {str(world[k].pk) for k in ("own", "child", "others")}
    at = timezone.localtime(world["child"].created_at)
    day = at.date()
    assert found(client, front_desk, **{"recorded-date": day.isoformat()}) == everyone
    assert found(client, front_desk, **{"recorded-date": f"eq{day:%Y-%m}"}) == everyone
    assert found(client, front_desk, **{"recorded-date": f"ge{day}"}) == everyone
    assert found(client, front_desk, **{"recorded-date": f"le{day}"}) == everyone
    assert found(client, front_desk, **{"recorded-date": f"gt{day}"}) == set()
    assert found(client, front_desk, **{"recorded-date": f"lt{day}"}) == set()
    # At a second's precision, in clinic time or in UTC.
    child = str(world["child"].pk)
    second = f"{at:%Y-%m-%dT%H:%M:%S}"
    assert child in found(client, front_desk, **{"recorded-date": second})
    assert child in found(client, front_desk, **{"recorded-date": f"ge{second}"})
    assert child not in found(client, front_desk, **{"recorded-date": f"lt{second}"})
    assert child not in found(client, front_desk, **{"recorded-date": f"gt{second}"})
    utc = world["child"].created_at.astimezone(dt.UTC)
    assert child in found(client, front_desk, **{"recorded-date": f"{utc:%Y-%m-%dT%H:%M:%S}Z"})
    assert child not in found(client, front_desk, **{"recorded-date": f"lt{utc:%Y-%m-%dT%H:%M}Z"})


def test_a_search_comes_in_pages(client, clinic_admin, world) -> None:
    first = valid(fhir(client, "Condition", clinic_admin, _count=2))
    assert first["total"] == 3 and len(first["entry"]) == 2
    links = {link["relation"]: link["url"] for link in first["link"]}
    assert "_offset=2" in links["next"] and "previous" not in links
    second = valid(client.get(links["next"], **_bearer(clinic_admin)))
    assert len(second["entry"]) == 1 and not set(ids(first)) & set(ids(second))
    assert first["entry"][0]["fullUrl"].endswith(f"/fhir/Condition/{ids(first)[0]}")
    # Oldest record first.
    assert ids(first) + ids(second) == [str(world[k].pk) for k in ("own", "child", "others")]


# -- who reads what -----------------------------------------------------------------------------


def test_anonymous_callers_get_a_401(client, world) -> None:
    assert outcome(fhir(client, "Condition"), 401) == "login"
    assert outcome(fhir(client, f"Condition/{world['own'].pk}"), 401) == "login"


def test_a_member_reads_their_own_patients_conditions_only(client, member, world) -> None:
    assert found(client, member.user) == {str(world["own"].pk), str(world["child"].pk)}
    response = fhir(client, f"Condition/{world['others'].pk}", member.user)
    assert outcome(response, 404) == "not-found"
    assert found(client, member.user, patient=world["others"].patient_id) == set()
    assert not OperationLog.objects.filter(action__startswith="visit_record.view").exists()


def test_another_member_reads_none_of_them(client, other_member, world) -> None:
    assert found(client, other_member.user) == {str(world["others"].pk)}
    for key in ("own", "child"):
        response = fhir(client, f"Condition/{world[key].pk}", other_member.user)
        assert outcome(response, 404) == "not-found"
    patient = world["child_patient"].pk
    assert found(client, other_member.user, patient=patient) == set()
    assert found(client, other_member.user, code="J11.1") == set()


def test_the_desk_reads_any_and_each_read_is_logged(client, front_desk, world) -> None:
    everyone = {str(world[k].pk) for k in ("own", "child", "others")}
    assert found(client, front_desk) == everyone
    valid(fhir(client, f"Condition/{world['child'].pk}", front_desk))
    rows = OperationLog.objects.filter(action="visit_record.view_fhir").order_by("pk")
    assert [row.detail["records"] for row in rows] == [
        [world[k].pk for k in ("own", "child", "others")],
        [world["child"].pk],
    ]
    assert all(row.actor == front_desk for row in rows)
    assert "张" not in str([row.detail for row in rows])


def test_a_doctor_reads_their_own_sessions_conditions(client, doctor_user, world) -> None:
    assert found(client, doctor_user) == {str(world["own"].pk), str(world["child"].pk)}
    response = fhir(client, f"Condition/{world['others'].pk}", doctor_user)
    assert outcome(response, 404) == "not-found"
    assert found(client, world["other_doctor"]) == {str(world["others"].pk)}


def test_an_admin_reads_any(client, clinic_admin, world) -> None:
    everyone = {str(world[k].pk) for k in ("own", "child", "others")}
    assert found(client, clinic_admin) == everyone
    assert valid(fhir(client, f"Condition/{world['others'].pk}", clinic_admin))["id"]


def test_a_login_without_a_patient_role_gets_a_403(client, world) -> None:
    finance = staff_user("finance", "财务")
    assert outcome(fhir(client, "Condition", finance), 403) == "forbidden"
    assert outcome(fhir(client, f"Condition/{world['own'].pk}", finance), 403) == "forbidden"


# -- errors, the CapabilityStatement, cost --------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params", "status", "code"),
    [
        ("Condition/999999", {}, 404, "not-found"),
        ("Condition/abc", {}, 404, "not-found"),
        ("Condition", {"clinical-status": "active"}, 400, "not-supported"),
        ("Condition", {"recorded-date": "yesterday"}, 400, "invalid"),
        ("Condition", {"recorded-date": "ne2026-12-01"}, 400, "not-supported"),
        ("Condition", {"recorded-date": "2026-02-30"}, 400, "invalid"),
        ("Condition", {"patient": "Practitioner/1"}, 400, "invalid"),
        ("Condition", {"subject": "x"}, 400, "invalid"),
        ("Condition", {"encounter": "Appointment/1"}, 400, "invalid"),
        ("Condition", {"code": ""}, 400, "invalid"),
        ("Condition", {"code:text": "血压"}, 400, "not-supported"),
        ("Condition", {"_count": "0"}, 400, "invalid"),
        ("Condition", {"_format": "xml"}, 406, "not-supported"),
    ],
)
def test_bad_input_is_a_4xx_operation_outcome(
    client, front_desk, world, path, params, status, code
) -> None:
    assert outcome(fhir(client, path, front_desk, **params), status) == code


def test_the_capability_statement_lists_condition(client) -> None:
    body = valid(fhir(client, "metadata"))
    served = {r["type"]: {p["name"] for p in r["searchParam"]} for r in body["rest"][0]["resource"]}
    assert served["Condition"] == {
        "_id",
        "patient",
        "subject",
        "encounter",
        "code",
        "recorded-date",
    }


def test_a_page_costs_the_same_queries_however_many_it_holds(client, clinic_admin, world) -> None:
    headers = _bearer(clinic_admin)
    counts = []
    for count in (1, 3):
        client.get("/fhir/Condition", {"_count": count}, **headers)  # caches warm
        with CaptureQueriesContext(connection) as queries:
            valid(client.get("/fhir/Condition", {"_count": count}, **headers))
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
