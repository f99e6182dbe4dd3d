"""A member's copy of their personal data (PIPL's right of access and portability).

One ZIP: ``data.json`` with every section, and one CSV per section (UTF-8 with BOM, so that
spreadsheet programs read the Chinese text). The numbers are given in full: it is the member's
own data, downloaded by them over their logged-in session, and the download is logged.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from appointments.models import Appointment
from billing.models import Order, Refund
from medbook import audit, throttle
from members.consent import Consent
from members.models import Member, Message, Patient, PointsEntry
from records import selectors as records_selectors

from .exceptions import TooManyExports

Rows = list[dict[str, Any]]
EXPORT_SCOPE = "privacy:export"
DAY = 24 * 3600


def _profile(member: Member) -> Rows:
    return [
        {
            "id": member.pk,
            "name": member.name,
            "phone": member.phone,
            "phone_verified": member.phone_verified,
            "national_id": member.national_id,
            "gender": member.gender,
            "birth_date": member.birth_date,
            "level": member.level.name,
            "points_balance": member.points_balance,
            "registered_at": member.registered_at,
            "last_login": member.user.last_login,
        }
    ]


def _patients(member: Member) -> Rows:
    return [
        {
            "id": patient.pk,
            "name": patient.name,
            "relation": patient.relation,
            "id_type": patient.id_type,
            "id_number": patient.id_number,
            "gender": patient.gender,
            "birth_date": patient.birth_date,
            "phone": patient.phone,
            "guardian_name": patient.guardian_name,
            "guardian_id_number": patient.guardian_id_number,
            "verified_at": patient.verified_at,
            "created_at": patient.created_at,
            "removed_at": patient.removed_at,
        }
        for patient in Patient.objects.filter(member=member).order_by("pk")
    ]


def _appointments(member: Member) -> Rows:
    rows = Appointment.objects.filter(member=member).select_related(
        "schedule__doctor__department", "patient"
    )
    return [
        {
            "id": appointment.pk,
            "patient": appointment.patient.name if appointment.patient_id else "",
            "department": appointment.schedule.doctor.department.name,
            "doctor": appointment.schedule.doctor.name,
            "date": appointment.schedule.date,
            "start_time": appointment.schedule.start_time,
            "queue_number": appointment.queue_number,
            "status": appointment.status,
            "channel": appointment.channel,
            "fee": appointment.fee,
            "booked_at": appointment.created_at,
            "confirmed_at": appointment.confirmed_at,
            "checked_in_at": appointment.checked_in_at,
            "completed_at": appointment.completed_at,
            "cancelled_at": appointment.cancelled_at,
            "cancel_reason": appointment.cancel_reason,
        }
        for appointment in rows.order_by("pk")
    ]


def _orders(member: Member) -> Rows:
    return [
        {
            "order_number": order.out_trade_no,
            "appointment": order.appointment_id,
            "payment_method": order.gateway,
            "fee": order.original_amount,
            "price_factor": order.discount_rate,
            "amount": order.amount,
            "refunded": order.refunded_amount,
            "status": order.status,
            "created_at": order.created_at,
            "paid_at": order.paid_at,
            "closed_at": order.closed_at,
        }
        for order in Order.objects.filter(member=member).order_by("pk")
    ]


def _refunds(member: Member) -> Rows:
    rows = Refund.objects.filter(order__member=member).select_related("order")
    return [
        {
            "refund_number": refund.out_refund_no,
            "order_number": refund.order.out_trade_no,
            "amount": refund.amount,
            "reason": refund.reason,
            "status": refund.status,
            "requested_at": refund.created_at,
            "refunded_at": refund.completed_at,
        }
        for refund in rows.order_by("pk")
    ]


def _points(member: Member) -> Rows:
    return [
        {
            "time": entry.created_at,
            "change": entry.delta,
            "balance_after": entry.balance_after,
            "reason": entry.reason,
            "note": entry.note,
            "reference": entry.reference,
        }
        for entry in PointsEntry.objects.filter(member=member).order_by("created_at", "pk")
    ]


def _messages(member: Member) -> Rows:
    return [
        {
            "time": message.created_at,
            "kind": message.kind,
            "subject": message.subject,
            "message": message.text,
            "read_at": message.read_at,
        }
        for message in Message.objects.filter(member=member).order_by("created_at", "pk")
    ]


def _consents(member: Member) -> Rows:
    return [
        {
            "document": consent.kind,
            "version": consent.version,
            "accepted_at": consent.accepted_at,
            "ip": consent.ip,
        }
        for consent in Consent.objects.filter(user_id=member.user_id).order_by("accepted_at")
    ]


def _visit_records(member: Member) -> Rows:
    return records_selectors.records_for_export(member=member)


SECTIONS = {
    "profile": _profile,
    "patients": _patients,
    "appointments": _appointments,
    "visit_records": _visit_records,
    "orders": _orders,
    "refunds": _refunds,
    "points": _points,
    "messages": _messages,
    "consents": _consents,
}


def member_data(*, member: Member) -> dict[str, Rows]:
    """Every section of ``member``'s data, rows of plain values (the member's own only)."""
    member = Member.objects.select_related("level", "user").get(pk=member.pk)
    return {name: section(member) for name, section in SECTIONS.items()}


def _csv(rows: Rows) -> bytes:
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow({key: _cell(value) for key, value in row.items()})
    return ("\ufeff" + out.getvalue()).encode()


def _cell(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).isoformat() if timezone.is_aware(value) else value
    if isinstance(value, str) and value[:1] in {"=", "+", "-", "@"}:
        return "'" + value  # a spreadsheet must not run a cell as a formula
    return value


def export_zip(*, data: dict[str, Rows], now: dt.datetime) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        document = {"exported_at": now, "clinic": settings.MEDBOOK_SMS_SIGNATURE, **data}
        archive.writestr(
            "data.json",
            json.dumps(document, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
        )
        for name, rows in data.items():
            archive.writestr(f"{name}.csv", _csv(rows))
    return buffer.getvalue()


@transaction.atomic
def export_member_data(
    *, member: Member, request: HttpRequest | None = None, now: dt.datetime | None = None
) -> tuple[str, bytes]:
    """The member's data as a ZIP and its file name. At most MEDBOOK_DATA_EXPORTS_PER_DAY a
    day (TooManyExports, 429): each is a full read of their rows. Logged as
    ``privacy.export`` with the row counts."""
    now = now or timezone.now()
    if not throttle.allow(
        scope=EXPORT_SCOPE,
        who=str(member.pk),
        rate=f"{settings.MEDBOOK_DATA_EXPORTS_PER_DAY}/{DAY}",
    ):
        raise TooManyExports()
    data = member_data(member=member)
    audit.record(
        actor=member.user,
        action="privacy.export",
        target=member,
        detail={name: len(rows) for name, rows in data.items()},
        request=request,
    )
    filename = f"medbook-data-{timezone.localtime(now):%Y%m%d-%H%M}.zip"
    return filename, export_zip(data=data, now=now)
