"""A local stand-in for the provincial medical insurance mobile-payment API (医保移动支付):
a threaded ``http.server`` that checks each request's signature, app id and timestamp,
answers settlements by a fixed ratio in signed envelopes, and records what it was asked."""

from __future__ import annotations

import json
import threading
import time
from decimal import ROUND_FLOOR, Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from billing.insurance.provincial import envelope, opened

APP_ID = "hosp-0001"
SECRET = "s3cret-of-the-province"


class StandIn:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []
        self.ratio = Decimal("0.60")
        self.acct = Decimal("0.50")
        self.delay = 0.0
        self.sign_with = SECRET  # a wrong secret: answers that must not be believed
        self.refuse_code = ""
        self.settlements: dict[str, dict] = {}
        self.reversed: dict[str, dict] = {}

    def answer(self, api: str, message: dict) -> dict:
        try:
            biz = opened(message, app_id=APP_ID, secret=SECRET)
        except ValueError as exc:
            return {"code": "1001", "message": f"签名校验失败: {exc}"}
        self.calls.append((api, biz))
        if self.refuse_code:
            return {"code": self.refuse_code, "message": "参保状态异常"}
        if api in ("settlement/preview", "settlement/settle"):
            if api == "settlement/settle" and biz["outTradeNo"] in self.settlements:
                return self.settlements[biz["outTradeNo"]]  # a repeat: the first answer
            total = Decimal(biz["medfeeSumamt"])
            fund = (total * self.ratio).quantize(Decimal("0.01"), rounding=ROUND_FLOOR)
            acct = ((total - fund) * self.acct).quantize(Decimal("0.01"), rounding=ROUND_FLOOR)
            result = {
                "code": "0",
                "fundPay": str(fund),
                "acctPay": str(acct),
                "selfPay": str(total - fund - acct),
            }
            if api == "settlement/settle":
                result["setlId"] = f"SETL{len(self.settlements) + 1:08d}"
                self.settlements[biz["outTradeNo"]] = result
            return result
        if api == "settlement/reverse":
            self.reversed.setdefault(biz["reverseNo"], biz)
            return {"code": "0", "reverseSetlId": f"REV-{biz['reverseNo']}"}
        return {"code": "404", "message": "no such api"}

    def serve(self) -> tuple[ThreadingHTTPServer, str]:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    message = json.loads(self.rfile.read(length))
                except ValueError:
                    message = None
                if standin.delay:
                    time.sleep(standin.delay)
                biz = standin.answer(self.path.lstrip("/"), message)
                body = json.dumps(
                    envelope(biz, app_id=APP_ID, secret=standin.sign_with), ensure_ascii=False
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server, f"http://127.0.0.1:{server.server_address[1]}/"


@pytest.fixture
def provincial(settings):
    """The stand-in, running, with MedBook configured to use it."""
    standin = StandIn()
    server, url = standin.serve()
    settings.MEDBOOK_INSURANCE_PROVINCIAL_URL = url
    settings.MEDBOOK_INSURANCE_PROVINCIAL_APP_ID = APP_ID
    settings.MEDBOOK_INSURANCE_PROVINCIAL_SECRET = SECRET
    settings.MEDBOOK_INSURANCE_PROVINCIAL_TIMEOUT = 1
    yield standin
    server.shutdown()
    server.server_close()
