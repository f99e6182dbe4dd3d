"""Stand-ins for the payment providers in the gateway tests: RSA keys and SHA256-RSA signatures
made on the spot, and a provider's open API served on a free local port, where a test module's
``FakeProvider`` records what it is asked and answers as that provider does. Nothing reaches the
internet."""

from __future__ import annotations

import base64
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, HTTPServer

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from billing.gateways import get_gateway
from demo.wechat_pay import private_pem, sign
from demo.wechat_pay import public_pem as _public_pem

__all__ = ["private_pem", "public_pem", "sign"]

# -- keys and signatures ---------------------------------------------------------------------


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def new_keys(*names: str) -> dict[str, rsa.RSAPrivateKey]:
    """A new key for each party named (the merchant's, the provider's...)."""
    return {name: new_key() for name in names}


def public_pem(key: rsa.RSAPrivateKey) -> str:
    """Its public key as PEM, as the other party is given it."""
    return _public_pem(key.public_key())


def verify(key: rsa.RSAPrivateKey, message: str, signature: str) -> bool:
    try:
        key.public_key().verify(
            base64.b64decode(signature), message.encode(), padding.PKCS1v15(), hashes.SHA256()
        )
    except (InvalidSignature, ValueError):
        return False
    return True


def use_gateway(settings, name: str, **values: str):
    """Make ``name`` MedBook's payment gateway, with these settings; returns its adapter."""
    for setting, value in values.items():
        setattr(settings, setting, value)
    settings.MEDBOOK_PAYMENT_GATEWAY = name
    return get_gateway(name)


# -- a provider's API on a local port --------------------------------------------------------


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: Message
    body: bytes


@dataclass(frozen=True)
class Answer:
    body: str
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


class FakeProvider(ABC):
    """One provider's API: ``answer`` is its handler; it records in ``requests`` what the tests
    look at, and reports the trades in ``paid`` as paid. ``url`` is set while it is served."""

    def __init__(self, keys: dict[str, rsa.RSAPrivateKey]) -> None:
        self.keys = keys
        self.requests: list = []
        self.paid: dict = {}
        self.url = ""

    @abstractmethod
    def answer(self, request: Request) -> Answer:
        """The provider's answer to one request (each provider's own handler)."""


@contextmanager
def serving(provider: FakeProvider) -> Iterator[FakeProvider]:
    """Serve ``provider`` on a free local port, from a thread, until the block ends."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.reply()

        def do_POST(self) -> None:
            self.reply()

        def reply(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            answer = provider.answer(Request(self.command, self.path, self.headers, body))
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(answer.body.encode())

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    provider.url = f"http://127.0.0.1:{server.server_port}"
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
