"""A local stand-in of WeChat Pay (微信支付 API v3) for the demo: ``python3 dev.py run`` starts
it and pays WeChat orders through it, so the QR checkout can be tried end to end without a
merchant account. It moves no money and is never for production.

It serves on a local port:

- the merchant API MedBook calls, answered as WeChat Pay answers it: Native, JSAPI and App
  prepay orders, the order query and close, refunds. A request not signed with the merchant's
  key is a 401 SIGN_ERROR, a prepay missing what WeChat Pay needs a 400 PARAM_ERROR; every
  answer is signed with "WeChat Pay's" key;
- the page a Native order's QR code leads to (``code_url``: ``weixin://wxpay/…`` at WeChat Pay,
  this page here): the amount and a 确认支付 button, standing in for the pay sheet WeChat shows
  after a scan. Paying sends MedBook the TRANSACTION.SUCCESS notification, signed, its resource
  encrypted with the APIv3 key, retried as WeChat Pay retries until MedBook acknowledges it.

The keys are made on first use in the stand-in's folder (``var/wechat-pay-standin``), the trades
kept there in ``trades.json``. The tests' stand-in (tests/billing/wechat_pay.py) signs, verifies
and encrypts with the helpers here.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import json
import os
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MCH_ID = "1900000109"
APP_ID = "wxd678efh567hg6787"
CERT_SERIAL_NO = "444F4864EA9B34415A1B2C3D4E5F60718293A4B5"  # the merchant certificate's
PUBLIC_KEY_ID = "PUB_KEY_ID_0114232134912410000000000000"  # WeChat Pay's public key's
PREPAY_PATHS = {
    "/v3/pay/transactions/native": "native",
    "/v3/pay/transactions/jsapi": "jsapi",
    "/v3/pay/transactions/app": "app",
}
AUTHORIZATION = re.compile(r"^WECHATPAY2-SHA256-RSA2048 (?P<fields>.+)$")
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$")
OUT_TRADE_NO = re.compile(r"[0-9A-Za-z_\-*|]{6,32}")
CLOSE = re.compile(r"/v3/pay/transactions/out-trade-no/[^/]+/close")
BEIJING = dt.timezone(dt.timedelta(hours=8))
# WeChat Pay retries an unacknowledged notification (15 s, 15 s, 30 s, 3 min, … in production;
# sooner here, a demo should not wait minutes).
NOTIFY_DELAYS = (0, 2, 5, 15, 30, 60, 180)


# -- signatures and encryption (WeChat Pay API v3) ---------------------------------------------


def sign(key: rsa.RSAPrivateKey, message: str) -> str:
    """Base64 of an RSA PKCS#1 v1.5 SHA-256 signature of ``message``."""
    return base64.b64encode(
        key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())
    ).decode()


def signed_headers(
    key: rsa.RSAPrivateKey, body: str, *, timestamp: int | None = None, serial: str = PUBLIC_KEY_ID
) -> dict[str, str]:
    """The headers of a message WeChat Pay signs (an answer, a notification)."""
    stamp, nonce = str(timestamp or int(time.time())), uuid.uuid4().hex
    return {
        "Wechatpay-Timestamp": stamp,
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Signature": sign(key, f"{stamp}\n{nonce}\n{body}\n"),
        "Wechatpay-Serial": serial,
        "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
    }


