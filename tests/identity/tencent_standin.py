"""A local stand-in of Tencent Cloud FaceID's IdCardVerification (API 3.0) for the tests: it
checks each request's TC3-HMAC-SHA256 signature the way the service does (its own code, written
from the API documentation, not MedBook's signer) and answers as the documentation shows —
results 0 … -7 by ID number, API errors, and on demand a slow answer, a broken body or an HTTP
error. Served from a thread on a free local port; nothing reaches the internet."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET_ID = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"
SECRET_KEY = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLEKEY"

# ID numbers (valid GB 11643) and the Result the register gives them; the name 韦小宝 matches.
MATCHING_NAME = "韦小宝"
RESULTS_BY_ID = {
    "440305199505132561": None,  # 0 with the matching name, -1 with any other
    "310104199003051239": "-5",  # 证件库中无此身份证记录
    "320106197211203458": "-4",  # 证件库服务异常
    "110101201801012342": "-6",  # 权威比对系统升级中
    "110105199001018768": "-7",  # 认证次数超过当日限制
    "11010519850612000X": "-2",  # 非法身份证号
}
DESCRIPTIONS = {
    "0": "姓名和身份证号一致",
    "-1": "姓名和身份证号不一致",
    "-2": "非法身份证号(长度、校验位等不正确)",
    "-3": "非法姓名(长度、格式等不正确)",
    "-4": "证件库服务异常",
    "-5": "证件库中无此身份证记录",
    "-6": "权威比对系统升级中，请稍后再试",
    "-7": "认证次数超过当日限制",
}
AUTHORIZATION = re.compile(
    r"^TC3-HMAC-SHA256 Credential=(?P<id>[^/]+)/(?P<date>\d{4}-\d\d-\d\d)/(?P<service>[a-z]+)"
    r"/tc3_request, SignedHeaders=(?P<signed>[a-z0-9;-]+), Signature=(?P<sig>[0-9a-f]{64})$"
)


@dataclass
class Seen:
    headers: dict[str, str]
    body: bytes
    verdict: str  # "ok" or the error code the stand-in answered


@dataclass
class FaceIdStandIn:
    """``behaviour`` makes the next answers: "normal", "slow" (sleeps ``delay`` seconds),
    "malformed" (not JSON), "not_an_object", "http_502", "unknown_result"."""

    url: str = ""
    behaviour: str = "normal"
    delay: float = 2.0
    seen: list[Seen] = field(default_factory=list)

    def error(self, code: str, message: str) -> dict:
        return {"Response": {"Error": {"Code": code, "Message": message}, "RequestId": _rid()}}

    def check_signature(self, headers: dict[str, str], body: bytes) -> tuple[str, str] | None:
        return check_tc3(headers, body, service="faceid")

    def answer(self, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        if self.behaviour == "slow":
            time.sleep(self.delay)
        if self.behaviour == "malformed":
            return 200, b"<html><body>502 Bad Gateway</body></html>"
        if self.behaviour == "not_an_object":
            return 200, b'{"Response": "busy"}'
        if self.behaviour == "http_502":
            return 502, b"Bad Gateway"
        problem = self.check_signature(headers, body)
        if problem is None and (
            headers.get("x-tc-action") != "IdCardVerification"
            or headers.get("x-tc-version") != "2018-03-01"
        ):
            problem = ("InvalidAction", "The action or version is not IdCardVerification")
        if problem is not None:
            self.seen.append(Seen(headers, body, problem[0]))
            return 200, json.dumps(self.error(*problem)).encode()
        try:
            data = json.loads(body)
            id_card, name = data["IdCard"], data["Name"]
        except (ValueError, KeyError):
            self.seen.append(Seen(headers, body, "MissingParameter"))
            return 200, json.dumps(self.error("MissingParameter", "IdCard and Name")).encode()
        self.seen.append(Seen(headers, body, "ok"))
        if self.behaviour == "unknown_result":
            result = "-99"
        elif id_card in RESULTS_BY_ID and RESULTS_BY_ID[id_card] is not None:
            result = RESULTS_BY_ID[id_card]
        elif not re.fullmatch(r"[\u4e00-\u9fff·]{2,20}", name):
            result = "-3"
        else:
            result = "0" if name == MATCHING_NAME else "-1"
        answer = {
            "Response": {
                "Result": result,
                "Description": DESCRIPTIONS.get(result, "?"),
                "RequestId": _rid(),
            }
        }
        return 200, json.dumps(answer, ensure_ascii=False).encode()


def check_tc3(
    headers: dict[str, str],
    body: bytes,
    *,
    service: str,
    secret_id: str = SECRET_ID,
    secret_key: str = SECRET_KEY,
) -> tuple[str, str] | None:
    """None when the request to ``service`` is signed right, else (error code, message) as
    Tencent Cloud API 3.0 answers (also the SMS stand-in's check)."""
    match = AUTHORIZATION.match(headers.get("authorization", ""))
    if not match:
        return "AuthFailure.InvalidAuthorization", "Authorization header is malformed"
    if match["id"] != secret_id:
        return "AuthFailure.SecretIdNotFound", "The SecretId is not found"
    try:
        stamp = int(headers.get("x-tc-timestamp", ""))
    except ValueError:
        return "MissingParameter", "X-TC-Timestamp is missing"
    if abs(time.time() - stamp) > 300:
        return "AuthFailure.SignatureExpire", "Signature expired"
    date = dt.datetime.fromtimestamp(stamp, tz=dt.UTC).strftime("%Y-%m-%d")
    if match["date"] != date or match["service"] != service:
        return "AuthFailure.SignatureFailure", "Credential scope does not fit the request"
    signed = match["signed"].split(";")
    if "host" not in signed or "content-type" not in signed:
        return "AuthFailure.SignatureFailure", "host and content-type must be signed"
    canonical_headers = "".join(
        f"{name}:{headers.get(name, '').strip().lower()}\n" for name in signed
    )
    canonical = "\n".join(
        [
            "POST",
            "/",
            "",
            canonical_headers,
            match["signed"],
            hashlib.sha256(body).hexdigest(),
        ]
    )
    to_sign = "\n".join(
        [
            "TC3-HMAC-SHA256",
            str(stamp),
            f"{date}/{service}/tc3_request",
            hashlib.sha256(canonical.encode()).hexdigest(),
        ]
    )

    def step(key: bytes, msg: str) -> bytes:
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()

    key = step(step(step(("TC3" + secret_key).encode(), date), service), "tc3_request")
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, match["sig"]):
        return "AuthFailure.SignatureFailure", "The provided credentials could not be validated"
    return None


def _rid() -> str:
    return str(uuid.uuid4())


@contextmanager
def serving(stand_in: FaceIdStandIn) -> Iterator[FaceIdStandIn]:
    """Serve ``stand_in`` from threads on a free local port until the block ends."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, answer = stand_in.answer(headers, body)
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
            except OSError:  # the client gave up waiting (the timeout tests)
                pass

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    stand_in.url = f"http://127.0.0.1:{server.server_port}/"
    try:
        yield stand_in
    finally:
        server.shutdown()
        server.server_close()
