"""The confirm page and the API book for a patient (就诊人) the member chooses: the holder by
default, a relative when named; another account's patient is a 400 that writes nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from appointments.models import Appointment
from members.models import Patient, Relation
from members.patients import add_patient, self_patient
from tests.api.helpers import call, pair_for
from tests.appointments.factories import ScheduleFactory
from tests.members.factories import MemberFactory, resident_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def family(levels, client):
    member = MemberFactory(name="王建华", level=levels["金卡"])
    child = add_patient(
        member=member, name="王小明", relation=Relation.CHILD, id_number=resident_id()
    )
    client.force_login(member.user)
    return member, child


def test_the_confirm_page_offers_the_accounts_patients_the_holder_first(client, family) -> None:
    member, child = family
    schedule = ScheduleFactory()
    url = reverse("billing:book", args=[schedule.pk])

    page = client.get(url).content.decode()
    assert "为谁预约" in page or "Who is the appointment for" in page
    assert page.index("王建华") < page.index("王小明")
    assert f'name="patient" value="{self_patient(member=member).pk}"' in page

    chosen = client.get(url, {"patient": child.pk}).content.decode()
    assert f'name="patient" value="{child.pk}"' in chosen


def test_booking_for_the_child_names_the_child_and_the_account_pays(client, family) -> None:
    member, child = family
    schedule = ScheduleFactory()

    response = client.post(reverse("billing:book", args=[schedule.pk]), {"patient": child.pk})

    assert response.status_code == 302
    appointment = Appointment.objects.get()
    assert appointment.patient == child and appointment.member == member
    assert appointment.order.member == member


@pytest.mark.parametrize("value", ["stranger", "999999999", "abc"])
def test_a_patient_of_another_account_or_nonsense_is_a_400_and_books_nothing(
    client, family, value
) -> None:
    stranger = MemberFactory()
    theirs = add_patient(
        member=stranger, name="李四", relation=Relation.PARENT, id_number=resident_id("19600101")
    )
    schedule = ScheduleFactory()
    patient = theirs.pk if value == "stranger" else value

    response = client.post(reverse("billing:book", args=[schedule.pk]), {"patient": patient})

    assert response.status_code == 400
    assert "请选择您的就诊人" in response.content.decode() or "choose one of your patients" in (
        response.content.decode()
    )
    assert not Appointment.objects.exists()
    schedule.refresh_from_db()
    assert schedule.booked == 0


def test_the_api_books_for_a_patient_and_names_it(client, family) -> None:
    member, child = family
    token = pair_for(member.user).access
    schedule = ScheduleFactory()

    response = call(
        client, "post", "appointments", {"schedule": schedule.pk, "patient": child.pk}, token=token
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["patient"] == {
        "id": child.pk,
        "name": "王小明",
        "relation": "child",
        "relation_label": "Child",
    }
    holder = call(client, "post", "appointments", {"schedule": schedule.pk}, token=token).json()
    assert holder["patient"]["relation"] == "self"


def test_the_api_refuses_another_accounts_patient_with_a_400(client, family) -> None:
    member, _child = family
    stranger = MemberFactory()
    schedule = ScheduleFactory()
    token = pair_for(member.user).access

    response = call(
        client,
        "post",
        "appointments",
        {"schedule": schedule.pk, "patient": self_patient(member=stranger).pk},
        token=token,
    )

    assert response.status_code == 400
    assert "patient" in response.json()["error"]["fields"], response.json()
    assert not Appointment.objects.exists()


def test_an_older_account_without_its_holder_patient_gets_it_first(client, family) -> None:
    member, _child = family
    Patient.objects.filter(member=member, relation=Relation.SELF).delete()
    schedule = ScheduleFactory()

    page = client.get(reverse("billing:book", args=[schedule.pk])).content.decode()

    holder = self_patient(member=member)
    assert f'name="patient" value="{holder.pk}"' in page  # the default is the holder
    assert page.index("王建华") < page.index("王小明")
