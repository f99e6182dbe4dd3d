"""Writes of the members app: registration, password reset, the points ledger, messages."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from medbook import audit, outbox
from medbook.errors import Forbidden, Invalid
from medbook.models import Outcome
from medbook.personal_data import normalize_phone, validate_national_id

from . import codes, message_templates, sms
from .exceptions import NationalIdTaken, NoLevels, PhoneTaken, PointsRefused, WrongCode
from .message_templates import LEGACY, localized
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
from .selectors import (
    NOT_QUALIFYING,
    level_by_rule,
    member_by_phone,
    members_with_level_drift,
    qualifying_points,
)
from .sms import send_sms
from .unverified import expire_unverified_signups


def _valid(validator, value: str, *, field: str) -> str:
    """``validator(value)``; its refusal as the domain error on ``field``."""
    try:
        return validator(value)
    except ValidationError as exc:
        raise Invalid(" ".join(exc.messages), field=field) from exc


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
    """Create a login and a member at the lowest level. Raises a DomainError on bad input."""
    name = (name or "").strip()
    if not name:
        raise Invalid(_("Please enter your name."), field="name")
    phone = _valid(normalize_phone, phone, field="phone")
    national_id = (
        _valid(validate_national_id, national_id, field="national_id") if national_id else ""
    )
    expire_unverified_signups(phone=phone, now=now)
    if member_by_phone(phone) is not None:
        raise PhoneTaken()
    level = MemberLevel.objects.order_by("level").first()
    if level is None:
        raise NoLevels()
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
            raise NationalIdTaken() from exc
        raise PhoneTaken() from exc
    from .patients import ensure_self_patient  # patients build on this module's members

    ensure_self_patient(member=member)
    return member


def set_verified_phone(*, member: Member, phone: str) -> Member:
    """Store ``phone`` as the member's confirmed number (a code sent to it was entered).

    Raises a DomainError when the number is invalid or another member has it.
    """
    phone = _valid(normalize_phone, phone, field="phone")
    other = member_by_phone(phone)
    if other is not None and other.pk != member.pk:
        raise PhoneTaken()
    member.phone = phone
    member.phone_verified = True
    try:
        with transaction.atomic():
            member.save(update_fields=["phone", "phone_index", "phone_verified"])
    except IntegrityError as exc:
        raise PhoneTaken() from exc
    return member


# -- sign-up by texted code (the API's; the web's goes through allauth's phone verification) ----

SIGNUP_PURPOSE = "signup"


def normalized_phone(*, phone: str) -> str:
    """``phone`` in E.164, or Invalid on the field ``phone``."""
    return _valid(normalize_phone, phone, field="phone")


def send_signup_code(*, phone: str) -> str:
    """Text a sign-up code to ``phone`` (any spelling; returned in E.164). A number that is
    registered already gets the text the web's sign-up sends it instead (someone tried to sign
    up with it), so the answer tells nobody who is a patient here. Rate limits are the
    caller's (the same allauth limit as the web's codes)."""
    phone = _valid(normalize_phone, phone, field="phone")
    expire_unverified_signups(phone=phone)
    if member_by_phone(phone) is not None:
        send_sms(
            phone=phone,
            body=_(
                "Someone tried to sign up with this number, which already has an account. "
                "If that was you, log in or reset your password."
            ),
            template=sms.ACCOUNT_EXISTS,
        )
        return phone
    code = codes.issue_code(purpose=SIGNUP_PURPOSE, subject=phone)
    send_sms(
        phone=phone,
        body=_("Your verification code is %(code)s, valid for 10 minutes. Do not share it.")
        % {"code": code},
        template=sms.VERIFICATION_CODE,
        params={"code": code},
    )
    return phone


@transaction.atomic
def register_member_by_code(
    *, name: str, phone: str, password: str, code: str, now: dt.datetime | None = None
) -> Member:
    """Create a member whose number is confirmed by the code texted to it (single use); the
    password is validated by the caller. Raises WrongCode (also for a number that got no code,
    such as a registered one) or the refusals of :func:`register_member`."""
    phone = _valid(normalize_phone, phone, field="phone")
    if not codes.check_code(purpose=SIGNUP_PURPOSE, subject=phone, code=code):
        raise WrongCode()
    return register_member(name=name, phone=phone, password=password, phone_verified=True, now=now)


# -- changing the number by texted code (the API's; the web's goes through allauth's change-phone
# flow, which keeps its state in the browser's session) -------------------------------------------

PHONE_CHANGE_PURPOSE = "phone-change"


def send_phone_change_code(*, member: Member, phone: str) -> str:
    """Text a code to ``phone``, the number ``member`` wants instead of theirs; the number does
    not change until the code comes back (:func:`change_phone_by_code`). As on the web, a number
    another account has gets the text the web sends it (someone tried to use it) and no code, and
    the answer is the same, so it tells nobody whose number is registered. Returns ``phone`` in
    E.164. Rate limits are the caller's (the web's: per login, per number, per address)."""
    phone = _valid(normalize_phone, phone, field="phone")
    if phone == member.phone:
        raise Invalid(_("This is your number already."), field="phone")
    other = member_by_phone(phone)
    if other is not None:
        send_sms(
            phone=phone,
            body=_(
                "Someone tried to sign up with this number, which already has an account. "
                "If that was you, log in or reset your password."
            ),
            template=sms.ACCOUNT_EXISTS,
        )
        return phone
    code = codes.issue_code(purpose=PHONE_CHANGE_PURPOSE, subject=f"{member.pk}:{phone}")
    send_sms(
        phone=phone,
        body=_("Your verification code is %(code)s, valid for 10 minutes. Do not share it.")
        % {"code": code},
        template=sms.VERIFICATION_CODE,
        params={"code": code},
    )
    return phone


@transaction.atomic
def change_phone_by_code(
    *, member: Member, phone: str, code: str, request: HttpRequest | None = None
) -> Member:
    """Make ``phone`` the member's confirmed number with the code texted to it for this member
    (single use). Raises WrongCode (also for a number that got no code, such as another
    account's) or PhoneTaken. Logged as ``member.phone_change``."""
    phone = _valid(normalize_phone, phone, field="phone")
    if not codes.check_code(
        purpose=PHONE_CHANGE_PURPOSE, subject=f"{member.pk}:{phone}", code=code
    ):
        raise WrongCode()
    set_verified_phone(member=member, phone=phone)
    audit.record(actor=member.user, action="member.phone_change", target=member, request=request)
    return member


# -- password reset by texted code ----------------------------------------------------------------

RESET_PURPOSE = "password-reset"


def send_password_reset_code(*, phone: str) -> Member | None:
    """Text a password reset code to the member registered with ``phone`` (any spelling);
    any earlier code stops working. A number nobody has gets no text. Returns the member, or
    None. Rate limits are the caller's (the page counts requests per number)."""
    member = member_by_phone(phone)
    if member is None:
        return None
    code = codes.issue_code(purpose=RESET_PURPOSE, subject=str(member.pk))
    send_sms(
        phone=member.phone,
        body=_(
            "Your password reset code is %(code)s, valid for 10 minutes. If you did "
            "not ask for it, ignore this text."
        )
        % {"code": code},
        template=sms.PASSWORD_RESET_CODE,
        params={"code": code},
    )
    return member


@transaction.atomic
def reset_password(
    *, member: Member | None, code: str, password: str, request: HttpRequest | None = None
) -> Member:
    """Set a new password with the code texted to the member (single use). ``password`` is
    validated by the caller's form. Every other session of the login ends with the old
    password (the session hash). Logged as ``member.password_reset``.

    Raises WrongCode when the code is wrong, used up or expired, and alike when ``member`` is
    None (the number was nobody's)."""
    if member is None or not codes.check_code(
        purpose=RESET_PURPOSE, subject=str(member.pk), code=code
    ):
        raise WrongCode()
    user = member.user
    user.set_password(password)
    user.save(update_fields=["password"])
    audit.record(actor=user, action="member.password_reset", target=member, request=request)
    return member


# A staff adjustment moves at most this many points either way; more is a typing error.
MAX_POINTS_ADJUSTMENT = 100_000
# What the points columns hold (PostgreSQL integer).
MAX_POINTS = 2**31 - 1


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
    """Append a ledger entry, move the balance with it, and apply the level rule.

    The balance never goes below zero and always equals the sum of the ledger. The level
    follows the rule (``selectors.level_by_rule`` of the qualifying points, see
    ``_apply_level_rule``); a points change never sets a level the rule does not give.
    """
    if delta == 0:
        raise PointsRefused(_("A points change cannot be zero."))
    member = Member.objects.select_for_update().select_related("level").get(pk=member.pk)
    balance = member.points_balance + delta
    if balance < 0:
        raise PointsRefused(
            _("The member has only %(points)d points.") % {"points": member.points_balance}
        )
    if balance > MAX_POINTS or abs(delta) > MAX_POINTS:
        raise PointsRefused(_("A points balance cannot exceed %(max)d.") % {"max": MAX_POINTS})
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
    member.save(update_fields=["points_balance"])
    if reason not in NOT_QUALIFYING:
        _apply_level_rule(
            member=member, raised=delta > 0, reference=f"points:{entry.pk}", now=entry.created_at
        )
    return entry


def _apply_level_rule(
    *, member: Member, raised: bool, reference: str = "", now: dt.datetime | None = None
) -> bool:
    """Put a locked ``member`` at the level the rule gives for their qualifying points.

    The rule: the highest level whose threshold the qualifying points (every ledger line but
    redemptions) reach. Points earned only ever raise a level (``raised``); a correction or
    reversal that takes points back recomputes it both ways; spending points leaves it. A level
    set by staff (``level_grant``) stands until the rule gives a higher one. Tells the member
    when their level changes. Returns whether it did.
    """
    points = qualifying_points(member=member)
    by_rule = level_by_rule(points=points)
    before = member.level
    update_fields = ["level"]
    if member.level_grant_id is not None:
        if by_rule.level <= member.level_grant.level:
            return False
        member.level_grant = None  # the rule overtook the level staff set
        update_fields.append("level_grant")
    elif by_rule.pk == before.pk or (raised and by_rule.level < before.level):
        return False  # points earned never lower a level
    member.level = by_rule
    member.save(update_fields=update_fields)
    send_message(
        member=member,
        kind=MessageKind.LEVEL_UP,
        template="level.up" if by_rule.level > before.level else "level.changed",
        params={
            "points": points,
            "level": localized(lambda: by_rule.local_name),
            "before": localized(lambda: before.local_name),
        },
        reference=reference,
        now=now,
    )
    return True


@transaction.atomic
def change_level_terms(
    *, level: MemberLevel, changes: dict[str, object], by: User, request=None
) -> int:
    """Staff edit a level's terms (validated by the caller's form); logged. A new points
    threshold moves the members it concerns to the level the rule now gives. Returns how many
    members moved."""
    for name, value in changes.items():
        setattr(level, name, value)
    level.save(update_fields=list(changes))
    audit.record(
        actor=by,
        action="level.change",
        target=level,
        detail={name: str(value) for name, value in changes.items()},
        request=request,
    )
    if "min_points" not in changes:
        return 0
    return apply_level_rule_to_all(by=by, request=request)


def apply_level_rule_to_all(*, by: User | None = None, request=None) -> int:
    """After a level's threshold changed: every member to the level the rule now gives (levels
    set by staff stay). Returns how many members changed level; logged when any did."""
    changed = 0
    # Only the members whose level the rule no longer gives (one query finds them), in
    # primary-key order.
    drifted = members_with_level_drift().filter(level_grant__isnull=True)
    for pk in list(drifted.values_list("pk", flat=True)):
        member = Member.objects.select_for_update(of=("self",)).select_related("level")
        changed += _apply_level_rule(member=member.get(pk=pk), raised=False)
    if changed and by is not None:
        audit.record(
            actor=by,
            action="member.apply_level_rule",
            target=None,
            detail={"changed": changed},
            request=request,
        )
    return changed


@transaction.atomic
def adjust_points(*, member: Member, delta: int, note: str, by: User, request=None) -> PointsEntry:
    """A staff correction of a member's points: needs the permission and a reason, at most
    MAX_POINTS_ADJUSTMENT either way; logged. The level follows the level rule."""
    if not by.has_perm("members.adjust_points"):
        raise Forbidden(_("You may not adjust points."))
    if abs(delta) > MAX_POINTS_ADJUSTMENT:
        raise Invalid(
            _(
                "An adjustment can move at most %(max)d points either way; for more, "
                "ask the clinic administrator."
            )
            % {"max": MAX_POINTS_ADJUSTMENT},
            field="delta",
        )
    note = (note or "").strip()
    if not note:
        raise Invalid(_("Please give the reason for this adjustment."), field="note")
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
        template="points.adjusted",
        params={"delta": delta, "note": note, "balance": entry.balance_after},
        reference=f"points:{entry.pk}",
    )
    return entry


