"""Text messages (SMS) through a pluggable backend, chosen by ``MEDBOOK_SMS_BACKEND``.

The embedded default logs each text instead of sending it, so a tester reads the code from the
log. ``aliyun`` (``members.sms_aliyun``) and ``tencent`` (``members.sms_tencent``) send through
the providers' APIs; any other backend implements :class:`SMSBackend` and is named by its
dotted path.

Providers in China send approved templates, not free text: each text MedBook sends has a key
(a security text below, or a message kind) and named parameters; ``MEDBOOK_SMS_TEMPLATES`` maps
the keys to the provider's template ids (and, optionally, which parameters in which order). The
log backend writes the whole rendered text instead.

Every attempt is recorded (``SendRecord``: provider, its id, outcome, error, timings). A provider
refusal is an :class:`SMSError` saying whether trying again may help; any other exception from a
backend (a network error) is taken as worth another try.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from medbook.personal_data import mask_phone

from .channel_models import Channel, SendRecord, SendStatus

logger = logging.getLogger("medbook.sms")
notify_logger = logging.getLogger("medbook.notify")  # failures, not texts

# Security texts (always sent, whatever the member's preferences) and their parameters; the
# texts of in-app messages are keyed by the message's kind and have MESSAGE_PARAMS.
VERIFICATION_CODE = "verification_code"
LOGIN_CODE = "login_code"
PASSWORD_RESET_CODE = "password_reset_code"  # noqa: S105 (a text, not a secret)
ACCOUNT_EXISTS = "account_exists"
NO_ACCOUNT = "no_account"
SECURITY_PARAMS: dict[str, tuple[str, ...]] = {
    VERIFICATION_CODE: ("code",),
    LOGIN_CODE: ("code",),
    PASSWORD_RESET_CODE: ("code",),
    ACCOUNT_EXISTS: (),
    NO_ACCOUNT: (),
}
MESSAGE_PARAMS = ("title", "body")
# What the send records call the security texts and the providers (admin, in the reader's
# language); a message kind's text is called by the kind's name.
SECURITY_TEXT_NAMES = {
    VERIFICATION_CODE: _("Verification code"),
    LOGIN_CODE: _("Sign-in code"),
    PASSWORD_RESET_CODE: _("Password reset code"),
    ACCOUNT_EXISTS: _("Notice: the number already has an account"),
    NO_ACCOUNT: _("Notice: the number has no account"),
}
PROVIDER_NAMES = {
    "log": _("Written to the log (not sent)"),
    "aliyun": _("Alibaba Cloud SMS"),
    "tencent": _("Tencent Cloud SMS"),
    "email": _("E-mail"),
    "custom": _("The clinic's own provider"),
}

BACKENDS = {
    "log": "members.sms.LogSMSBackend",
    "aliyun": "members.sms_aliyun.AliyunSMSBackend",
    "tencent": "members.sms_tencent.TencentSMSBackend",
}
# A backend reads these settings once; a change (tests) makes a new one.
SETTINGS_PREFIXES = ("MEDBOOK_SMS_", "MEDBOOK_ALIYUN_", "MEDBOOK_TENCENT_")
SECURITY_TRIES = 3  # a code is tried this often at once (it is short-lived), then given up


@dataclass(frozen=True)
class TextMessage:
    phone: str  # E.164
    body: str  # the whole text, signature included (what the log backend writes)
    template: str = ""  # the text's key: a security text or a message kind
    params: Mapping[str, str] = field(default_factory=dict)


class SMSError(Exception):
    """The provider refused the text (or could not be reached); ``retryable`` says whether a
    later try may succeed (throttling, a server error) or not (a wrong key, a bad number)."""

    def __init__(self, code: str, message: str = "", *, retryable: bool) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code[:64]
        self.message = message[:200]
        self.retryable = retryable


class SMSBackend(ABC):
    """Sends a text. A provider's backend subclasses this, returns the provider's id of the
    text (its delivery receipt names it) and raises SMSError when the provider refuses."""

    name = "custom"

    @abstractmethod
    def send(self, message: TextMessage) -> str | None: ...


class LogSMSBackend(SMSBackend):
    """Writes the text to the ``medbook.sms`` log (the number masked) instead of sending it."""

    name = "log"

    def send(self, message: TextMessage) -> None:
        logger.info("SMS to %s: %s", mask_phone(message.phone), message.body)


@dataclass(frozen=True)
class Template:
    id: str
    params: tuple[str, ...]


def templates() -> dict[str, Template]:
    """``MEDBOOK_SMS_TEMPLATES`` read: key → provider's template id and its parameters. A key
    is a security text or a message kind; a value is the id, or ``{"id": …, "params": […]}``
    to choose the parameters (and their order: Tencent's are positional)."""
    from .models import MessageKind

    parameters = {**SECURITY_PARAMS, **dict.fromkeys(MessageKind.values, MESSAGE_PARAMS)}
    found: dict[str, Template] = {}
    for key, value in settings.MEDBOOK_SMS_TEMPLATES.items():
        if key not in parameters:
            raise ImproperlyConfigured(f"MEDBOOK_SMS_TEMPLATES: unknown text {key!r}")
        if isinstance(value, str):
            found[key] = Template(id=value, params=parameters[key])
            continue
        names = value.get("params", parameters[key]) if isinstance(value, dict) else None
        if (
            not isinstance(value, dict)
            or not isinstance(value.get("id"), str)
            or not isinstance(names, list | tuple)
            or not set(names) <= set(parameters[key])
        ):
            raise ImproperlyConfigured(
                f"MEDBOOK_SMS_TEMPLATES[{key!r}] must be a template id or "
                f'{{"id": …, "params": […]}} with params among {list(parameters[key])}'
            )
        found[key] = Template(id=value["id"], params=tuple(names))
    missing = set(SECURITY_PARAMS) - set(found)
    if missing:
        raise ImproperlyConfigured(
            f"MEDBOOK_SMS_TEMPLATES needs a template for {', '.join(sorted(missing))}"
        )
    return found


def template_for(
    message: TextMessage, templates: Mapping[str, Template]
) -> tuple[str, list[tuple[str, str]]]:
    """The provider's template id for ``message`` and its parameters as (name, value) pairs;
    SMSError (final) when the clinic has no template for it."""
    template = templates.get(message.template)
    if template is None:
        raise SMSError("template_missing", f"no template for {message.template!r}", retryable=False)
    return template.id, [(name, str(message.params.get(name, ""))) for name in template.params]


@cache
def _backend(path: str) -> SMSBackend:
    return import_string(BACKENDS.get(path, path))()


@receiver(setting_changed)
def _reset(**kwargs: object) -> None:
    if str(kwargs.get("setting")).startswith(SETTINGS_PREFIXES):
        _backend.cache_clear()


def backend() -> SMSBackend:
    return _backend(settings.MEDBOOK_SMS_BACKEND)


def signed(body: str) -> str:
    """``body`` with the clinic's signature (【MedBook】...), as the member reads it."""
    return f"【{settings.MEDBOOK_SMS_SIGNATURE}】{body}"


def send_text(
    *,
    phone: str,
    body: str,
    template: str,
    params: Mapping[str, str] | None = None,
    message_id: int | None = None,
) -> SendRecord:
    """One recorded attempt to text ``phone``. Returns the record (sent); raises SMSError, or
    whatever the backend raised, after recording the failure."""
    sender = backend()
    record = SendRecord.objects.create(
        channel=Channel.SMS,
        purpose=template,
        message_id=message_id,
        recipient=mask_phone(phone),
        provider=sender.name,
    )
    text = TextMessage(phone=phone, body=signed(body), template=template, params=params or {})
    try:
        provider_id = sender.send(text)
    except SMSError as exc:
        error = without_phone(exc.message, phone)
        _finish(record, SendStatus.FAILED, code=exc.code, error=error, retry=exc.retryable)
        raise
    except Exception as exc:
        error = without_phone(str(exc), phone)
        _finish(record, SendStatus.FAILED, code=type(exc).__name__, error=error, retry=True)
        raise
    _finish(record, SendStatus.SENT, provider_id=provider_id or "")
    return record


def _finish(
    record: SendRecord,
    status: str,
    *,
    provider_id: str = "",
    code: str = "",
    error: str = "",
    retry: bool = False,
) -> None:
    record.status = status
    record.provider_id = provider_id[:64]
    record.error_code = code[:64]
    record.error_message = error[:200]
    record.retryable = retry
    record.finished_at = timezone.now()
    record.save(
        update_fields=[
            "status",
            "provider_id",
            "error_code",
            "error_message",
            "retryable",
            "finished_at",
        ]
    )


def without_phone(text: str, phone: str) -> str:
    """``text`` with the number masked (providers' errors may quote it)."""
    if phone:
        for form in (phone, phone.lstrip("+"), phone.removeprefix("+86")):
            text = text.replace(form, mask_phone(phone))
    return text


def send_sms(
    *, phone: str, body: str, template: str, params: Mapping[str, str] | None = None
) -> bool:
    """Text a security text (a code, a warning) to ``phone`` now: tried again at once, up to
    SECURITY_TRIES times, while the provider's error may pass. Never raises (the page asking
    for a code says it was sent either way; the member may ask again); False when not sent."""
    for attempt in range(SECURITY_TRIES):
        try:
            send_text(phone=phone, body=body, template=template, params=params)
            return True
        except SMSError as exc:
            error = str(exc)
            if not exc.retryable:
                break
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
        if attempt + 1 < SECURITY_TRIES:
            time.sleep(0.2 * 2**attempt)
    notify_logger.warning("SMS %s to %s not sent: %s", template, mask_phone(phone), error)
    return False
