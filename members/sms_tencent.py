"""Tencent Cloud (腾讯云) SMS: ``SendSms``, API 3.0 version 2021-01-11, a JSON POST signed with
TC3-HMAC-SHA256 (``medbook.tencentcloud``, the signer FaceID uses too) in the region
``MEDBOOK_TENCENT_SMS_REGION``. The body names the application (SmsSdkAppId), the approved
signature (SignName), the template (TemplateId) and its parameters in order
(TemplateParamSet), and the number in E.164 (PhoneNumberSet).

The answer is ``{"Response": {"SendStatusSet": [{"SerialNo", "PhoneNumber", "Code": "Ok",
"Message", …}], "RequestId"}}``, or ``{"Response": {"Error": {"Code", "Message"}, …}}`` when the
call failed as a whole (signature, keys, parameters, throttling). A number's own Code other
than ``Ok`` is a refusal of that text. Internal errors and frequency limits are worth another
try; the rest are final. Delivery receipts name the SerialNo (``members.receipts``).
"""

from __future__ import annotations

import json
import time
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from medbook import tencentcloud

from .sms import SMSBackend, SMSError, TextMessage, template_for, templates

SERVICE = "sms"
ACTION = "SendSms"
VERSION = "2021-01-11"
RETRYABLE_PREFIXES = (
    "InternalError",
    "RequestLimitExceeded",
    "LimitExceeded.DeliveryFrequencyLimit",
    "LimitExceeded.PhoneNumberThirtySecondLimit",
    "LimitExceeded.PhoneNumberOneHourLimit",
)


def retryable(code: str) -> bool:
    return code.startswith(RETRYABLE_PREFIXES)


class TencentSMSBackend(SMSBackend):
    name = "tencent"

    def __init__(self) -> None:
        self.secret_id = settings.MEDBOOK_TENCENT_SECRET_ID
        self.secret_key = settings.MEDBOOK_TENCENT_SECRET_KEY
        self.app_id = settings.MEDBOOK_TENCENT_SMS_APP_ID
        if not (self.secret_id and self.secret_key and self.app_id):
            raise ImproperlyConfigured(
                "MEDBOOK_SMS_BACKEND=tencent needs MEDBOOK_TENCENT_SECRET_ID, "
                "MEDBOOK_TENCENT_SECRET_KEY and MEDBOOK_TENCENT_SMS_APP_ID."
            )
        self.url = settings.MEDBOOK_TENCENT_SMS_URL
        self.host = urlsplit(self.url).netloc
        self.region = settings.MEDBOOK_TENCENT_SMS_REGION
        self.timeout = settings.MEDBOOK_SMS_TIMEOUT_SECONDS
        self.templates = templates()

    def payload(self, message: TextMessage) -> bytes:
        template_id, values = template_for(message, self.templates)
        body = {
            "PhoneNumberSet": [message.phone],
            "SmsSdkAppId": self.app_id,
            "SignName": settings.MEDBOOK_SMS_SIGNATURE,
            "TemplateId": template_id,
            "TemplateParamSet": [value for _name, value in values],
        }
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def send(self, message: TextMessage) -> str:
        payload = self.payload(message)
        headers = tencentcloud.signed_headers(
            secret_id=self.secret_id,
            secret_key=self.secret_key,
            host=self.host,
            payload=payload,
            timestamp=int(time.time()),
            action=ACTION,
            version=VERSION,
            service=SERVICE,
        )
        headers["X-TC-Region"] = self.region
        try:
            answer = requests.post(self.url, data=payload, headers=headers, timeout=self.timeout)
        except requests.Timeout as exc:
            raise SMSError("timeout", f"no answer within {self.timeout}s", retryable=True) from exc
        except requests.RequestException as exc:
            raise SMSError("unreachable", type(exc).__name__, retryable=True) from exc
        try:
            response = answer.json()["Response"]
            error = response.get("Error")
            status = None if error else response["SendStatusSet"][0]
            if not isinstance(error or status, dict):
                raise TypeError("no Error or SendStatusSet object")
        except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
            code = answer.status_code
            raise SMSError(
                f"http_{code}",
                "the answer is not the API's JSON",
                retryable=code >= 500 or code == 429,
            ) from exc
        result = error or status
        code = str(result.get("Code") or "")
        if error or code != "Ok":
            raise SMSError(code, str(result.get("Message") or ""), retryable=retryable(code))
        return str(status.get("SerialNo") or "")
