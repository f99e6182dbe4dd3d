"""Writes of the members app: registration and the points ledger."""

from __future__ import annotations

import datetime as dt
import uuid

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from medbook.personal_data import normalize_phone, validate_national_id

from .models import (
    Gender,
    Member,
    MemberLevel,
    Message,
    MessageKind,
    PointsEntry,
    PointsReason,
    User,
)
from .selectors import member_by_phone


@transaction.atomic
def register_member(
    *,
    name: str,
    phone: str,
    password: str | None = None,
    national_id: str = "",
    gender: str = Gender.UNDISCLOSED,
    birth_date: dt.date | None = None,
    phone_verified: bool = False,
    now: dt.datetime | None = None,
) -> Member:
    """Create a login and a member at the lowest level. Raises ValidationError on bad input."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Please enter your name.")})
    phone = normalize_phone(phone)
    national_id = validate_national_id(national_id) if national_id else ""
    if member_by_phone(phone) is not None:
        raise ValidationError({"phone": _("This mobile number is already registered.")})
    level = MemberLevel.objects.order_by("level").first()
    if level is None:
        raise ValidationError(_("No membership levels are set up yet."))
    user = User.objects.create_user(username=f"member-{uuid.uuid4().hex[:16]}", password=password)
    member = Member(
        user=user,
        name=name,
        phone=phone,
        phone_verified=phone_verified,
        national_id=national_id,
        gender=gender,
        birth_date=birth_date,
        level=level,
        registered_at=now or timezone.now(),
    )
    try:
        with transaction.atomic():
            member.save()
    except IntegrityError as exc:
        if "national_id" in str(exc):
            raise ValidationError(
                {"national_id": _("This ID number is already registered.")}
            ) from exc
        raise ValidationError({"phone": _("This mobile number is already registered.")}) from exc
    return member


def set_verified_phone(*, member: Member, phone: str) -> Member:
    """Store ``phone`` as the member's confirmed number (a code sent to it was entered).

    Raises ValidationError when the number is invalid or another member has it.
    """
    phone = normalize_phone(phone)
    other = member_by_phone(phone)
    if other is not None and other.pk != member.pk:
        raise ValidationError({"phone": _("This mobile number is already registered.")})
    member.phone = phone
    member.phone_verified = True
    try:
        with transaction.atomic():
            member.save(update_fields=["phone", "phone_index", "phone_verified"])
    except IntegrityError as exc:
        raise ValidationError({"phone": _("This mobile number is already registered.")}) from exc
    return member


@transaction.atomic
def add_points(
    *,
    member: Member,
    delta: int,
    reason: PointsReason,
    note: str = "",
    reference: str = "",
    by: User | None = None,
    now: dt.datetime | None = None,
) -> PointsEntry:
    """Append a ledger entry and move the balance with it; raise the level when it is reached.

    The balance never goes below zero and always equals the sum of the ledger.
    """
    if delta == 0:
        raise ValidationError(_("A points change cannot be zero."))
    member = Member.objects.select_for_update().get(pk=member.pk)
    balance = member.points_balance + delta
    if balance < 0:
        raise ValidationError(
            _("The member has only %(points)d points.") % {"points": member.points_balance}
        )
    entry = PointsEntry.objects.create(
        member=member,
        delta=delta,
        balance_after=balance,
        reason=reason,
        note=note[:200],
        reference=reference[:64],
        created_by=by,
        created_at=now or timezone.now(),
    )
    member.points_balance = balance
    update_fields = ["points_balance"]
    reached = MemberLevel.objects.filter(min_points__lte=balance).order_by("-level").first()
    if reached is not None and reached.level > member.level.level:
        member.level = reached
        update_fields.append("level")
    member.save(update_fields=update_fields)
    if "level" in update_fields:
        send_message(
            member=member,
            kind=MessageKind.LEVEL_UP,
            title=_("You are now a %(level)s member") % {"level": reached.name},
            body=_(
                "With %(points)d points you have reached %(level)s. Your new privileges apply "
                "from now on."
            )
            % {"points": balance, "level": reached.name},
            reference=f"points:{entry.pk}",
            now=entry.created_at,
        )
    return entry


def adjust_points(*, member: Member, delta: int, note: str, by: User) -> PointsEntry:
    """A staff correction of a member's points: needs the permission and a reason."""
    if not by.has_perm("members.adjust_points"):
        raise PermissionDenied(_("You may not adjust points."))
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("Please give the reason for this adjustment.")})
    entry = add_points(member=member, delta=delta, reason=PointsReason.ADJUSTMENT, note=note, by=by)
    send_message(
        member=member,
        kind=MessageKind.POINTS,
        title=_("Your points were adjusted: %(delta)+d") % {"delta": delta},
        body=_("Reason: %(note)s. Your balance is now %(balance)d points.")
        % {"note": note, "balance": entry.balance_after},
        reference=f"points:{entry.pk}",
    )
    return entry


def send_message(
    *,
    member: Member,
    kind: MessageKind,
    title: str,
    body: str,
    reference: str = "",
    now: dt.datetime | None = None,
) -> Message:
    """Write an in-app message (站内信) to a member."""
    return Message.objects.create(
        member=member,
        kind=kind,
        title=title[:100],
        body=body,
        reference=reference[:64],
        created_at=now or timezone.now(),
    )
