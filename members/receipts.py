"""Delivery receipts (状态报告) of texts: the provider posts a JSON array of reports to
``/sms/receipts/<provider>/?token=<token>``; each names the provider's id of a text, and its record
becomes delivered or failed.

Neither provider signs its receipts (Aliyun's HTTP batch push and Tencent's status callback
post plain JSON to the address configured in their console), so the address itself carries a
secret, ``MEDBOOK_SMS_RECEIPT_TOKEN``, in its query string (which no log shows), compared in
constant time: a receipt without it is
refused. A report for a text MedBook does not know changes nothing (it is answered alike, so
the provider stops re-posting it). Reports are applied only to records still ``sent``, so a
report posted again changes nothing the second time.

* Aliyun (SmsReport): ``[{"biz_id", "success": true|false, "err_code": "DELIVERED",
  "err_msg", "report_time": "2017-01-01 00:00:00", "phone_number", "send_time", …}]``,
  answered ``{"code": 0, "msg": "接收成功"}``;
* Tencent: ``[{"sid", "report_status": "SUCCESS"|"FAIL", "errmsg": "DELIVRD", "description",
  "user_receive_time", "mobile", "nationcode"}]``, answered ``{"result": 0, "errmsg": "OK"}``.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from medbook.errors import Invalid

from .channel_models import SendRecord, SendStatus

PROVIDERS = {"aliyun", "tencent"}
ANSWERS = {
    "aliyun": {"code": 0, "msg": "接收成功"},
    "tencent": {"result": 0, "errmsg": "OK"},
}
MAX_REPORTS = 1000


@dataclass(frozen=True)
class Report:
    provider_id: str
    delivered: bool
    code: str
    message: str
    reported_at: dt.datetime | None


def token_ok(token: str) -> bool:
    expected = settings.MEDBOOK_SMS_RECEIPT_TOKEN
    return bool(expected) and hmac.compare_digest(token.encode(), expected.encode())


def _time(value: object) -> dt.datetime | None:
    """The providers' local time (China Standard Time), e.g. 2017-01-01 00:00:00."""
    try:
        naive = dt.datetime.strptime(str(value), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    return naive.replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))


def _text(item: dict, key: str) -> str:
    value = item.get(key)
    return value if isinstance(value, str) else ""


def parse(*, provider: str, body: bytes) -> list[Report]:
    """The reports in ``body``; Invalid when it is not the provider's JSON array."""
    try:
        items = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Invalid(_("The receipt is not JSON.")) from exc
    if not isinstance(items, list) or not 0 < len(items) <= MAX_REPORTS:
        raise Invalid(_("The receipt must be a JSON array of reports."))
    reports = []
    for item in items:
        if not isinstance(item, dict):
            raise Invalid(_("Each report must be a JSON object."))
        if provider == "aliyun":
            provider_id, success = item.get("biz_id"), item.get("success")
            ok = isinstance(success, bool)
            delivered = success is True
            code, when = _text(item, "err_code"), item.get("report_time")
            message = _text(item, "err_msg")
        else:
            provider_id, status = item.get("sid"), item.get("report_status")
            ok = status in {"SUCCESS", "FAIL"}
            delivered = status == "SUCCESS"
            code, when = _text(item, "errmsg"), item.get("user_receive_time")
            message = _text(item, "description")
        if not ok or not isinstance(provider_id, str) or not 0 < len(provider_id) <= 64:
            raise Invalid(_("A report lacks the text's id or its outcome."))
        reports.append(Report(provider_id, delivered, code[:64], message[:200], _time(when)))
    return reports


@transaction.atomic
def apply_receipt(*, provider: str, body: bytes, now: dt.datetime | None = None) -> int:
    """Mark the texts the receipt reports delivered or failed; how many records changed.
    Invalid (nothing written) when any report is malformed."""
    now = now or timezone.now()
    changed = 0
    for report in parse(provider=provider, body=body):
        fields = {"reported_at": report.reported_at or now}
        if report.delivered:
            fields["status"] = SendStatus.DELIVERED
        else:
            fields |= {
                "status": SendStatus.FAILED,
                "error_code": report.code or "undelivered",
                "error_message": report.message,
                "retryable": False,
            }
        changed += SendRecord.objects.filter(
            provider=provider, provider_id=report.provider_id, status=SendStatus.SENT
        ).update(**fields)
    return changed