DELIVERY_TASK = "members.tasks.deliver_message"


def send_message(
    *,
    member: Member,
    kind: MessageKind,
    title: str = "",
    body: str = "",
    template: str = LEGACY,
    params: dict[str, Any] | None = None,
    reference: str = "",
    now: dt.datetime | None = None,
) -> Message:
    """Write an in-app message (站内信) to a member; its text/e-mail go out once committed.

    Either ``template`` and ``params`` (members.message_templates: rendered in the reader's
    language whenever it is read) or, for a plain-text message, ``title`` and ``body``.
    """
    message = new_message(
        member_id=member.pk,
        kind=kind,
        title=title,
        body=body,
        template=template,
        params=params,
        reference=reference,
        now=now,
    )
    message.save(force_insert=True)
    # Promised with the message (medbook.outbox): a broker outage never loses its delivery.
    outbox.enqueue(DELIVERY_TASK, message.pk)
    return message


def new_message(
    *,
    member_id: int,
    kind: MessageKind,
    title: str = "",
    body: str = "",
    template: str = LEGACY,
    params: dict[str, Any] | None = None,
    reference: str = "",
    now: dt.datetime | None = None,
) -> Message:
    """The message :func:`send_message` writes, not yet saved (its title and body rendered in
    the clinic's language). Whoever saves it another way promises ``DELIVERY_TASK`` with it."""
    params = params or {}
    if template != LEGACY:
        message_templates.check(template, params)
        with translation.override(settings.LANGUAGE_CODE):
            title, body = message_templates.render(template, params)
    elif not title:
        raise ValueError("a plain-text message needs a title")
    return Message(
        member_id=member_id,
        kind=kind,
        template=template,
        params=params,
        title=title[:100],
        body=body,
        reference=reference[:64],
        created_at=now or timezone.now(),
    )


