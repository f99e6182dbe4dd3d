"""Issue 19 (part 2): the FHIR R4 read API. Every resource MedBook answers is parsed with the
FHIR models of fhir.resources (its ``R4B`` package: the R4 family's models; 8.x has no 4.0.1
package of its own, and R4B's Patient, Practitioner, Schedule, Slot, Appointment, Encounter,
Condition, Bundle, OperationOutcome and CapabilityStatement are R4's), so each is known to be
valid FHIR.
Who reads what is the API's rule: a member their own account, the desk and admins everything,
a doctor their own sessions' patients; bad searches are a 400 OperationOutcome."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class

from appointments.choices import Channel
from appointments.services import (
    book_appointment,
    cancel_appointment,
    check_in_appointment,
    complete_appointment,
)
from medbook.api.authentication import needs_second_factor
from medbook.api.tokens import issue_tokens
from medbook.models import OperationLog
from members.patients import add_patient, self_patient
from tests.appointments import factories as appointments
from tests.appointments.factories import DoctorFactory, ScheduleFactory
from tests.conftest import staff_user
from tests.members.patient_ids import resident_id
from tests.security.world import session_under_way

pytestmark = pytest.mark.django_db

CHILD_ID = resident_id(dt.date(2016, 1, 2))


def fhir(client, path: str, user=None, **params: Any):
    """GET /fhir/<path> as ``user`` (bearer token; staff past their second factor)."""
    headers = {"HTTP_ACCEPT_LANGUAGE": "en"}
    if user is not None:
        pair = issue_tokens(user=user, second_factor=needs_second_factor(user))
        headers["HTTP_AUTHORIZATION"] = f"Bearer {pair.access}"
    return client.get(f"/fhir/{path}", params, **headers)


def valid(response, status: int = 200) -> dict:
    """The body, after checking the status, the media type, and that it parses as FHIR."""
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/fhir+json")
    body = response.json()
    get_fhir_model_class(body["resourceType"]).model_validate(body)
    return body


def outcome(response, status: int) -> str:
    body = valid(response, status)
    assert body["resourceType"] == "OperationOutcome"
    return body["issue"][0]["code"]


def resources(bundle: dict) -> list[dict]:
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "searchset"
    return [entry["resource"] for entry in bundle["entry"]]


def ids(bundle: dict) -> list[str]:
    return [resource["id"] for resource in resources(bundle)]


@pytest.fixture
def clinic(member, other_member, doctor_user):
    """Member A (张三) and their child; today's session of 王医生 under way, where A was seen
    (completed) and the child is booked; A's unpaid booking and a cancelled one with another
    doctor; member B's booking with that doctor."""
    doctor = doctor_user.doctor
    today = session_under_way(doctor)
    child = add_patient(member=member, name="张小明", relation="child", id_number=CHILD_ID)
    seen = appointments.book(member, today, now=today.starts_at - dt.timedelta(hours=1))
    check_in_appointment(appointment=seen)
    complete_appointment(appointment=seen)
    child_booking = book_appointment(
        member=member,
        schedule=today,
        channel=Channel.WEB,
        patient=child,
        now=today.starts_at - dt.timedelta(hours=1),
    )
    later = ScheduleFactory(doctor=DoctorFactory(name="李医生"), fee=50)
    next_day = later.date + dt.timedelta(days=1)
    cancelled = appointments.book(
        member, ScheduleFactory(doctor=later.doctor, fee=0, date=next_day)
    )
    cancel_appointment(appointment=cancelled, by=member.user, reason="有事")
    unpaid = appointments.book(member, later)
    other = appointments.book(other_member, later)
    return {
        "doctor": doctor,
        "today": today,
        "later": later,
        "holder": self_patient(member=member),
        "child": child,
        "seen": seen,
        "child_booking": child_booking,
        "unpaid": unpaid,
        "cancelled": cancelled,
        "other": other,
        "other_patient": self_patient(member=other_member),
    }


