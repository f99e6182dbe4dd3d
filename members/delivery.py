"""Delivery of in-app messages by text (SMS) and e-mail; run by ``members.tasks``.

The kinds named in ``MEDBOOK_TEXT_MESSAGE_KINDS`` are texted to the member's phone; every kind is
e-mailed when the member's login has an address (``EMAIL_BACKEND``). ``texted_at``/``emailed_at``
are claimed with a conditional UPDATE before sending and released when the send fails, so neither
a retry nor a second worker sends the same channel twice. A worker killed in mid-send keeps its
claim: a text goes out at most once, never twice (the message itself stays in the inbox).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from functools import partial

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import send_mail
from django.db.models import F, Q
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from medbook.personal_data import mask_phone

from .models import Message, MessageKind
from .sms import send_sms

logger = logging.getLogger("medbook.notify")

MAX_ATTEMPTS = 8  # the periodic re-send gives up on a message after this many
RESEND_WINDOW = dt.timedelta(hours=24)
TEXT_LENGTH = 120  # characters before the clinic's signature


class DeliveryFailed(Exception):
    """A text or e-mail could not be sent; the task tries again later."""


def text_kinds() -> set[str]:
    kinds = set(settings.MEDBOOK_TEXT_MESSAGE_KINDS)
    unknown = kinds - set(MessageKind.values)
    if unknown:
        raise ImproperlyConfigured(
            f"MEDBOOK_TEXT_MESSAGE_KINDS names unknown kinds: {', '.join(sorted(unknown))}"
        )
    return kinds


def text_body(message: Message) -> str:
    text = _("%(title)s: %(body)s") % {"title": message.title, "body": message.body}
    return Truncator(text).chars(TEXT_LENGTH)


def deliver_message(*, message_id: int) -> None:
    """Send the text and e-mail ``message_id`` is due and has not had yet.

    Raises DeliveryFailed when a send failed (after recording the attempt and the error).
    """
    message = Message.objects.select_related("member__user").filter(pk=message_id).first()
    if message is None:
        return
    member = message.member
    sends: dict[str, Callable[[], object]] = {}
    if message.texted_at is None and message.kind in text_kinds():
        sends["texted_at"] = partial(send_sms, phone=member.phone, body=text_body(message))
    if message.emailed_at is None and member.user.email:
        sends["emailed_at"] = partial(
            send_mail, message.title, message.body, None, [member.user.email]
        )
    if not sends:
        return
    Message.objects.filter(pk=message.pk).update(delivery_attempts=F("delivery_attempts") + 1)
    errors = [_send_once(message, field, send) for field, send in sends.items()]
    error = _without_phone("; ".join(filter(None, errors)), member.phone)[:200]
    Message.objects.filter(pk=message.pk).update(delivery_error=error)
    if error:
        logger.warning("Message %s to %s not delivered: %s", message.pk, member.masked_phone, error)
        raise DeliveryFailed(error)
    logger.info("Message %s delivered to %s", message.pk, member.masked_phone)


def _send_once(message: Message, field: str, send: Callable[[], object]) -> str:
    """Claim ``field``, send, and release the claim if the send fails; return the error or ""."""
    claimed = Message.objects.filter(pk=message.pk, **{f"{field}__isnull": True}).update(
        **{field: timezone.now()}
    )
    if not claimed:  # another worker sent it meanwhile
        return ""
    try:
        send()
    except Exception as exc:
        Message.objects.filter(pk=message.pk).update(**{field: None})
        channel = "SMS" if field == "texted_at" else "e-mail"
        return f"{channel}: {type(exc).__name__}: {exc}"
    return ""


def _without_phone(text: str, phone: str) -> str:
    """``text`` with the member's number masked (providers' errors may quote it)."""
    if phone:
        for form in (phone, phone.lstrip("+"), phone.removeprefix("+86")):
            text = text.replace(form, mask_phone(phone))
    return text


def pending_message_batches(
    *, now: dt.datetime | None = None, size: int = 500
) -> Iterator[list[int]]:
    """Ids of the last day's messages still due a text or e-mail, in batches of ``size``."""
    now = now or timezone.now()
    due = Q(kind__in=text_kinds(), texted_at__isnull=True) | (
        Q(emailed_at__isnull=True) & ~Q(member__user__email="")
    )
    pending = Message.objects.filter(
        due, created_at__gte=now - RESEND_WINDOW, delivery_attempts__lt=MAX_ATTEMPTS
    ).order_by("pk")
    last = 0
    while batch := list(pending.filter(pk__gt=last).values_list("pk", flat=True)[:size]):
        yield batch
        last = batch[-1]
