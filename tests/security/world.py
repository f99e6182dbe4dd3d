"""The people and the objects the permission tests visit, built in one place: the permission
matrix and the checks that walk it (tests/security) use the ``world`` fixture here (import
``matrix_world``); the staff
console's and the portal's access tests build the same world for their own people."""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from appointments.models import Schedule
from appointments.services import check_in_appointment, set_release_reminder
from members.models import MemberLevel
from members.patients import add_patient
from members.services import send_message
from tests.appointments import factories as appointments
from tests.appointments.factories import ScheduleFactory
from tests.billing import factories as billing
from tests.conftest import enable_totp, started_ago
from tests.members.factories import UserFactory
from tests.members.patient_ids import resident_id
from tests.security.matrix import ROLES

CHILD_BORN = dt.date(2016, 1, 2)


def running_since() -> dt.datetime:
    """When a session of today that is under way began: half an hour ago, or at midnight if
    that was yesterday (a run just after midnight in Shanghai)."""
    return started_ago(dt.timedelta(minutes=30))


def session_under_way(doctor) -> Schedule:
    """``doctor``'s free session today: it began half an hour ago (at midnight, in the first
    half hour of the clinic's day: it must be today's) and runs until midnight."""
    start = running_since()
    return ScheduleFactory(
        doctor=doctor,
        date=start.date(),
        start_time=start.time().replace(microsecond=0),
        end_time=dt.time(23, 59, 59),
        fee=0,
        release_at=timezone.now() - dt.timedelta(days=2),
    )


def build_world(people: dict, member, doctor_user) -> dict:
    """``people`` (role -> login, None for the anonymous visitor) and the objects they visit,
    by their primary keys: the doctor's session under way (``today_schedule``) with member A
    checked in (``a_today``), A's unpaid booking of a ¥60 session (``a_future``, its order's
    ``out_trade_no``), a message to A, A's child (``patient``), a free session anyone may
    book (``open_schedule``), and one open tomorrow that A asked to be reminded of
    (``later_schedule``, ``reminder``)."""
    today = session_under_way(doctor_user.doctor)
    a_today = appointments.book(member, today, now=today.starts_at - dt.timedelta(hours=1))
    check_in_appointment(appointment=a_today)
    a_future = billing.book(member, ScheduleFactory(fee=Decimal("60.00")))
    # Released, open to the public (and to member A's level) tomorrow: A asked to be reminded.
    later = ScheduleFactory(
        release_at=timezone.now() + dt.timedelta(days=1),
        date=timezone.localdate() + dt.timedelta(days=5),
    )
    return {
        "people": people,
        "doctor": doctor_user.doctor.pk,
        "department": today.doctor.department.code,
        "today_schedule": today.pk,
        "open_schedule": ScheduleFactory(fee=0).pk,
        "a_today": a_today.pk,
        "a_future": a_future.pk,
        "later_schedule": later.pk,
        "reminder": set_release_reminder(member=member, schedule=later).pk,
        "out_trade_no": a_future.order.out_trade_no,
        "message": send_message(member=member, kind="booked", title="t", body="b").pk,
        "patient": add_patient(
            member=member, name="张小明", relation="child", id_number=resident_id(CHILD_BORN)
        ).pk,
        "member_a": member.pk,
        "level": MemberLevel.objects.first().pk,
    }


def finished_export(requester, settings, folder) -> str:
    """A finished export of ``requester`` (a small CSV, in ``folder``): its token."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import storages

    from reports.models import Export

    settings.STORAGES = {
        **settings.STORAGES,
        "exports": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(folder)},
        },
    }
    token = secrets.token_urlsafe(32)
    name = storages["exports"].save(f"{token}/bookings.csv", ContentFile(b"\xef\xbb\xbfa\r\n"))
    Export.objects.create(
        token=token,
        requester=requester,
        dashboard="bookings",
        kind="tables",
        format="csv",
        fingerprint="matrix",
        masked=not requester.has_perm("members.view_personal_data"),
        status="done",
        progress=100,
        file=name,
        file_name="bookings.csv",
        expires_at=timezone.now() + dt.timedelta(days=1),
    )
    return token


def webhook_objects(clinic_admin) -> dict:
    """A webhook subscription with one delivery (of a made-up event)."""
    import uuid

    from medbook.models import WebhookDelivery, WebhookEvent, WebhookSubscription

    subscription = WebhookSubscription.objects.create(
        url="https://93.184.216.34/hook", events=["appointment.booked"], secret="whsec_matrix"
    )
    event = WebhookEvent.objects.create(id=uuid.uuid4(), type="appointment.booked")
    delivery = WebhookDelivery.objects.create(
        event=event, subscription=subscription, status="failed", give_up_at=timezone.now()
    )
    return {"webhook": subscription.pk, "webhook_delivery": (subscription.pk, delivery.pk)}


def patient_of(member) -> int:
    """A parent of ``member`` with an ID number the verification sandbox matches."""
    from members.patients import add_patient

    return add_patient(
        member=member, name="张伟", relation="parent", id_number="310104199003051239"
    ).pk


def visit_record_of(member, doctor_user, patient_id: int) -> int:
    """A record the doctor wrote at a visit of ``member``'s patient today (its own session)."""
    from members.models import Patient
    from tests.records.factories import written

    return written(member, doctor_user, patient=Patient.objects.get(pk=patient_id)).pk


