"""Aliyun (阿里云) Short Message Service: ``SendSms`` of Dysmsapi, API version 2017-05-25, an
RPC-style call signed with HMAC-SHA1 (signature version 1.0), done here with hmac/hashlib:

* the parameters (the common ones — AccessKeyId, Action, Format, RegionId, SignatureMethod
  ``HMAC-SHA1``, SignatureNonce, SignatureVersion ``1.0``, Timestamp ``YYYY-MM-DDThh:mm:ssZ``,
  Version — and SendSms's PhoneNumbers, SignName, TemplateCode, TemplateParam as JSON) are
  percent-encoded (RFC 3986: space ``%20``, ``*`` ``%2A``, ``~`` kept), sorted by name and
  joined ``name=value`` with ``&``;
* StringToSign = ``POST&%2F&`` + that string, percent-encoded once more;
* Signature = Base64 of HMAC-SHA1 over StringToSign with the key ``AccessKeySecret + "&"``,
  posted as the form field ``Signature`` with the rest.

The answer is ``{"Code": "OK", "BizId": …, "RequestId": …}``; any other Code is a refusal
(HTTP 200 for business errors such as ``isv.MOBILE_NUMBER_ILLEGAL``, 4xx/5xx for the API's own
such as ``SignatureDoesNotMatch``). Throttling and system errors are worth another try; the
rest (keys, signature, template, number) are final. Delivery receipts name the BizId
(``members.receipts``).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import uuid
from urllib.parse import quote

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .sms import SMSBackend, SMSError, TextMessage, template_for, templates

VERSION = "2017-05-25"
RETRYABLE = {
    "isv.BUSINESS_LIMIT_CONTROL",  # the number's per-minute/hour flow control
    "isp.SYSTEM_ERROR",
    "ServiceUnavailable",
    "InternalError",
    "SignatureNonceUsed",  # a new nonce next time
}


def percent_encode(value: str) -> str:
    return quote(value, safe="-_.~")


def string_to_sign(params: dict[str, str], method: str = "POST") -> str:
    canonical = "&".join(
        f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items())
    )
    return f"{method}&{percent_encode('/')}&{percent_encode(canonical)}"


def signature(params: dict[str, str], secret: str, method: str = "POST") -> str:
    digest = hmac.new(
        f"{secret}&".encode(), string_to_sign(params, method).encode(), hashlib.sha1
    ).digest()
    return base64.b64encode(digest).decode()


def phone_number(e164: str) -> str:
    """Aliyun's spelling: a mainland number without +86, others with their country code."""
    return e164.removeprefix("+86") if e164.startswith("+86") else e164.lstrip("+")


def retryable(code: str) -> bool:
    return code in RETRYABLE or code.startswith("Throttling")


class AliyunSMSBackend(SMSBackend):
    name = "aliyun"

    def __init__(self) -> None:
        self.key_id = settings.MEDBOOK_ALIYUN_ACCESS_KEY_ID
        self.secret = settings.MEDBOOK_ALIYUN_ACCESS_KEY_SECRET
        if not (self.key_id and self.secret):
            raise ImproperlyConfigured(
                "MEDBOOK_SMS_BACKEND=aliyun needs MEDBOOK_ALIYUN_ACCESS_KEY_ID and "
                "MEDBOOK_ALIYUN_ACCESS_KEY_SECRET."
            )
        self.url = settings.MEDBOOK_ALIYUN_SMS_URL
        self.timeout = settings.MEDBOOK_SMS_TIMEOUT_SECONDS
        self.templates = templates()

    def params(self, message: TextMessage) -> dict[str, str]:
        template_id, values = template_for(message, self.templates)
        return {
            "AccessKeyId": self.key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "RegionId": "cn-hangzhou",
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "Timestamp": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": VERSION,
            "PhoneNumbers": phone_number(message.phone),
            "SignName": settings.MEDBOOK_SMS_SIGNATURE,
            "TemplateCode": template_id,
            "TemplateParam": json.dumps(dict(values), ensure_ascii=False, separators=(",", ":")),
        }

    def send(self, message: TextMessage) -> str:
        params = self.params(message)
        params["Signature"] = signature(params, self.secret)
        try:
            answer = requests.post(self.url, data=params, timeout=self.timeout)
        except requests.Timeout as exc:
            raise SMSError("timeout", f"no answer within {self.timeout}s", retryable=True) from exc
        except requests.RequestException as exc:
            raise SMSError("unreachable", type(exc).__name__, retryable=True) from exc
        try:
            body = answer.json()
            code = str(body["Code"])
        except (ValueError, KeyError, TypeError) as exc:
            status = answer.status_code
            raise SMSError(
                f"http_{status}",
                "the answer is not the API's JSON",
                retryable=status >= 500 or status == 429,
            ) from exc
        if code != "OK":
            raise SMSError(code, str(body.get("Message") or ""), retryable=retryable(code))
        return str(body.get("BizId") or "")
