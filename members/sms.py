"""Text messages (SMS) through a pluggable backend, chosen by ``MEDBOOK_SMS_BACKEND``.

The embedded default logs each text instead of sending it, so a tester reads the code from the
log. A backend for a real provider implements :class:`SMSBackend` and is named in the setting.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from medbook.personal_data import mask_phone

logger = logging.getLogger("medbook.sms")


@dataclass(frozen=True)
class TextMessage:
    phone: str  # E.164
    body: str


class SMSBackend(ABC):
    """Sends a text. A provider's backend subclasses this and raises an exception when the
    provider refuses the text (the delivery job then retries)."""

    @abstractmethod
    def send(self, message: TextMessage) -> None: ...


class LogSMSBackend(SMSBackend):
    """Writes the text to the ``medbook.sms`` log (the number masked) instead of sending it."""

    def send(self, message: TextMessage) -> None:
        logger.info("SMS to %s: %s", mask_phone(message.phone), message.body)


@cache
def _backend(path: str) -> SMSBackend:
    return import_string(path)()


@receiver(setting_changed)
def _reset(**kwargs: object) -> None:
    if kwargs.get("setting") == "MEDBOOK_SMS_BACKEND":
        _backend.cache_clear()


def send_sms(*, phone: str, body: str) -> None:
    """Send ``body`` to ``phone`` with the clinic's signature (【MedBook】...)."""
    text = f"【{settings.MEDBOOK_SMS_SIGNATURE}】{body}"
    _backend(settings.MEDBOOK_SMS_BACKEND).send(TextMessage(phone=phone, body=text))