# -- the CapabilityStatement and the way in -----------------------------------------------


def test_it_publishes_a_capability_statement_to_anyone(client) -> None:
    body = valid(fhir(client, "metadata"))
    assert body["fhirVersion"] == "4.0.1"
    served = {r["type"]: {p["name"] for p in r["searchParam"]} for r in body["rest"][0]["resource"]}
    assert set(served) == {
        "Patient",
        "Practitioner",
        "Schedule",
        "Slot",
        "Appointment",
        "Encounter",
        "Condition",
    }
    assert {"date", "patient", "practitioner", "status"} <= served["Appointment"]


def test_it_wants_a_token_for_everything_else(client, clinic) -> None:
    assert outcome(fhir(client, "Patient"), 401) == "login"
    assert outcome(fhir(client, "Practitioner/1"), 401) == "login"


def test_staff_need_their_second_factor(client, clinic) -> None:
    pair = issue_tokens(user=staff_user("desk2", "前台"), second_factor=False)
    response = client.get("/fhir/Patient", HTTP_AUTHORIZATION=f"Bearer {pair.access}")
    assert outcome(response, 403) == "forbidden"


# -- Patient ---------------------------------------------------------------------------------


def test_a_member_reads_their_own_patients_masked(client, member, clinic) -> None:
    bundle = valid(fhir(client, "Patient", member.user))
    assert bundle["total"] == 2
    holder, child = resources(bundle)
    assert (holder["name"][0]["text"], child["name"][0]["text"]) == ("张三", "张小明")
    assert child["gender"] == "male" and child["birthDate"] == "2016-01-02"
    assert child["identifier"][0]["value"] != CHILD_ID
    assert child["identifier"][0]["value"].endswith(CHILD_ID[-4:])
    assert child["meta"]["security"][0]["code"] == "MASKED"
    assert holder["telecom"][0]["value"] == member.masked_phone
    assert CHILD_ID not in str(bundle) and member.phone not in str(bundle)


def test_another_members_patient_is_not_found(client, other_member, clinic) -> None:
    response = fhir(client, f"Patient/{clinic['child'].pk}", other_member.user)
    assert outcome(response, 404) == "not-found"
    assert ids(valid(fhir(client, "Patient", other_member.user))) == [
        str(clinic["other_patient"].pk)
    ]


def test_the_desk_finds_a_patient_by_id_number_or_name(client, front_desk, clinic) -> None:
    by_id = valid(fhir(client, "Patient", front_desk, identifier=CHILD_ID))
    assert ids(by_id) == [str(clinic["child"].pk)]
    system = by_id["entry"][0]["resource"]["identifier"][0]["system"]
    assert ids(valid(fhir(client, "Patient", front_desk, identifier=f"{system}|{CHILD_ID}")))
    assert ids(valid(fhir(client, "Patient", front_desk, identifier=f"urn:x|{CHILD_ID}"))) == []
    assert ids(valid(fhir(client, "Patient", front_desk, name="张小"))) == [str(clinic["child"].pk)]
    # The desk sees numbers masked, as in the console (the links repeat only what was asked).
    assert CHILD_ID not in str(resources(by_id))


def test_an_admin_sees_numbers_in_full_and_each_look_is_logged(
    client, clinic_admin, clinic
) -> None:
    body = valid(fhir(client, f"Patient/{clinic['child'].pk}", clinic_admin))
    assert body["identifier"][0]["value"] == CHILD_ID
    assert "meta" not in body
    row = OperationLog.objects.filter(action="fhir.unmask").get()
    assert row.actor == clinic_admin and row.detail == {"patients": [clinic["child"].pk]}


def test_a_doctor_reads_only_their_own_sessions_patients(client, doctor_user, clinic) -> None:
    found = valid(fhir(client, "Patient", doctor_user))
    assert sorted(ids(found)) == sorted([str(clinic["holder"].pk), str(clinic["child"].pk)])
    response = fhir(client, f"Patient/{clinic['other_patient'].pk}", doctor_user)
    assert outcome(response, 404) == "not-found"


