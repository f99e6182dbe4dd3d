"""Local stand-ins of Aliyun's Dysmsapi ``SendSms`` and Tencent Cloud SMS ``SendSms``
(2021-01-11) for the tests. Each checks the request's signature the way its provider does —
Aliyun's HMAC-SHA1 over the percent-encoded canonical query with its own encoder written from
the documentation, Tencent's TC3-HMAC-SHA256 with the FaceID stand-in's independent check —
then the template and its parameters, and answers in the provider's format. ``script`` makes
the next answers fail on purpose: "throttle", "busy" (an internal error), "http_503".
Served from threads on a free local port (``tests.identity.tencent_standin.serving``)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import re
import uuid
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote_plus

from tests.identity.tencent_standin import SECRET_ID, SECRET_KEY, check_tc3

SIGN_NAME = "MedBook诊所"
ALIYUN_KEY_ID = "LTAI5tEXAMPLEKEYID"
ALIYUN_SECRET = "exampleAccessKeySecretForTests01"
TENCENT_APP_ID = "1400006666"
# Provider template id → the parameters it needs, for both stand-ins.
ALIYUN_TEMPLATES = {
    "SMS_100001": ("code",),
    "SMS_100002": ("code",),
    "SMS_100003": ("code",),
    "SMS_100004": (),
    "SMS_100005": (),
    "SMS_200001": ("title", "body"),
    "SMS_200002": ("title", "body"),
}
TENCENT_TEMPLATES = {"100001": 1, "100002": 1, "100003": 1, "100004": 0, "100005": 0, "200001": 2}
SECURITY = [
    "verification_code",
    "login_code",
    "password_reset_code",
    "account_exists",
    "no_account",
]
ALIYUN_SETTING = {key: f"SMS_10000{i}" for i, key in enumerate(SECURITY, 1)} | {
    "reminder": "SMS_200001",
    "suspended": "SMS_200002",
}
TENCENT_SETTING = {key: f"10000{i}" for i, key in enumerate(SECURITY, 1)} | {
    "reminder": "200001",
    "suspended": {"id": "200001", "params": ["title", "body"]},
}


@dataclass
class Sent:
    phone: str
    template: str
    params: object
    provider_id: str


@dataclass
class StandIn:
    url: str = ""
    script: list[str] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # error codes answered, in order

    def next_scripted(self) -> str | None:
        return self.script.pop(0) if self.script else None


def aliyun_encode(value: str) -> str:
    """Aliyun's documented recipe: URL-encode (UTF-8), then + → %20, * → %2A, %7E → ~."""
    return quote_plus(value, safe="").replace("+", "%20").replace("*", "%2A").replace("%7E", "~")