def merchant_signed(
    authorization: str | None, *, method: str, path: str, body: str, key: rsa.RSAPublicKey
) -> bool:
    """Whether an Authorization header is the merchant's signature of this request (method,
    path with its query, timestamp, nonce and body, each line ending in a newline)."""
    match = AUTHORIZATION.match(authorization or "")
    if match is None:
        return False
    fields = dict(re.findall(r'(\w+)="([^"]*)"', match["fields"]))
    if fields.get("mchid") != MCH_ID or fields.get("serial_no") != CERT_SERIAL_NO:
        return False
    message = f"{method}\n{path}\n{fields.get('timestamp')}\n{fields.get('nonce_str')}\n{body}\n"
    try:
        key.verify(
            base64.b64decode(fields.get("signature", "")),
            message.encode(),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
    except (InvalidSignature, ValueError):
        return False
    return True


def encrypted_notification(
    transaction: Mapping[str, Any], *, apiv3_key: str, event_id: str | None = None
) -> str:
    """The body of a TRANSACTION.SUCCESS notification of ``transaction`` (its resource
    encrypted with AEAD_AES_256_GCM under the APIv3 key)."""
    nonce = os.urandom(6).hex()  # 12 characters
    ciphertext = AESGCM(apiv3_key.encode()).encrypt(
        nonce.encode(), json.dumps(transaction, ensure_ascii=False).encode(), b"transaction"
    )
    return json.dumps(
        {
            "id": event_id or f"EV-{uuid.uuid4().hex[:26].upper()}",
            "create_time": beijing(dt.datetime.now(dt.UTC)),
            "resource_type": "encrypt-resource",
            "event_type": "TRANSACTION.SUCCESS",
            "summary": "支付成功",
            "resource": {
                "original_type": "transaction",
                "algorithm": "AEAD_AES_256_GCM",
                "ciphertext": base64.b64encode(ciphertext).decode(),
                "associated_data": "transaction",
                "nonce": nonce,
            },
        },
        ensure_ascii=False,
    )


def prepay_refused(kind: str, sent: Mapping[str, Any]) -> bool:
    """Whether WeChat Pay refuses this prepay body (PARAM_ERROR) for an order of ``kind``."""
    amount = sent.get("amount") or {}
    return any(
        [
            sent.get("appid") != APP_ID,
            sent.get("mchid") != MCH_ID,
            not sent.get("description"),
            not OUT_TRADE_NO.fullmatch(str(sent.get("out_trade_no", ""))),
            not str(sent.get("notify_url", "")).startswith(("http://", "https://")),
            not isinstance(amount.get("total"), int) or amount["total"] <= 0,
            amount.get("currency", "CNY") != "CNY",
            not RFC3339.match(str(sent.get("time_expire", ""))),
            kind == "jsapi" and not (sent.get("payer") or {}).get("openid"),
            kind != "jsapi" and "payer" in sent,
        ]
    )


def beijing(moment: dt.datetime) -> str:
    """``moment`` as WeChat Pay writes times (RFC 3339, Beijing time)."""
    return moment.astimezone(BEIJING).isoformat(timespec="seconds")


# -- keys ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Keys:
    """The demo's key pairs: the merchant's (MedBook signs with it) and WeChat Pay's (the
    stand-in signs with it), and the APIv3 key notifications are encrypted with."""

    folder: Path

    MERCHANT = "merchant-private.pem"
    MERCHANT_PUBLIC = "merchant-public.pem"
    WECHAT = "wechatpay-private.pem"
    WECHAT_PUBLIC = "wechatpay-public.pem"
    APIV3 = "apiv3.key"

    def ensure(self) -> Keys:
        """Make the keys that are not there yet (readable by their owner only)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        for private, public in (
            (self.MERCHANT, self.MERCHANT_PUBLIC),
            (self.WECHAT, self.WECHAT_PUBLIC),
        ):
            if not (self.folder / private).exists():
                key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
                self._write(private, private_pem(key))
                self._write(public, public_pem(key.public_key()))
        if not (self.folder / self.APIV3).exists():
            self._write(self.APIV3, secrets.token_urlsafe(24)[:32])  # 32 characters
        return self

    def _write(self, name: str, text: str) -> None:
        path = self.folder / name
        path.write_text(text, encoding="utf-8")
        path.chmod(0o600)

    def settings(self) -> dict[str, str]:
        """The environment that makes MedBook pay through the stand-in (but its URL)."""
        return {
            "MEDBOOK_WECHAT_MCH_ID": MCH_ID,
            "MEDBOOK_WECHAT_APP_ID": APP_ID,
            "MEDBOOK_WECHAT_CERT_SERIAL_NO": CERT_SERIAL_NO,
            "MEDBOOK_WECHAT_PUBLIC_KEY_ID": PUBLIC_KEY_ID,
            "MEDBOOK_WECHAT_PRIVATE_KEY_FILE": str(self.folder / self.MERCHANT),
            "MEDBOOK_WECHAT_PUBLIC_KEY_FILE": str(self.folder / self.WECHAT_PUBLIC),
            "MEDBOOK_WECHAT_APIV3_KEY_FILE": str(self.folder / self.APIV3),
        }

    def wechat_key(self) -> rsa.RSAPrivateKey:
        key = serialization.load_pem_private_key((self.folder / self.WECHAT).read_bytes(), None)
        assert isinstance(key, rsa.RSAPrivateKey)
        return key

    def merchant_public_key(self) -> rsa.RSAPublicKey:
        key = serialization.load_pem_public_key((self.folder / self.MERCHANT_PUBLIC).read_bytes())
        assert isinstance(key, rsa.RSAPublicKey)
        return key

    def apiv3_key(self) -> str:
        return (self.folder / self.APIV3).read_text(encoding="utf-8").strip()


def private_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def public_pem(key: rsa.RSAPublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


# -- the stand-in -------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    body: str = ""
    content_type: str = "application/json"
    signed: bool = True  # the API's answers are signed, the pay page is not


class WechatPayStandin:
    """WeChat Pay's side: the trades MedBook placed (kept in ``trades.json``), the API's
    answers and the pay page. ``public_url`` is where browsers reach it (the QR codes' URL)."""

    def __init__(self, keys: Keys, *, public_url: str, log: Callable[[str], None] = print) -> None:
        self.keys = keys
        self.public_url = public_url.rstrip("/")
        self.log = log
        self.wechat_key = keys.wechat_key()
        self.merchant_key = keys.merchant_public_key()
        self.apiv3_key = keys.apiv3_key()
        self.store = keys.folder / "trades.json"
        self.lock = threading.Lock()
        self.trades: dict[str, dict[str, Any]] = (
            json.loads(self.store.read_text(encoding="utf-8")) if self.store.exists() else {}
        )

    def _save(self) -> None:
        temporary = self.store.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.trades, ensure_ascii=False, indent=1), "utf-8")
        temporary.replace(self.store)

    # One request ------------------------------------------------------------------------------

    def handle(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> Answer:
        route = path.split("?", 1)[0]
        if route.startswith("/pay/"):
            return self.pay_page(method, route.removeprefix("/pay/"))
        if not route.startswith("/v3/"):
            return self.page(404, "页面不存在", "<p>这里只有微信支付的演示付款页。</p>")
        raw = body.decode(errors="replace")
        signed = merchant_signed(
            headers.get("Authorization"), method=method, path=path, body=raw, key=self.merchant_key
        )
        if not signed:
            return self.error(401, "SIGN_ERROR", "签名错误")
        try:
            sent = json.loads(raw) if raw else {}
        except ValueError:
            sent = None
        if not isinstance(sent, dict):
            return self.error(400, "PARAM_ERROR", "请求体不是 JSON 对象")
        if method == "POST" and route in PREPAY_PATHS:
            return self.prepay(PREPAY_PATHS[route], sent)
        if method == "GET" and route.startswith("/v3/pay/transactions/out-trade-no/"):
            return self.query(route.rsplit("/", 1)[-1])
        if method == "POST" and CLOSE.fullmatch(route):
            return self.close(route.split("/")[-2])
        if method == "POST" and route == "/v3/refund/domestic/refunds":
            return self.refund(sent)
        return self.error(404, "NOT_FOUND", "接口不存在")

    def error(self, status: int, code: str, message: str) -> Answer:
        return Answer(status, json.dumps({"code": code, "message": message}, ensure_ascii=False))

    # The merchant API ------------------------------------------------------------------------

    def prepay(self, kind: str, sent: dict[str, Any]) -> Answer:
        if prepay_refused(kind, sent):
            return self.error(400, "PARAM_ERROR", "参数错误")
        out_trade_no = sent["out_trade_no"]
        with self.lock:
            trade = self.trades.get(out_trade_no)
            if trade is not None and trade["state"] == "SUCCESS":
                return self.error(400, "ORDERPAID", "该订单已支付")
            self.trades[out_trade_no] = {
                "kind": kind,
                "description": sent["description"],
                "total": sent["amount"]["total"],
                "time_expire": sent["time_expire"],
                "notify_url": sent["notify_url"],
                "state": "NOTPAY",
                "refunded": 0,
            }
            self._save()
        if kind == "native":
            return Answer(200, json.dumps({"code_url": f"{self.public_url}/pay/{out_trade_no}"}))
        return Answer(200, json.dumps({"prepay_id": f"wx{uuid.uuid4().hex[:30]}"}))

    def query(self, out_trade_no: str) -> Answer:
        trade = self.trades.get(out_trade_no)
        if trade is None:
            return self.error(404, "ORDER_NOT_EXIST", "订单不存在")
        answer = {
            "appid": APP_ID,
            "mchid": MCH_ID,
            "out_trade_no": out_trade_no,
            "trade_type": trade["kind"].upper(),
            "trade_state": trade["state"],
            "amount": {"total": trade["total"], "currency": "CNY"},
        }
        if trade["state"] == "SUCCESS":
            answer |= {
                "transaction_id": trade["transaction_id"],
                "success_time": trade["success_time"],
            }
        return Answer(200, json.dumps(answer))

    def close(self, out_trade_no: str) -> Answer:
        with self.lock:
            trade = self.trades.get(out_trade_no)
            if trade is None:
                return self.error(404, "ORDER_NOT_EXIST", "订单不存在")
            if trade["state"] == "SUCCESS":
                return self.error(400, "ORDERPAID", "该订单已支付")
            trade["state"] = "CLOSED"
            self._save()
        return Answer(204)

    def refund(self, sent: dict[str, Any]) -> Answer:
        amount = sent.get("amount") or {}
        refund = amount.get("refund")
        with self.lock:
            trade = next(
                (
                    t
                    for t in self.trades.values()
                    if t.get("transaction_id") == sent.get("transaction_id")
                ),
                None,
            )
            if trade is None:
                return self.error(404, "RESOURCE_NOT_EXISTS", "订单不存在")
            if not isinstance(refund, int) or refund <= 0 or amount.get("total") != trade["total"]:
                return self.error(400, "PARAM_ERROR", "参数错误")
            refunds = trade.setdefault("refunds", {})
            if sent.get("out_refund_no") not in refunds:  # once per out_refund_no
                if trade["refunded"] + refund > trade["total"]:
                    return self.error(403, "NOT_ENOUGH", "退款金额超过可退金额")
                trade["refunded"] += refund
                refunds[sent["out_refund_no"]] = {
                    "refund": refund,
                    "refund_id": f"5030{secrets.randbelow(10**25):025d}",
                }
                self._save()
                self.log(f"微信支付（演示）：退款 ¥{refund / 100:.2f}（{sent['out_refund_no']}）")
            done = refunds[sent["out_refund_no"]]
        answer = {
            "refund_id": done["refund_id"],
            "out_refund_no": sent["out_refund_no"],
            "transaction_id": sent["transaction_id"],
            "channel": "ORIGINAL",
            "status": "PROCESSING",
            "amount": {**amount, "refund": done["refund"], "payer_refund": done["refund"]},
        }
        return Answer(200, json.dumps(answer))

    # The pay page (what a scan of the QR code opens) -----------------------------------------

    def pay_page(self, method: str, out_trade_no: str) -> Answer:
        trade = self.trades.get(out_trade_no)
        if trade is None:
            return self.page(404, "订单不存在", "<p>这张二维码不属于任何订单。</p>")
        expired = dt.datetime.fromisoformat(trade["time_expire"]) <= dt.datetime.now(dt.UTC)
        if method == "POST" and trade["state"] == "NOTPAY" and not expired:
            self.pay(out_trade_no)
        amount = f"¥{trade['total'] / 100:.2f}"
        description = html.escape(trade["description"])
        if trade["state"] == "SUCCESS":
            content = (
                f'<p class="ok">✓ 支付成功</p><p class="amount">{amount}</p>'
                f"<p>{description}</p><p>请回到 MedBook 页面：预约会自动确认。</p>"
            )
        elif trade["state"] == "CLOSED" or expired:
            content = (
                f'<p class="bad">二维码已过期</p><p>{description}</p><p>该订单已关闭，未扣款。</p>'
            )
        else:
            content = (
                f'<p class="amount">{amount}</p><p>{description}</p>'
                f'<form method="post"><button type="submit">确认支付</button></form>'
            )
        return self.page(200, "微信支付", content)

    def page(self, status: int, title: str, content: str) -> Answer:
        """A page in the look of WeChat's pay sheet, for a phone first."""
        page = PAGE.format(title=title, style=STYLE, content=content)
        return Answer(status, page, "text/html", signed=False)

    def pay(self, out_trade_no: str) -> None:
        """The payer confirms: the trade is paid, and MedBook is told (from a thread, retried).
        A second confirmation (a double tap) pays nothing more."""
        now = dt.datetime.now(dt.UTC)
        with self.lock:
            trade = self.trades[out_trade_no]
            if trade["state"] != "NOTPAY":
                return
            trade |= {
                "state": "SUCCESS",
                "transaction_id": f"4200{now:%Y%m%d%H%M%S}{secrets.randbelow(10**10):010d}",
                "success_time": beijing(now),
            }
            self._save()
        self.log(f"微信支付（演示）：订单 {out_trade_no} 已支付 ¥{trade['total'] / 100:.2f}")
        threading.Thread(target=self.notify, args=(out_trade_no,), daemon=True).start()

    def notify(self, out_trade_no: str) -> bool:
        """Tell MedBook that ``out_trade_no`` was paid, until it acknowledges (2xx)."""
        trade = self.trades[out_trade_no]
        transaction = {
            "mchid": MCH_ID,
            "appid": APP_ID,
            "out_trade_no": out_trade_no,
            "transaction_id": trade["transaction_id"],
            "trade_type": trade["kind"].upper(),
            "trade_state": "SUCCESS",
            "trade_state_desc": "支付成功",
            "bank_type": "OTHERS",
            "success_time": trade["success_time"],
            "payer": {"openid": "oDemoPayer0000000000000000000"},
            "amount": {
                "total": trade["total"],
                "payer_total": trade["total"],
                "currency": "CNY",
                "payer_currency": "CNY",
            },
        }
        for delay in NOTIFY_DELAYS:
            time.sleep(delay)
            body = encrypted_notification(transaction, apiv3_key=self.apiv3_key)
            headers = {**signed_headers(self.wechat_key, body), "Content-Type": "application/json"}
            try:
                answer = requests.post(
                    trade["notify_url"], data=body.encode(), headers=headers, timeout=10
                )
            except requests.RequestException as exc:
                self.log(f"微信支付（演示）：通知 MedBook 失败（{exc}），稍后重试")
                continue
            if 200 <= answer.status_code < 300:
                return True
            self.log(f"微信支付（演示）：MedBook 回复 {answer.status_code}，稍后重试")
        return False


STYLE = """
body { margin: 0; background: #ededed; color: #111;
  font: 16px/1.6 system-ui, "PingFang SC", "Noto Sans CJK SC", sans-serif; }
main { max-width: 420px; margin: 0 auto; padding: 24px 16px; }
header { text-align: center; color: #07c160; font-weight: 600; font-size: 18px; margin: 0 0 16px; }
section { background: #fff; border-radius: 12px; padding: 24px 20px; text-align: center; }
.amount { font-size: 40px; font-weight: 600; margin: 8px 0; }
.ok { color: #07c160; font-size: 22px; font-weight: 600; }
.bad { color: #c2410c; font-size: 20px; font-weight: 600; }
button { width: 100%; padding: 14px; border: 0; border-radius: 8px; margin-top: 16px;
  background: #07c160; color: #fff; font-size: 18px; }
footer { margin-top: 16px; font-size: 13px; color: #666; text-align: center; }
"""
PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><style>{style}</style></head>
<body><main><header>微信支付</header><section>{content}</section>
<footer>演示用的微信支付模拟服务：不会产生真实扣款。<br>
WeChat Pay stand-in for the MedBook demo: no money moves.</footer>
</main></body></html>"""


# -- serving ------------------------------------------------------------------------------------


def server(standin: WechatPayStandin, host: str, port: int) -> ThreadingHTTPServer:
    """An HTTP server answering with ``standin`` (``serve_forever`` runs it)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.reply()

        def do_POST(self) -> None:
            self.reply()

        def reply(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            answer = standin.handle(self.command, self.path, self.headers, body)
            self.send_response(answer.status)
            headers = signed_headers(standin.wechat_key, answer.body) if answer.signed else {}
            for name, value in {
                **headers,
                "Content-Type": f"{answer.content_type}; charset=utf-8",
            }.items():
                self.send_header(name, value)
            payload = answer.body.encode()
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    return ThreadingHTTPServer((host, port), Handler)
