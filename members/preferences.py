"""Members' channel preferences: every message stays in the inbox; a member chooses which
categories they also get by text, and whether they get messages by e-mail (when they gave an
address). Security texts (codes) are not messages and always go out.

The clinic's ``MEDBOOK_TEXT_MESSAGE_KINDS`` says which kinds may be texted at all; the member's
choice narrows that.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from medbook import audit

from .channel_models import ChannelPreferences
from .models import Member, MessageKind

# Preference field → the message kinds it covers (kinds not named here follow the clinic's
# setting alone).
SMS_CATEGORIES: dict[str, frozenset[str]] = {
    "sms_reminders": frozenset({MessageKind.REMINDER}),
    "sms_appointments": frozenset(
        {
            MessageKind.BOOKED,
            MessageKind.PAID,
            MessageKind.CANCELLED,
            MessageKind.REFUNDED,
            MessageKind.SUSPENDED,
            MessageKind.NO_SHOW,
            MessageKind.RESCHEDULED,
        }
    ),
    "sms_membership": frozenset({MessageKind.LEVEL_UP, MessageKind.POINTS}),
}
FIELDS = (*SMS_CATEGORIES, "email")


@dataclass(frozen=True)
class Choices:
    sms_reminders: bool = True
    sms_appointments: bool = True
    sms_membership: bool = True
    email: bool = True


def preferences_of(*, member: Member) -> Choices:
    """The member's choices (every channel on until they chose)."""
    row = ChannelPreferences.objects.filter(member=member).first()
    if row is None:
        return Choices()
    return Choices(**{name: getattr(row, name) for name in FIELDS})


def wants_text(*, choices: Choices, kind: str) -> bool:
    return all(getattr(choices, name) for name, kinds in SMS_CATEGORIES.items() if kind in kinds)


def offered_categories(*, texted_kinds: set[str]) -> list[str]:
    """The text categories worth asking about: those with a kind the clinic texts."""
    return [name for name, kinds in SMS_CATEGORIES.items() if kinds & texted_kinds]


def opted_out() -> Q:
    """Messages whose member turned texting their kind off (a filter on Message)."""
    refused = Q(pk__in=[])
    for name, kinds in SMS_CATEGORIES.items():
        refused |= Q(kind__in=kinds, **{f"member__channel_preferences__{name}": False})
    return refused


@transaction.atomic
def set_preferences(
    *,
    member: Member,
    choices: Choices,
    email: str | None = None,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> Choices:
    """Save the member's choices (and their e-mail address when given: "" removes it)."""
    now = now or timezone.now()
    values = {name: getattr(choices, name) for name in FIELDS}
    ChannelPreferences.objects.update_or_create(
        member=member, defaults={**values, "updated_at": now}
    )
    if email is not None and email != member.user.email:
        member.user.email = email
        member.user.save(update_fields=["email"])
    audit.record(
        actor=member.user, action="member.channel_preferences", target=member, request=request
    )
    return choices
