"""A provincial medical insurance mobile-payment API (医保移动支付), signed JSON over HTTPS.

Modelled on the provinces' 医保移动支付 interfaces: every request and every answer is one JSON
object ``{appId, timestamp, nonce, signType, bizContent, sign}`` — ``bizContent`` the business
fields as a JSON string, ``timestamp`` milliseconds, ``nonce`` 32 random hex digits — and
``sign`` is HMAC (SM3 when OpenSSL provides it, ``HMAC-SM3``; else ``HMAC-SHA256``) with the app
secret over the other fields sorted by name as ``k=v`` joined by ``&``, in upper-case hex. An
answer whose signature, app id or timestamp (±5 minutes) does not check out is not believed.

Calls: ``settlement/preview`` (试算), ``settlement/settle`` (结算; ``outTradeNo`` makes a
repeat return the first settlement) and ``settlement/reverse`` (冲正; ``reverseNo`` makes a
repeat a no-op). Amounts are yuan strings with two places. A timeout, a connection failure,
an HTTP error or an answer that does not check out is :class:`InsuranceUnavailable`; a
refusal by the insurer (``code`` not ``"0"``) is :class:`InsuranceRefused`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
import time
from decimal import Decimal, InvalidOperation

import requests

from medbook import money

from .base import ClaimRequest, InsuranceRefused, InsuranceUnavailable, Settled, Split

CLOCK_SKEW_MS = 5 * 60 * 1000


def sign_type() -> str:
    return "HMAC-SM3" if "sm3" in hashlib.algorithms_available else "HMAC-SHA256"


def signature(fields: dict[str, str], *, secret: str, kind: str) -> str:
    """The ``sign`` of a request or an answer: HMAC over the sorted ``k=v`` pairs."""
    digest = {"HMAC-SM3": "sm3", "HMAC-SHA256": "sha256"}.get(kind)
    if digest is None:
        raise ValueError(f"unknown signType {kind!r}")
    text = "&".join(f"{k}={fields[k]}" for k in sorted(fields) if k != "sign")
    mac = hmac.new(secret.encode(), text.encode("utf-8"), lambda: hashlib.new(digest))
    return mac.hexdigest().upper()


def envelope(biz: dict, *, app_id: str, secret: str, kind: str | None = None) -> dict[str, str]:
    """A signed message carrying ``biz`` (requests, and the stand-in's answers)."""
    fields = {
        "appId": app_id,
        "timestamp": str(int(time.time() * 1000)),
        "nonce": secrets.token_hex(16),
        "signType": kind or sign_type(),
        "bizContent": json.dumps(biz, ensure_ascii=False, separators=(",", ":")),
    }
    fields["sign"] = signature(fields, secret=secret, kind=fields["signType"])
    return fields


def opened(message: object, *, app_id: str, secret: str) -> dict:
    """The business fields of a signed message, or ValueError saying why it is not believed."""
    if not isinstance(message, dict) or not all(
        isinstance(message.get(k), str)
        for k in ("appId", "timestamp", "nonce", "signType", "bizContent", "sign")
    ):
        raise ValueError("not a signed message")
    expected = signature(message, secret=secret, kind=message["signType"])
    if not hmac.compare_digest(expected, message["sign"].upper()):
        raise ValueError("bad signature")
    if message["appId"] != app_id:
        raise ValueError("another app's message")
    try:
        stamp = int(message["timestamp"])
    except ValueError as exc:
        raise ValueError("bad timestamp") from exc
    if abs(time.time() * 1000 - stamp) > CLOCK_SKEW_MS:
        raise ValueError("stale timestamp")
    biz = json.loads(message["bizContent"])
    if not isinstance(biz, dict):
        raise ValueError("bizContent is not an object")
    return biz


def _yuan(value: object) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise InsuranceUnavailable(f"bad amount {value!r}") from exc
    if amount < 0 or amount != amount.quantize(money.CENT):
        raise InsuranceUnavailable(f"bad amount {value!r}")
    return amount


class ProvincialInsurer:
    name = "provincial"
    in_database = False

    def __init__(self, *, base_url: str, app_id: str, secret: str, timeout: float = 8.0):
        self.base_url = base_url.rstrip("/")
        self.app_id = app_id
        self.secret = secret
        self.timeout = timeout

    def _call(self, api: str, biz: dict) -> dict:
        body = envelope(biz, app_id=self.app_id, secret=self.secret)
        try:
            response = requests.post(f"{self.base_url}/{api}", json=body, timeout=(3, self.timeout))
        except (requests.RequestException, OSError) as exc:
            raise InsuranceUnavailable(f"{api}: {exc.__class__.__name__}") from exc
        if response.status_code != 200:
            raise InsuranceUnavailable(f"{api}: HTTP {response.status_code}")
        try:
            answer = opened(response.json(), app_id=self.app_id, secret=self.secret)
        except ValueError as exc:  # JSONDecodeError is a ValueError too
            raise InsuranceUnavailable(f"{api}: {exc}") from exc
        if str(answer.get("code")) != "0":
            raise InsuranceRefused(f"{api}: {answer.get('code')} {answer.get('message', '')}")
        return answer

    def _biz(self, claim: ClaimRequest) -> dict:
        return {
            "outTradeNo": claim.out_trade_no,
            "psnNo": claim.card_number,
            "insutype": claim.insurance_type,
            "region": claim.region,
            "medfeeSumamt": str(claim.amount),
            "deptCode": str(claim.department_id),
            "levelCode": str(claim.level_id or ""),
            "time": claim.when.isoformat(),
        }

    def _split(self, answer: dict, amount: Decimal) -> Split:
        split = Split(
            _yuan(answer.get("fundPay")),
            _yuan(answer.get("acctPay")),
            _yuan(answer.get("selfPay")),
        )
        if split.total != amount:
            raise InsuranceUnavailable("the parts do not add up to the charge")
        return split

    def quote(self, *, claim: ClaimRequest) -> Split:
        return self._split(self._call("settlement/preview", self._biz(claim)), claim.amount)

    def settle(self, *, claim: ClaimRequest) -> Settled:
        answer = self._call("settlement/settle", self._biz(claim))
        reference = str(answer.get("setlId") or "")
        if not reference or len(reference) > 60:
            raise InsuranceUnavailable("no settlement id")
        return Settled(self._split(answer, claim.amount), reference)

    def reverse(
        self,
        *,
        reference: str,
        patient_id: int,
        year: int,
        parts: Split,
        deductible: Decimal,
        when: dt.datetime,
        reverse_no: str = "",
    ) -> str:
        answer = self._call(
            "settlement/reverse",
            {
                "setlId": reference,
                "reverseNo": reverse_no or f"{reference}-{secrets.token_hex(4)}",
                "fundPay": str(parts.fund),
                "acctPay": str(parts.personal),
            },
        )
        return str(answer.get("reverseSetlId") or "")