def set_language_preference(*, user: User, language: str) -> bool:
    """The member ``user`` (staff: nothing) reads in ``language`` from now on: their texts and
    e-mails are written in it. An unknown language changes nothing. True if it changed."""
    if language not in dict(settings.LANGUAGES):
        return False
    return bool(
        Member.objects.filter(user=user).exclude(language=language).update(language=language)
    )


@transaction.atomic
def mark_message_read(*, message: Message, now: dt.datetime) -> Message:
    """The member opened ``message`` (their own, looked up by the caller): read from ``now``,
    unless it was read before."""
    if message.read_at is None:
        message.read_at = now
        message.save(update_fields=["read_at"])
    return message


@transaction.atomic
def mark_all_messages_read(*, member: Member, now: dt.datetime) -> int:
    """Every unread message of ``member`` is read from ``now``. Returns how many were unread."""
    return Message.objects.filter(member=member, read_at__isnull=True).update(read_at=now)


# -- member service (staff) ------------------------------------------------------------------------


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_("Please give the reason."), field="reason")
    return reason[:200]


@transaction.atomic
def change_level(
    *, member: Member, level: MemberLevel, by: User, reason: str, request=None
) -> Member:
    """Staff move a member to another level (points stay as they are); logged and told.

    The level is recorded as set by staff (``level_grant``): points do not lower it, and it
    ends when the level rule gives a higher one. Setting the level the rule gives ends a grant.
    """
    if not by.has_perm("members.change_member_level"):
        raise Forbidden(_("You may not change members' levels."))
    reason = _reason(reason)
    member = Member.objects.select_for_update().get(pk=member.pk)
    before = member.level
    by_rule = level_by_rule(points=qualifying_points(member=member))
    grant = None if level.pk == by_rule.pk else level
    if before.pk == level.pk and member.level_grant_id == (grant.pk if grant else None):
        return member
    member.level = level
    member.level_grant = grant
    member.save(update_fields=["level", "level_grant"])
    if before.pk == level.pk:
        return member
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
        template="level.set_by_staff",
        params={
            "level": localized(lambda: level.local_name),
            "before": localized(lambda: before.local_name),
            "reason": reason,
        },
    )
    return member


@transaction.atomic
def lift_ban(
    *, member: Member, by: User, reason: str, request=None, now: dt.datetime | None = None
) -> Member:
    """Staff let a member book online again; earlier no-shows stop counting towards a ban."""
    if not by.has_perm("members.lift_ban"):
        raise Forbidden(_("You may not lift bans."))
    reason = _reason(reason)
    member = Member.objects.select_for_update().get(pk=member.pk)
    now = now or timezone.now()
    member.banned_until = None
    member.no_show_ban_lifted_at = now
    member.save(update_fields=["banned_until", "no_show_ban_lifted_at"])
    audit.record(actor=by, action="member.lift_ban", target=member, reason=reason, request=request)
    send_message(
        member=member,
        kind=MessageKind.NO_SHOW,
        template="ban.lifted",
        params={"reason": reason},
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
        raise Forbidden(_("You may not see full personal data."))
    reason = _reason(reason)
    audit.record(actor=by, action="member.unmask", target=member, reason=reason, request=request)
    return {"phone": member.phone, "national_id": member.national_id}
