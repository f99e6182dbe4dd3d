"""Tencent Cloud FaceID 身份信息认证 (``IdCardVerification``, API 3.0, version 2018-03-01): the
name and the resident ID number checked against the authoritative register (二要素).

Each request is a JSON POST to ``https://faceid.tencentcloudapi.com/`` signed with
TC3-HMAC-SHA256 (``medbook.tencentcloud``, shared with Tencent Cloud SMS).

The answer is ``{"Response": {"Result": "0", "Description": …, "RequestId": …}}`` or, when the
call itself failed (signature, quota, parameters), ``{"Response": {"Error": {"Code": …,
"Message": …}, "RequestId": …}}``. Result codes (the first two are billed):

====  =====================================================  ==============
code  Tencent's description                                  outcome
====  =====================================================  ==============
0     姓名和身份证号一致                                      match
-1    姓名和身份证号不一致                                    mismatch
-2    非法身份证号 (length, check digit…)                     not_found
-3    非法姓名 (length, format…)                              mismatch
-4    证件库服务异常                                          error
-5    证件库中无此身份证记录                                  not_found
-6    权威比对系统升级中，请稍后再试                          error
-7    认证次数超过当日限制                                    error
====  =====================================================  ==============

Every other answer — an Error object, another HTTP status, a body that is not the JSON above, a
timeout or a refused connection — is an ``error`` outcome: the member is told to try again later
or to verify at the front desk, never shown a server error.

Settings: MEDBOOK_REALNAME_PROVIDER=tencent, MEDBOOK_TENCENT_SECRET_ID,
MEDBOOK_TENCENT_SECRET_KEY (NAME_FILE works), MEDBOOK_TENCENT_FACEID_URL (a stand-in in tests)
and MEDBOOK_REALNAME_TIMEOUT_SECONDS.
"""

from __future__ import annotations

import json
import logging
import re
import time
from urllib.parse import urlsplit

import requests

from medbook import tencentcloud

from ..choices import ONLINE_ID_TYPES, Outcome
from .base import Result

logger = logging.getLogger(__name__)

SERVICE = "faceid"
ACTION = "IdCardVerification"
VERSION = "2018-03-01"

RESULT_OUTCOMES = {
    "0": Outcome.MATCH,
    "-1": Outcome.MISMATCH,
    "-2": Outcome.NOT_FOUND,
    "-3": Outcome.MISMATCH,
    "-4": Outcome.ERROR,
    "-5": Outcome.NOT_FOUND,
    "-6": Outcome.ERROR,
    "-7": Outcome.ERROR,
}


def signed_headers(
    *,
    secret_id: str,
    secret_key: str,
    host: str,
    payload: bytes,
    timestamp: int,
    action: str = ACTION,
    version: str = VERSION,
    service: str = SERVICE,
) -> dict[str, str]:
    """The headers of a signed FaceID request (``medbook.tencentcloud`` signs)."""
    return tencentcloud.signed_headers(
        secret_id=secret_id,
        secret_key=secret_key,
        host=host,
        payload=payload,
        timestamp=timestamp,
        action=action,
        version=version,
        service=service,
    )


DIGITS = re.compile(r"\d{6,}[\dXx]?")


def _scrubbed(text: str) -> str:
    """The provider's words, without anything that could be (part of) an ID number."""
    return DIGITS.sub("***", text)[:200]


def read_answer(*, status: int, body: bytes, provider: str = "tencent") -> Result:
    """The outcome an HTTP answer of IdCardVerification means; never raises."""

    def error(code: str, message: str = "", reference: str = "") -> Result:
        return Result(
            outcome=Outcome.ERROR,
            provider=provider,
            reference=reference,
            code=code[:64],
            message=_scrubbed(message),
        )

    if status != 200:
        return error(f"http_{status}")
    try:
        response = json.loads(body)["Response"]
        if not isinstance(response, dict):
            raise TypeError("Response is not an object")
    except (ValueError, KeyError, TypeError):
        return error("malformed_answer", "the answer is not the API's JSON")
    reference = str(response.get("RequestId") or "")[:64]
    failure = response.get("Error")
    if failure is not None:
        if not isinstance(failure, dict):
            return error("malformed_answer", "Error is not an object", reference)
        return error(
            str(failure.get("Code") or "Error"), str(failure.get("Message") or ""), reference
        )
    code = response.get("Result")
    if isinstance(code, int) and not isinstance(code, bool):
        code = str(code)
    if not isinstance(code, str) or code not in RESULT_OUTCOMES:
        return error("unknown_result", f"Result {code!r}", reference)
    return Result(
        outcome=RESULT_OUTCOMES[code],
        provider=provider,
        reference=reference,
        code=code,
        message=_scrubbed(str(response.get("Description") or "")),
    )


class TencentIdCardVerifier:
    name = "tencent"

    def __init__(
        self,
        *,
        secret_id: str,
        secret_key: str,
        url: str = "https://faceid.tencentcloudapi.com/",
        timeout: float = 5.0,
        region: str = "",
    ) -> None:
        self.secret_id = secret_id
        self.secret_key = secret_key
        self.url = url
        self.host = urlsplit(url).netloc
        self.timeout = timeout
        self.region = region

    def verify(self, *, name: str, id_type: str, id_number: str) -> Result:
        if id_type not in ONLINE_ID_TYPES:
            return Result(
                outcome=Outcome.ERROR,
                provider=self.name,
                code="unsupported_id_type",
                message="IdCardVerification checks resident ID numbers only",
            )
        payload = json.dumps(
            {"IdCard": id_number, "Name": name}, ensure_ascii=False, separators=(",", ":")
        ).encode("utf-8")
        headers = signed_headers(
            secret_id=self.secret_id,
            secret_key=self.secret_key,
            host=self.host,
            payload=payload,
            timestamp=int(time.time()),
        )
        if self.region:
            headers["X-TC-Region"] = self.region
        try:
            answer = requests.post(self.url, data=payload, headers=headers, timeout=self.timeout)
        except requests.Timeout:
            logger.warning("Tencent IdCardVerification did not answer within %ss", self.timeout)
            return Result(outcome=Outcome.ERROR, provider=self.name, code="timeout")
        except requests.RequestException as exc:
            logger.warning("Tencent IdCardVerification unreachable: %s", type(exc).__name__)
            return Result(
                outcome=Outcome.ERROR,
                provider=self.name,
                code="unreachable",
                message=type(exc).__name__,
            )
        result = read_answer(status=answer.status_code, body=answer.content, provider=self.name)
        if result.outcome == Outcome.ERROR:
            logger.warning(
                "Tencent IdCardVerification failed: %s %s (RequestId %s)",
                result.code,
                result.message,
                result.reference,
            )
        return result
