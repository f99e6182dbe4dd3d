"""Writes of the members app: registration and the points ledger."""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from medbook import audit
from medbook.models import Outcome
from medbook.personal_data import normalize_phone, validate_national_id

from . import tasks
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


@transaction.atomic
def adjust_points(*, member: Member, delta: int, note: str, by: User, request=None) -> PointsEntry:
    """A staff correction of a member's points: needs the permission and a reason; logged."""
    if not by.has_perm("members.adjust_points"):
        raise PermissionDenied(_("You may not adjust points."))
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("Please give the reason for this adjustment.")})
    entry = add_points(member=member, delta=delta, reason=PointsReason.ADJUSTMENT, note=note, by=by)
    audit.record(
        actor=by,
        action="member.adjust_points",
        target=member,
        reason=note,
        detail={"delta": delta, "balance": entry.balance_after},
        request=request,
    )
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
    """Write an in-app message (站内信) to a member; its text/e-mail go out once committed."""
    message = Message.objects.create(
        member=member,
        kind=kind,
        title=title[:100],
        body=body,
        reference=reference[:64],
        created_at=now or timezone.now(),
    )

    def enqueue_delivery() -> None:
        # A broker outage must not break the business action: the row stays, and
        # tasks.deliver_pending_messages queues it again.
        try:
            tasks.deliver_message.delay(message.pk)
        except Exception as exc:
            logging.getLogger("medbook.notify").warning(
                "Could not queue delivery of message %s: %r", message.pk, exc
            )

    transaction.on_commit(enqueue_delivery)
    return message


# -- member service (staff) ------------------------------------------------------------------------


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Please give the reason.")})
    return reason[:200]


@transaction.atomic
def change_level(
    *, member: Member, level: MemberLevel, by: User, reason: str, request=None
) -> Member:
    """Staff move a member to another level (points stay as they are); logged and told."""
    if not by.has_perm("members.change_member_level"):
        raise PermissionDenied(_("You may not change members' levels."))
    reason = _reason(reason)
    member = Member.objects.select_for_update().get(pk=member.pk)
    before = member.level
    if before.pk == level.pk:
        return member
    member.level = level
    member.save(update_fields=["level"])
    audit.record(
        actor=by,
        action="member.change_level",
        target=member,
        reason=reason,
        detail={"from": before.name, "to": level.name},
        request=request,
    )
    send_message(
        member=member,
        kind=MessageKind.LEVEL_UP,
        title=_("Your membership level is now %(level)s") % {"level": level.name},
        body=_("The clinic changed your level from %(before)s to %(level)s. Reason: %(reason)s")
        % {"before": before.name, "level": level.name, "reason": reason},
    )
    return member


@transaction.atomic
def lift_ban(*, member: Member, by: User, reason: str, request=None) -> Member:
    """Staff let a member book online again; earlier no-shows stop counting towards a ban."""
    if not by.has_perm("members.lift_ban"):
        raise PermissionDenied(_("You may not lift bans."))
    reason = _reason(reason)
    member = Member.objects.select_for_update().get(pk=member.pk)
    now = timezone.now()
    member.banned_until = None
    member.no_show_ban_lifted_at = now
    member.save(update_fields=["banned_until", "no_show_ban_lifted_at"])
    audit.record(actor=by, action="member.lift_ban", target=member, reason=reason, request=request)
    send_message(
        member=member,
        kind=MessageKind.NO_SHOW,
        title=_("You can book online again"),
        body=_("The clinic lifted the pause on your online booking. Reason: %(reason)s")
        % {"reason": reason},
        now=now,
    )
    return member


def unmask_personal_data(*, member: Member, by: User, reason: str, request=None) -> dict[str, str]:
    """The full phone and ID number, for staff with the permission; every look is logged."""
    if not by.has_perm("members.view_personal_data"):
        audit.record(
            actor=by,
            action="member.unmask",
            target=member,
            reason=(reason or "")[:200],
            outcome=Outcome.DENIED,
            request=request,
        )
        raise PermissionDenied(_("You may not see full personal data."))
    reason = _reason(reason)
    audit.record(actor=by, action="member.unmask", target=member, reason=reason, request=request)
    return {"phone": member.phone, "national_id": member.national_id}