class AliyunStandIn(StandIn):
    nonces: set[str]

    def __init__(self) -> None:
        super().__init__()
        self.nonces = set()

    def error(self, status: int, code: str, message: str) -> tuple[int, bytes]:
        self.refused.append(code)
        body = {"Code": code, "Message": message, "RequestId": str(uuid.uuid4())}
        return status, json.dumps(body).encode()

    def answer(self, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        params = dict(parse_qsl(body.decode(), keep_blank_values=True))
        scripted = self.next_scripted()
        if scripted == "http_503":
            self.refused.append("http_503")
            return 503, b"<html>Service Temporarily Unavailable</html>"
        if scripted == "throttle":
            return self.error(
                400, "Throttling.User", "Request was denied due to user flow control."
            )
        if scripted == "busy":
            return self.error(200, "isp.SYSTEM_ERROR", "isp.SYSTEM_ERROR")
        signature = params.pop("Signature", "")
        if params.get("AccessKeyId") != ALIYUN_KEY_ID:
            return self.error(
                404, "InvalidAccessKeyId.NotFound", "Specified access key is not found."
            )
        if params.get("SignatureMethod") != "HMAC-SHA1" or params.get("SignatureVersion") != "1.0":
            return self.error(400, "InvalidParameter", "SignatureMethod or SignatureVersion")
        stamp = dt.datetime.strptime(params.get("Timestamp", ""), "%Y-%m-%dT%H:%M:%SZ")
        if abs((dt.datetime.now(dt.UTC).replace(tzinfo=None) - stamp).total_seconds()) > 900:
            return self.error(400, "InvalidTimeStamp.Expired", "Specified time stamp is expired.")
        canonical = "&".join(
            f"{aliyun_encode(k)}={aliyun_encode(v)}" for k, v in sorted(params.items())
        )
        to_sign = "POST&%2F&" + aliyun_encode(canonical)
        expected = base64.b64encode(
            hmac.new((ALIYUN_SECRET + "&").encode(), to_sign.encode(), hashlib.sha1).digest()
        ).decode()
        if not hmac.compare_digest(expected, signature):
            return self.error(
                400,
                "SignatureDoesNotMatch",
                "Specified signature is not matched with our calculation.",
            )
        if params["SignatureNonce"] in self.nonces:
            return self.error(
                400, "SignatureNonceUsed", "Specified signature nonce was used already."
            )
        self.nonces.add(params["SignatureNonce"])
        if params.get("Action") != "SendSms" or params.get("Version") != "2017-05-25":
            return self.error(400, "InvalidAction.NotFound", "Specified api is not found")
        if params.get("SignName") != SIGN_NAME:
            return self.error(200, "isv.SMS_SIGNATURE_ILLEGAL", "该账号下找不到对应签名")
        template = params.get("TemplateCode", "")
        if template not in ALIYUN_TEMPLATES:
            return self.error(200, "isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板")
        values = json.loads(params.get("TemplateParam") or "{}")
        if set(values) != set(ALIYUN_TEMPLATES[template]):
            return self.error(200, "isv.TEMPLATE_MISSING_PARAMETERS", "模板变量缺少对应参数值")
        phone = params.get("PhoneNumbers", "")
        if not re.fullmatch(r"1\d{10}", phone):
            return self.error(200, "isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
        biz_id = f"{len(self.sent) + 900619746936498440}^0"
        self.sent.append(Sent(phone, template, values, biz_id))
        answer = {"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": str(uuid.uuid4())}
        return 200, json.dumps(answer).encode()


class TencentSMSStandIn(StandIn):
    def error(self, code: str, message: str) -> tuple[int, bytes]:
        self.refused.append(code)
        body = {"Response": {"Error": {"Code": code, "Message": message}, "RequestId": "r"}}
        return 200, json.dumps(body).encode()

    def answer(self, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        scripted = self.next_scripted()
        if scripted == "http_503":
            self.refused.append("http_503")
            return 503, b"Service Unavailable"
        if scripted == "throttle":
            return self.error("RequestLimitExceeded", "请求的次数超过了频率限制。")
        if scripted == "busy":
            return self.error("InternalError.Timeout", "请求下发短信超时")
        problem = check_tc3(
            headers, body, service="sms", secret_id=SECRET_ID, secret_key=SECRET_KEY
        )
        if problem is not None:
            return self.error(*problem)
        if headers.get("x-tc-action") != "SendSms" or headers.get("x-tc-version") != "2021-01-11":
            return self.error("InvalidAction", "The action or version is not SendSms 2021-01-11")
        if not headers.get("x-tc-region"):
            return self.error(
                "MissingParameter", "The request is missing a required parameter `Region`."
            )
        data = json.loads(body)
        if data.get("SmsSdkAppId") != TENCENT_APP_ID:
            return self.error("FailedOperation.SmsSdkAppIdVerifyFail", "SmsSdkAppId 校验失败")
        if data.get("SignName") != SIGN_NAME:
            return self.error(
                "FailedOperation.SignatureIncorrectOrUnapproved", "签名未审批或格式错误"
            )
        template = data.get("TemplateId")
        values = data.get("TemplateParamSet") or []
        if template not in TENCENT_TEMPLATES:
            return self.error("FailedOperation.TemplateIncorrectOrUnapproved", "模板未审批或不存在")
        if len(values) != TENCENT_TEMPLATES[template]:
            return self.error(
                "InvalidParameterValue.TemplateParameterFormatError", "参数个数不匹配"
            )
        phone = data["PhoneNumberSet"][0]
        if not re.fullmatch(r"\+861\d{10}", phone):
            status = {
                "Code": "InvalidParameterValue.IncorrectPhoneNumber",
                "Message": "手机号格式错误",
            }
            self.refused.append(status["Code"])
        else:
            serial = f"2433:{len(self.sent) + 3422534534546}"
            status = {"Code": "Ok", "Message": "send success", "SerialNo": serial}
            self.sent.append(Sent(phone, template, values, serial))
        status |= {"PhoneNumber": phone, "Fee": 1, "SessionContext": "", "IsoCode": "CN"}
        answer = {"Response": {"SendStatusSet": [status], "RequestId": str(uuid.uuid4())}}
        return 200, json.dumps(answer, ensure_ascii=False).encode()
