"""A member with some of everything: patients, a paid and refunded booking, points, messages,
consents — for the export and erasure tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from billing.models import Refund
from billing.services import cancel_booking, carry_out_refund
from medbook.personal_data import national_id_check_char
from members.models import Gender, IdType, Member, PointsReason, Relation
from members.patients import add_patient, ensure_self_patient
from members.services import add_points, register_member, send_message
from tests.billing.factories import paid_order
from tests.members.agreements import consent, publish_all

PASSWORD = "Kq7!medbook-2026"


def resident_id(first17: str) -> str:
    return first17 + national_id_check_char(first17)


@dataclass
class Person:
    member: Member
    name: str
    phone: str  # as typed, 11 digits
    national_id: str
    child_name: str
    child_id: str
    baby_name: str
    guardian_id: str


def person_with_history(
    *, name: str, phone: str, id17: str, child: str, child_id17: str, baby: str
) -> Person:
    """A member with their own patient record, a child with an ID, a baby without one (the
    member its guardian), a paid booking cancelled and refunded, points, a message and the
    consents to every published agreement."""
    national_id = resident_id(id17)
    member = register_member(
        name=name,
        phone=phone,
        password=PASSWORD,
        national_id=national_id,
        phone_verified=True,
        birth_date=dt.date(1985, 6, 1),
    )
    ensure_self_patient(member=member)
    child_id = resident_id(child_id17)
    add_patient(member=member, name=child, relation=Relation.CHILD, id_number=child_id)
    add_patient(
        member=member,
        name=baby,
        relation=Relation.CHILD,
        id_type=IdType.NONE,
        gender=Gender.FEMALE,
        birth_date=dt.date.today() - dt.timedelta(days=400),
        guardian_name=name,
        guardian_id_number=national_id,
    )
    order = paid_order(member, fee="80.00")
    cancel_booking(appointment=order.appointment, by=member.user, reason="行程有变")
    for refund in Refund.objects.filter(order=order, status="requested"):
        carry_out_refund(refund_id=refund.pk)
    add_points(member=member, delta=30, reason=PointsReason.ADJUSTMENT, note="活动赠送")
    send_message(member=member, kind="booked", title=f"{name}的预约", body=f"{name}，您好")
    consent(member.user)
    return Person(
        member=Member.objects.get(pk=member.pk),
        name=name,
        phone=phone,
        national_id=national_id,
        child_name=child,
        child_id=child_id,
        baby_name=baby,
        guardian_id=national_id,
    )


def two_people() -> tuple[Person, Person]:
    publish_all()
    a = person_with_history(
        name="陈晓明",
        phone="13912345678",
        id17="11010519850601001",
        child="陈小雨",
        child_id17="11010520150301002",
        baby="陈安安",
    )
    b = person_with_history(
        name="王芳芳",
        phone="13800138000",
        id17="31010419800101002",
        child="王小宝",
        child_id17="31010420160101003",
        baby="王安安",
    )
    return a, b