@pytest.fixture(name="world")
def matrix_world(member, other_member, front_desk, doctor_user, clinic_admin, settings, tmp_path):
    """``world``, the permission matrix's: its ROLES, and every object a route of it takes."""
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    enable_totp(superuser)
    logins = [None, member.user, other_member.user, front_desk, doctor_user, clinic_admin]
    people = dict(zip(ROLES, [*logins, superuser], strict=True))
    world = build_world(people, member, doctor_user)
    patient_a = patient_of(member)
    world = world | {
        **webhook_objects(clinic_admin),
        **waitlist_objects(member, world["patient"]),
        "patient_a": patient_a,
        "visit_record": visit_record_of(member, doctor_user, patient_a),
        "export": finished_export(clinic_admin, settings, tmp_path / "exports"),
        "front_desk_user": front_desk.pk,
        "gateway": "sandbox",
        "sms_provider": _receipts_on(settings),
        "done": "done",
        "key": "abc",
        "uid_key": ("1", "abc"),
        "agreement_kind": _agreements_accepted_by(member, other_member),
    }
    return world | fhir_objects(world)


def fhir_objects(world: dict) -> dict:
    """The FHIR routes' arguments (resource type, id) for the world's objects."""
    from appointments.models import Appointment

    today = Appointment.objects.get(pk=world["a_today"])
    return {
        "fhir_patients": "Patient",
        "fhir_appointments": "Appointment",
        "fhir_encounters": "Encounter",
        "fhir_practitioners": "Practitioner",
        "fhir_conditions": "Condition",
        "fhir_patient": ("Patient", world["patient"]),
        "fhir_patient_today": ("Patient", today.patient_id),
        "fhir_appointment": ("Appointment", world["a_today"]),
        "fhir_encounter": ("Encounter", world["a_today"]),  # checked in: a visit under way
        "fhir_other_appointment": ("Appointment", world["a_future"]),  # another doctor's
        "fhir_condition": ("Condition", world["visit_record"]),  # A's patient, the doctor's
        "fhir_practitioner": ("Practitioner", world["doctor"]),
        "fhir_schedule": ("Schedule", world["today_schedule"]),
        "fhir_slot": ("Slot", f"{world['today_schedule']}-1"),
    }


def _receipts_on(settings) -> str:
    """Receipts accepted (with a token the matrix does not send: each role is refused)."""
    settings.MEDBOOK_SMS_RECEIPT_TOKEN = "matrix-receipt-token-0123456789abcdef"
    return "aliyun"


def waitlist_objects(member, patient_id: int) -> dict:
    """Two sold-out sessions (booked by a third member): on one, A's child waits and holds
    the offer of the slot just freed (``waitlist_offer``); the other (``full_schedule``) may
    be joined."""
    from appointments.services import join_waitlist
    from billing.services import cancel_booking
    from members.models import Patient
    from tests.members.factories import MemberFactory

    third = MemberFactory(level=member.level)
    full, offered = ScheduleFactory(capacity=1), ScheduleFactory(capacity=1)
    billing.book(third, full)
    holder = billing.book(third, offered)
    entry = join_waitlist(
        member=member,
        schedule=Schedule.objects.get(pk=offered.pk),
        patient=Patient.objects.get(pk=patient_id),
    )
    cancel_booking(appointment=holder, by=third.user, reason="plans changed")
    return {"full_schedule": full.pk, "waitlist_offer": entry.pk}


def _agreements_accepted_by(*members) -> str:
    """Every agreement published, and accepted by members A and B (so that their pages are
    not the consent page); the kind whose public page the matrix visits."""
    from tests.members.agreements import consent, publish_all

    publish_all()
    for member in members:
        consent(member.user)
    return "terms"


def route_url(name: str, arg: str | None, world: dict) -> str:
    """The address of route ``name``, with the world's object ``arg`` as its argument."""
    if name == "admin:*":
        return reverse(arg)
    if arg is None:
        return reverse(name)
    value = world[arg]
    return reverse(name, args=list(value) if isinstance(value, tuple) else [value])


def client_as(world: dict, role: str) -> Client:
    """A new browser, logged in as ``role``'s person of the world (none for anonymous)."""
    client = Client()
    if world["people"][role] is not None:
        client.force_login(world["people"][role])
    return client
