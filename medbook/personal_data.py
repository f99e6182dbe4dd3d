"""Validation, normalisation and masking of phone numbers and national ID numbers."""

from __future__ import annotations

import datetime as dt
import re

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
ID_PATTERN = re.compile(r"^\d{17}[\dX]$")


MOBILE_TYPES = (
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
)


def _not_a_mobile(region: str) -> ValidationError:
    if region == "CN":
        return ValidationError(_("Enter an 11-digit mobile number."), code="invalid_phone")
    return ValidationError(_("Enter a valid mobile number."), code="invalid_phone")


def normalize_phone(raw: str, *, region: str | None = None) -> str:
    """Return the number in E.164 (+8613812345678) or raise ValidationError.

    Only mobile numbers of the clinic's region (MEDBOOK_PHONE_REGION, mainland China by
    default) are accepted: codes are texted to them, and a landline (01012345678) or another
    country's number cannot receive one."""
    region = region or settings.MEDBOOK_PHONE_REGION
    text = (raw or "").strip()
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise _not_a_mobile(region) from exc
    if (
        not phonenumbers.is_valid_number(number)
        or phonenumbers.region_code_for_number(number) != region
        or phonenumbers.number_type(number) not in MOBILE_TYPES
    ):
        raise _not_a_mobile(region)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(phone: str | None) -> str:
    """138****1234 for Chinese mobiles; the middle digits hidden for other numbers."""
    if not phone:
        return ""
    digits = phone[3:] if phone.startswith("+86") else phone.lstrip("+")
    if len(digits) <= 4:
        return "*" * len(digits)
    keep_head = 3 if len(digits) >= 11 else max(1, len(digits) - 8)
    return digits[:keep_head] + "*" * (len(digits) - keep_head - 4) + digits[-4:]


def mask_name(name: str | None) -> str:
    """王*明 for names shown in public (the waiting-room screen): the first and last characters
    kept, the rest hidden; 王* for a two-character name."""
    name = (name or "").strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def normalize_national_id(raw: str) -> str:
    return (raw or "").strip().upper()


def validate_national_id(raw: str) -> str:
    """Validate a mainland resident ID number (GB 11643-1999) and return it normalised."""
    value = normalize_national_id(raw)
    if not ID_PATTERN.match(value):
        raise ValidationError(
            _("An ID number has 18 characters: 17 digits and a final digit or X."),
            code="invalid_national_id",
        )
    total = sum(int(digit) * weight for digit, weight in zip(value[:17], ID_WEIGHTS, strict=True))
    if ID_CHECK_CHARS[total % 11] != value[17]:
        raise ValidationError(
            _("This ID number is not valid: its check digit does not match."),
            code="invalid_national_id",
        )
    try:
        birth = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError as exc:
        raise ValidationError(
            _("This ID number is not valid: it holds no real date of birth."),
            code="invalid_national_id",
        ) from exc
    if birth.year < 1900 or birth > timezone.localdate():
        raise ValidationError(
            _("This ID number is not valid: it holds no real date of birth."),
            code="invalid_national_id",
        )
    return value


def national_id_check_char(first17: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11]


def mask_national_id(value: str | None) -> str:
    """110105********1234."""
    if not value:
        return ""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]