def test_a_login_without_a_patient_role_reads_no_patient(client, clinic) -> None:
    finance = staff_user("finance", "财务")
    assert outcome(fhir(client, "Patient", finance), 403) == "forbidden"
    assert outcome(fhir(client, "Encounter", finance), 403) == "forbidden"
    valid(fhir(client, "Practitioner", finance))  # the catalogue is not patient data


# -- Practitioner, Schedule, Slot ---------------------------------------------------------------


def test_practitioners_and_their_schedules(client, member, clinic) -> None:
    doctor = clinic["doctor"]
    body = valid(fhir(client, f"Practitioner/{doctor.pk}", member.user))
    assert body["name"][0]["text"] == "王医生" and body["active"] is True
    schedules = valid(fhir(client, "Schedule", member.user, actor=f"Practitioner/{doctor.pk}"))
    assert ids(schedules) == [str(clinic["today"].pk)]
    schedule = resources(schedules)[0]
    assert schedule["actor"][0]["reference"] == f"Practitioner/{doctor.pk}"
    assert schedule["planningHorizon"]["start"] == clinic["today"].starts_at.isoformat()
    day = clinic["later"].date.isoformat()
    assert str(clinic["later"].pk) in ids(valid(fhir(client, "Schedule", member.user, date=day)))


def test_a_session_is_one_slot_per_queue_number(client, member, clinic) -> None:
    today = clinic["today"]
    bundle = valid(fhir(client, "Slot", member.user, schedule=f"Schedule/{today.pk}"))
    slots = resources(bundle)
    assert bundle["total"] == today.capacity
    assert [s["status"] for s in slots[:3]] == ["busy", "busy", "free"]
    assert slots[1]["start"] == slots[0]["end"]
    busy = valid(fhir(client, "Slot", member.user, schedule=today.pk, status="busy"))
    assert ids(busy) == [f"{today.pk}-1", f"{today.pk}-2"]
    one = valid(fhir(client, f"Slot/{today.pk}-2", member.user))
    assert one["schedule"]["reference"] == f"Schedule/{today.pk}"
    assert outcome(fhir(client, f"Slot/{today.pk}-99", member.user), 404) == "not-found"


def test_slots_by_start_within_a_window(client, member, clinic) -> None:
    day = clinic["later"].date
    bundle = valid(
        fhir(
            client,
            "Slot",
            member.user,
            start=[f"ge{day}T08:15", f"lt{day}T08:45"],
            _count=100,
        )
    )
    later = [
        s
        for s in resources(bundle)
        if s["schedule"]["reference"].endswith(f"/{clinic['later'].pk}")
    ]
    assert [s["id"] for s in later] == [f"{clinic['later'].pk}-2", f"{clinic['later'].pk}-3"]


# -- Appointment, Encounter -------------------------------------------------------------------


def test_appointments_map_their_status_participants_and_slot(client, member, clinic) -> None:
    body = valid(fhir(client, "Appointment", member.user, _count=100))
    by_id = {r["id"]: r for r in resources(body)}
    assert set(by_id) == {
        str(clinic[k].pk) for k in ("seen", "child_booking", "unpaid", "cancelled")
    }
    seen = by_id[str(clinic["seen"].pk)]
    assert seen["status"] == "fulfilled"
    assert [p["actor"]["reference"] for p in seen["participant"]] == [
        f"Patient/{clinic['holder'].pk}",
        f"Practitioner/{clinic['doctor'].pk}",
    ]
    assert seen["slot"] == [{"reference": f"Slot/{clinic['today'].pk}-1"}]
    assert by_id[str(clinic["child_booking"].pk)]["status"] == "booked"
    assert by_id[str(clinic["unpaid"].pk)]["status"] == "pending"
    cancelled = by_id[str(clinic["cancelled"].pk)]
    assert cancelled["status"] == "cancelled" and "slot" not in cancelled
    assert cancelled["cancelationReason"]["text"] == "有事"


