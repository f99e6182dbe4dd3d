"""A webhook POST connects to the addresses its check resolved (DNS rebinding), and over https
it checks the receiver's certificate against the subscription's host name."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from medbook.errors import Invalid
from medbook.models import WebhookDelivery
from medbook.webhooks import signing
from medbook.webhooks.delivery import deliver, send
from medbook.webhooks.targets import Target, resolve
from tests.appointments.factories import ScheduleFactory
from tests.billing.factories import book
from tests.webhooks.receiver import reference_receiver, verify

pytestmark = pytest.mark.django_db

NAME = "hooks.partner.example"
PUBLIC = "93.184.216.34"  # a public address; nothing answers it from the test machine


@pytest.fixture
def dns(monkeypatch) -> list[str]:
    """``NAME`` resolves to the addresses pushed onto the returned list, one per look-up (the
    last one sticks), like a name server that answers each query differently; other names
    resolve as usual."""
    answers: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host != NAME:
            return real(host, port, *args, **kwargs)
        address = answers.pop(0) if len(answers) > 1 else answers[0]
        return real(address, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


@contextmanager
def listener() -> Iterator[tuple[int, list[str]]]:
    """A bare TCP port on 127.0.0.1 that notes every connection made to it."""
    connected: list[str] = []
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, peer = server.accept()
            except TimeoutError:
                continue
            connected.append(peer[0])
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1], connected
    finally:
        stop.set()
        thread.join()
        server.close()


def one_delivery(member, subscribe, url: str) -> tuple[WebhookDelivery, str]:
    subscription, secret = subscribe(url=url, events=["appointment.booked"])
    book(member, ScheduleFactory(fee=Decimal("50.00")))
    return WebhookDelivery.objects.get(subscription=subscription), secret


def test_a_name_that_rebinds_to_this_machine_after_the_check_is_not_reached(
    member, subscribe, settings, dns
) -> None:
    """The name answers a public address to the save and to the check before the POST, then
    127.0.0.1 (where an internal service listens): the POST must not go there."""
    settings.MEDBOOK_WEBHOOK_ALLOW_HOSTS = []
    settings.MEDBOOK_WEBHOOK_TIMEOUT_SECONDS = 1
    with listener() as (port, connected):
        dns.extend([PUBLIC, PUBLIC, "127.0.0.1"])
        delivery, _ = one_delivery(member, subscribe, f"https://{NAME}:{port}/hook")
        assert deliver(delivery_id=delivery.pk)
    assert connected == []
    [attempt] = delivery.attempt_rows.all()
    assert attempt.status_code is None and attempt.error


def test_the_checked_address_is_the_one_connected_to(settings, dns) -> None:
    settings.MEDBOOK_WEBHOOK_ALLOW_HOSTS = []
    dns.extend([PUBLIC, "127.0.0.1"])
    target = resolve(f"https://{NAME}/hook?x=1")
    assert target.addresses == (PUBLIC,)
    assert (target.host_header, target.path) == (NAME, "/hook?x=1")


def test_a_name_that_points_nowhere_is_refused_before_any_post(settings) -> None:
    settings.MEDBOOK_WEBHOOK_ALLOW_HOSTS = ["nowhere.invalid"]
    with pytest.raises(Invalid) as refused:
        resolve("http://nowhere.invalid/hook")
    assert refused.value.field == "url"


def test_when_one_address_refuses_the_next_checked_one_gets_the_post() -> None:
    body = b'{"id":"e1"}'
    with reference_receiver(secret="whsec_t") as receiver:
        port = int(receiver.url.split(":")[2].split("/")[0])
        # 127.0.0.2 is this machine too, but nothing listens there on that port.
        target = Target(receiver.url, "http", NAME, port, "/hook", ("127.0.0.2", "127.0.0.1"))
        headers = {
            "MedBook-Event-Id": "e1",
            "MedBook-Signature": signing.signature(
                secret="whsec_t", timestamp=int(time.time()), body=body
            ),
        }
        assert send(target, body=body, headers=headers) == 200
    [got] = receiver.received
    assert got["headers"]["Host"] == f"{NAME}:{port}"


# -- https: the receiver's certificate is checked against the subscription's name ------------


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def certificates(tmp_path: Path, dns_name: str) -> tuple[Path, Path, Path]:
    """A certificate authority and a server certificate for ``dns_name`` it signed: (the
    authority's PEM, the server's certificate PEM, its key PEM)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("MedBook test CA"))
        .issuer_name(_name("MedBook test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name(dns_name))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(dns_name)]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    paths = tmp_path / "ca.pem", tmp_path / "server.pem", tmp_path / "server.key"
    paths[0].write_bytes(ca.public_bytes(pem))
    paths[1].write_bytes(leaf.public_bytes(pem))
    paths[2].write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


def tls_context(cert: Path, key: Path, names: list[str]) -> ssl.SSLContext:
    """The server's TLS; ``names`` collects the name each client asked for (SNI)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda _sock, name, _ctx: names.append(name)
    return context


def test_https_goes_to_the_checked_address_with_the_name_in_sni_host_and_certificate(
    member, subscribe, settings, dns, tmp_path
) -> None:
    ca, cert, key = certificates(tmp_path, NAME)
    settings.MEDBOOK_WEBHOOK_ALLOW_HOSTS = [NAME]  # a receiver in the clinic's own network
    settings.MEDBOOK_WEBHOOK_CA_FILE = str(ca)
    dns.append("127.0.0.1")
    asked: list[str] = []
    with reference_receiver(tls=tls_context(cert, key, asked), host=NAME) as receiver:
        delivery, receiver.secret = one_delivery(member, subscribe, receiver.url)
        assert deliver(delivery_id=delivery.pk)
    [attempt] = delivery.attempt_rows.all()
    assert (attempt.status_code, attempt.error) == (200, "")
    [got] = receiver.received
    port = receiver.url.split(":")[2].split("/")[0]
    assert got["headers"]["Host"] == f"{NAME}:{port}"
    assert verify(receiver.secret, got["headers"]["MedBook-Signature"], got["raw"])
    assert asked == [NAME]


@pytest.mark.parametrize(
    "certified, trusted",
    [
        ("someone-else.example", True),  # our authority, another host's certificate
        (NAME, False),  # the right name, signed by an authority nobody trusts
    ],
)
def test_https_to_a_receiver_with_a_certificate_that_does_not_prove_the_name_is_refused(
    member, subscribe, settings, dns, tmp_path, certified, trusted
) -> None:
    ca, cert, key = certificates(tmp_path, certified)
    settings.MEDBOOK_WEBHOOK_ALLOW_HOSTS = [NAME]
    if trusted:
        settings.MEDBOOK_WEBHOOK_CA_FILE = str(ca)
    dns.append("127.0.0.1")
    with reference_receiver(tls=tls_context(cert, key, []), host=NAME) as receiver:
        delivery, receiver.secret = one_delivery(member, subscribe, receiver.url)
        assert deliver(delivery_id=delivery.pk)
    assert receiver.received == []
    [attempt] = delivery.attempt_rows.all()
    assert attempt.status_code is None and "SSLError" in attempt.error
