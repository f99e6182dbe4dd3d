"""A reference receiver: a real HTTP server on 127.0.0.1 in a thread that checks each POST the
way the README tells partners to (HMAC-SHA256 of "<t>.<raw body>" under the secret, compared in
constant time, timestamps older than five minutes refused), deduplicates on MedBook-Event-Id,
and answers with the status codes it is told to."""

from __future__ import annotations

import hashlib
import hmac
import json
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOLERANCE = 300


def verify(secret: str, header: str, body: bytes, *, now: float | None = None) -> bool:
    """The README's recipe, written out independently of MedBook's code."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    if "t" not in parts or "v1" not in parts or not parts["t"].isdigit():
        return False
    if abs((now or time.time()) - int(parts["t"])) > TOLERANCE:
        return False
    expected = hmac.new(
        secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])


@dataclass
class Receiver:
    secret: str = ""
    answers: list[int] = field(default_factory=list)  # status codes to give, then 200
    received: list[dict] = field(default_factory=list)  # every verified POST
    rejected: list[str] = field(default_factory=list)  # why a POST was refused
    seen: set[str] = field(default_factory=set)  # event ids processed (deduplication)
    processed: list[str] = field(default_factory=list)
    url: str = ""
    delay: float = 0.0  # seconds each answer takes


@contextmanager
def reference_receiver(
    secret: str = "", *, tls: ssl.SSLContext | None = None, host: str = "127.0.0.1"
) -> Iterator[Receiver]:
    """The receiver; with ``tls`` it speaks https (its URL names ``host``)."""
    receiver = Receiver(secret=secret)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            time.sleep(receiver.delay)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if not verify(receiver.secret, self.headers.get("MedBook-Signature", ""), body):
                receiver.rejected.append("signature")
                self._answer(400)
                return
            event_id = self.headers["MedBook-Event-Id"]
            document = json.loads(body)
            receiver.received.append({"headers": dict(self.headers), "body": document, "raw": body})
            status = receiver.answers.pop(0) if receiver.answers else 200
            if 200 <= status < 300 and event_id not in receiver.seen:
                receiver.seen.add(event_id)
                receiver.processed.append(event_id)
            self._answer(status)

        def _answer(self, status: int) -> None:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
        receiver.url = f"https://{host}:{port}/medbook/events"
    else:
        receiver.url = f"http://{host}:{port}/medbook/events"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