def test_appointment_search_by_patient_practitioner_status_and_date(
    client, front_desk, clinic
) -> None:
    def found(**params: Any) -> set[str]:
        return set(ids(valid(fhir(client, "Appointment", front_desk, _count=100, **params))))

    child, doctor = clinic["child"], clinic["doctor"]
    assert found(patient=f"Patient/{child.pk}") == {str(clinic["child_booking"].pk)}
    assert found(practitioner=doctor.pk) == {
        str(clinic["seen"].pk),
        str(clinic["child_booking"].pk),
    }
    assert found(status="pending") == {str(clinic["unpaid"].pk), str(clinic["other"].pk)}
    assert found(status="cancelled,noshow") == {str(clinic["cancelled"].pk)}
    today, later = clinic["today"].date, clinic["later"].date
    on_today = {str(clinic["seen"].pk), str(clinic["child_booking"].pk)}
    assert found(date=today.isoformat()) == on_today
    assert found(date=f"eq{today:%Y-%m}") >= on_today
    assert found(date=[f"ge{today}", f"lt{today + dt.timedelta(days=1)}"]) == on_today
    assert found(date=f"gt{today}", practitioner=doctor.pk) == set()
    assert found(date=f"le{today}", practitioner=doctor.pk) == on_today
    assert str(clinic["unpaid"].pk) in found(date=f"gt{today}")
    assert str(clinic["unpaid"].pk) not in found(date=f"lt{later}")
    first_number = clinic["seen"]
    start = timezone.localtime(first_number.schedule.starts_at)
    assert found(date=f"eq{start:%Y-%m-%dT%H:%M}", practitioner=doctor.pk) == {str(first_number.pk)}


def test_a_member_never_sees_another_members_appointment(client, other_member, clinic) -> None:
    response = fhir(client, f"Appointment/{clinic['seen'].pk}", other_member.user)
    assert outcome(response, 404) == "not-found"
    mine = valid(fhir(client, "Appointment", other_member.user, patient=clinic["child"].pk))
    assert mine["total"] == 0


def test_a_visit_is_an_encounter_from_check_in(client, member, doctor_user, clinic) -> None:
    seen = clinic["seen"]
    seen.refresh_from_db()
    body = valid(fhir(client, f"Encounter/{seen.pk}", member.user))
    assert body["status"] == "finished" and body["class"]["code"] == "AMB"
    assert body["period"]["start"] == timezone.localtime(seen.checked_in_at).isoformat()
    assert body["period"]["end"] == timezone.localtime(seen.completed_at).isoformat()
    assert body["appointment"] == [{"reference": f"Appointment/{seen.pk}"}]
    booked = clinic["child_booking"]
    assert outcome(fhir(client, f"Encounter/{booked.pk}", member.user), 404) == "not-found"
    today = timezone.localdate(seen.checked_in_at).isoformat()
    assert ids(valid(fhir(client, "Encounter", doctor_user, date=today))) == [str(seen.pk)]
    holder = clinic["holder"].pk
    assert ids(valid(fhir(client, "Encounter", member.user, patient=holder))) == [str(seen.pk)]
    assert ids(valid(fhir(client, "Encounter", member.user, patient=clinic["child"].pk))) == []


def test_a_doctor_reads_only_their_own_sessions_appointments(client, doctor_user, clinic) -> None:
    found = set(ids(valid(fhir(client, "Appointment", doctor_user))))
    assert found == {str(clinic["seen"].pk), str(clinic["child_booking"].pk)}
    response = fhir(client, f"Appointment/{clinic['other'].pk}", doctor_user)
    assert outcome(response, 404) == "not-found"


# -- paging and bad input -----------------------------------------------------------------


