"""Delivery of in-app messages by text (SMS) and e-mail; run by ``members.tasks``.

The kinds named in ``MEDBOOK_TEXT_MESSAGE_KINDS`` are texted to the member's phone; every kind is
e-mailed when the member's login has an address (``EMAIL_BACKEND``); the member's channel
preferences (``members.preferences``) narrow both. ``texted_at``/``emailed_at`` are claimed with
a conditional UPDATE before sending and released when the send fails, so neither a retry nor a
second worker sends the same channel twice. A worker killed in mid-send keeps its claim: a text
goes out at most once, never twice (the message itself stays in the inbox).

Every attempt is a ``SendRecord``. A refusal the provider calls final (a wrong key, a bad
number, no template) is not tried again: the message keeps no ``texted_at`` and its record
says why.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from functools import partial

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import send_mail
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone, translation
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from . import sms
from .channel_models import Channel, SendRecord, SendStatus
from .models import Message, MessageKind
from .preferences import opted_out, preferences_of, wants_text
from .sms import without_phone

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
    """The text of the SMS, in the active language (the member's, when delivered)."""
    title, body = message.rendered()
    text = _("%(title)s: %(body)s") % {"title": title, "body": body}
    return Truncator(text).chars(TEXT_LENGTH)


def text_params(message: Message) -> dict[str, str]:
    """The parameters of the message's SMS template (``members.sms.MESSAGE_PARAMS``)."""
    title, body = message.rendered()
    return {"title": title, "body": Truncator(body).chars(TEXT_LENGTH)}


class _Final(Exception):
    """A send the provider refused for good: recorded, not tried again."""


def _refused_for_good() -> Exists:
    return Exists(
        SendRecord.objects.filter(
            message=OuterRef("pk"),
            channel=Channel.SMS,
            status=SendStatus.FAILED,
            retryable=False,
        )
    )


def deliver_message(*, message_id: int) -> None:
    """Send the text and e-mail ``message_id`` is due and has not had yet.

    Raises DeliveryFailed when a send failed and may succeed later (after recording the
    attempt and the error).
    """
    message = (
        Message.objects.select_related("member__user")
        .annotate(refused=_refused_for_good())
        .filter(pk=message_id)
        .first()
    )
    if message is None:
        return
    member = message.member
    choices = preferences_of(member=member)
    sends: dict[str, Callable[[], object]] = {}
    if (
        message.texted_at is None
        and message.kind in text_kinds()
        and wants_text(choices=choices, kind=message.kind)
        and not message.refused
    ):
        sends["texted_at"] = partial(_text, message)
    if message.emailed_at is None and member.user.email and choices.email:
        sends["emailed_at"] = partial(_email, message)
    if not sends:
        return
    Message.objects.filter(pk=message.pk).update(delivery_attempts=F("delivery_attempts") + 1)
    outcomes = [_send_once(message, field, send) for field, send in sends.items()]
    error = without_phone("; ".join(e for e, _final in outcomes if e), member.phone)[:200]
    Message.objects.filter(pk=message.pk).update(delivery_error=error)
    if any(e and not final for e, final in outcomes):
        logger.warning("Message %s to %s not delivered: %s", message.pk, member.masked_phone, error)
        raise DeliveryFailed(error)
    if error:
        logger.warning(
            "Message %s to %s refused for good: %s", message.pk, member.masked_phone, error
        )
        return
    logger.info("Message %s delivered to %s", message.pk, member.masked_phone)


def _text(message: Message) -> None:
    with translation.override(message.member.language):  # the member's, not the worker's
        body, params = text_body(message), text_params(message)
    try:
        sms.send_text(
            phone=message.member.phone,
            body=body,
            template=message.kind,
            params=params,
            message_id=message.pk,
        )
    except sms.SMSError as exc:
        if not exc.retryable:
            raise _Final(str(exc)) from exc
        raise


def _email(message: Message) -> None:
    address = message.member.user.email
    local, _at, domain = address.partition("@")
    record = SendRecord.objects.create(
        channel=Channel.EMAIL,
        purpose=message.kind,
        message=message,
        recipient=f"{local[:1]}***@{domain}"[:64],
        provider="email",
    )
    with translation.override(message.member.language):
        subject, body = message.rendered()
    try:
        send_mail(subject, body, None, [address])
    except Exception as exc:
        record.status, record.retryable = SendStatus.FAILED, True
        record.error_code, record.error_message = type(exc).__name__, str(exc)[:200]
        record.finished_at = timezone.now()
        record.save(
            update_fields=["status", "retryable", "error_code", "error_message", "finished_at"]
        )
        raise
    record.status, record.finished_at = SendStatus.SENT, timezone.now()
    record.save(update_fields=["status", "finished_at"])


def _send_once(message: Message, field: str, send: Callable[[], object]) -> tuple[str, bool]:
    """Claim ``field``, send, and release the claim if the send fails; return the error (or
    "") and whether it is final."""
    claimed = Message.objects.filter(pk=message.pk, **{f"{field}__isnull": True}).update(
        **{field: timezone.now()}
    )
    if not claimed:  # another worker sent it meanwhile
        return "", False
    try:
        send()
    except Exception as exc:
        Message.objects.filter(pk=message.pk).update(**{field: None})
        channel = "SMS" if field == "texted_at" else "e-mail"
        if isinstance(exc, _Final):
            return f"{channel}: {exc}", True
        return f"{channel}: {type(exc).__name__}: {exc}", False
    return "", False


def pending_message_batches(
    *, now: dt.datetime | None = None, size: int = 500
) -> Iterator[list[int]]:
    """Ids of the last day's messages still due a text or e-mail, in batches of ``size``."""
    now = now or timezone.now()
    due = Q(kind__in=text_kinds(), texted_at__isnull=True, refused=False) & ~opted_out()
    due |= (
        Q(emailed_at__isnull=True)
        & ~Q(member__user__email="")
        & ~Q(member__channel_preferences__email=False)
    )
    pending = (
        Message.objects.annotate(refused=_refused_for_good())
        .filter(due, created_at__gte=now - RESEND_WINDOW, delivery_attempts__lt=MAX_ATTEMPTS)
        .order_by("pk")
    )
    last = 0
    while batch := list(pending.filter(pk__gt=last).values_list("pk", flat=True)[:size]):
        yield batch
        last = batch[-1]