def test_a_search_comes_in_pages_with_links(client, clinic_admin, clinic) -> None:
    first = valid(fhir(client, "Appointment", clinic_admin, _count=2))
    assert first["total"] == 5 and len(first["entry"]) == 2
    links = {link["relation"]: link["url"] for link in first["link"]}
    assert "previous" not in links and "_offset=2" in links["next"]
    second = valid(client.get(links["next"], **_bearer(clinic_admin)))
    assert len(second["entry"]) == 2 and not set(ids(first)) & set(ids(second))
    last = valid(fhir(client, "Appointment", clinic_admin, _count=2, _offset=4))
    assert len(last["entry"]) == 1 and "next" not in {x["relation"] for x in last["link"]}
    assert first["entry"][0]["fullUrl"].endswith(f"/fhir/Appointment/{ids(first)[0]}")


def _bearer(user) -> dict[str, str]:
    pair = issue_tokens(user=user, second_factor=needs_second_factor(user))
    return {"HTTP_AUTHORIZATION": f"Bearer {pair.access}"}


@pytest.mark.parametrize(
    ("path", "params", "status", "code"),
    [
        ("Appointment", {"colour": "red"}, 400, "not-supported"),
        ("Appointment", {"date": "yesterday"}, 400, "invalid"),
        ("Appointment", {"date": "2026-13-01"}, 400, "invalid"),
        ("Appointment", {"date": "ne2026-12-01"}, 400, "not-supported"),
        ("Appointment", {"status": "arrived"}, 400, "invalid"),
        ("Appointment", {"patient": "Practitioner/1"}, 400, "invalid"),
        ("Appointment", {"patient": "abc"}, 400, "invalid"),
        ("Appointment", {"patient": ""}, 400, "invalid"),
        ("Appointment", {"_count": "0"}, 400, "invalid"),
        ("Appointment", {"_count": "1000"}, 400, "invalid"),
        ("Appointment", {"_offset": "-1"}, 400, "invalid"),
        ("Appointment", {"date:missing": "true"}, 400, "not-supported"),
        ("Patient", {"name": ["a", "b"]}, 400, "invalid"),
        ("Slot", {}, 400, "too-costly"),
        ("Slot", {"start": "ge2026-01-01"}, 400, "too-costly"),
        ("Slot", {"start": "2026"}, 400, "too-costly"),
        ("Observation", {}, 404, "not-supported"),
        ("Patient/abc", {}, 404, "not-found"),
        ("Patient/1", {"_format": "xml"}, 406, "not-supported"),
        ("Appointment", {"_format": "xml"}, 406, "not-supported"),
    ],
)
def test_bad_input_is_a_4xx_operation_outcome(
    client, front_desk, clinic, path, params, status, code
) -> None:
    assert outcome(fhir(client, path, front_desk, **params), status) == code


def test_errors_speak_the_callers_language(client, front_desk, clinic) -> None:
    pair = issue_tokens(user=front_desk, second_factor=True)
    response = client.get(
        "/fhir/Appointment",
        {"colour": "red"},
        HTTP_AUTHORIZATION=f"Bearer {pair.access}",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert "不支持" in valid(response, 400)["issue"][0]["diagnostics"]


def test_only_get_is_served(client, front_desk, clinic) -> None:
    response = client.post(
        "/fhir/Patient", {}, content_type="application/fhir+json", **_bearer(front_desk)
    )
    assert outcome(response, 405) == "not-supported"


def test_a_page_costs_the_same_queries_however_many_it_holds(client, clinic_admin, clinic) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    headers = _bearer(clinic_admin)
    for path in ("Appointment", "Encounter", "Patient", "Schedule"):
        counts = []
        for count in (1, 5):
            client.get(f"/fhir/{path}", {"_count": count}, **headers)  # caches warm
            with CaptureQueriesContext(connection) as queries:
                valid(client.get(f"/fhir/{path}", {"_count": count}, **headers))
            counts.append(len(queries))
        assert counts[0] == counts[1], (path, counts)
