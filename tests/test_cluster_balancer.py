"""HAProxy as ``dev.py cluster`` configures it (``dev.haproxy_config``), in front of stand-in web
instances: one answers, one closes every request's connection without a byte of answer (a
gunicorn killed mid-request, or resetting its listen queue as it stops), one refuses
connections (stopped). Every request — POSTs too — gets the answering instance's answer: none is
lost and HAProxy answers no 5xx.

Sending a booking POST again is safe on MedBook's side: a POST repeated after the first one
booked is answered with that booking (tests/portal/test_release_gate.py, "a double click", and
tests/portal/test_booking_pages.py, "pressing book twice"). The whole cluster under a booking
burst is ``bench/cluster_burst.py`` (bench/README.md).

Needs Debian's ``haproxy``: fails in CI without it (.ci/run installs it), skips elsewhere.
"""

from __future__ import annotations

import csv
import http.client
import importlib.util
import io
import os
import shutil
import socket
import socketserver
import struct
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _dev():
    spec = importlib.util.spec_from_file_location("medbook_dev", ROOT / "dev.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class StandIn(socketserver.ThreadingTCPServer):
    """A web instance: ``answers`` (200 and its name) or, for anything but /readyz, closes the
    connection with a reset after reading the request (``dies``). Counts what it got."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, name: str, dies: bool) -> None:
        self.name, self.dies, self.requests = name, dies, 0
        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return self.server_address[1]


class Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        line = self.rfile.readline().decode("latin-1")
        length = 0
        while (header := self.rfile.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = header.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        self.rfile.read(length)
        server: StandIn = self.server  # type: ignore[assignment]
        if server.dies and " /readyz " not in line:
            server.requests += 1
            # A reset, not a polite close: the process is gone.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return
        if " /readyz " not in line:
            server.requests += 1
        body = server.name.encode()
        self.wfile.write(
            b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s"
            % (len(body), body)
        )


class Balancer:
    def __init__(self, tmp: Path, web_ports: list[int]) -> None:
        self.port = _free_port()
        self.stats = tmp / "haproxy.sock"
        cfg = tmp / "haproxy.cfg"
        cfg.write_text(
            _dev().haproxy_config(
                host="127.0.0.1", port=self.port, web_ports=web_ports, workers=2, stats=self.stats
            )
        )
        self.process = subprocess.Popen(
            [shutil.which("haproxy") or "haproxy", "-db", "-f", str(cfg)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )

    def counters(self) -> dict[str, dict[str, str]]:
        with socket.socket(socket.AF_UNIX) as conn:
            conn.connect(str(self.stats))
            conn.sendall(b"show stat\n")
            data = b"".join(iter(lambda: conn.recv(65536), b""))
        rows = csv.DictReader(io.StringIO(data.decode().lstrip("# ")))
        return {f"{row['pxname']}/{row['svname']}": row for row in rows}

    def wait_up(self, *servers: str) -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                rows = self.counters()
                if all(rows[f"web/{s}"]["status"] == "UP" for s in servers):
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"HAProxy did not take {servers} in")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


@pytest.fixture
def balancer(tmp_path: Path) -> Iterator[tuple[Balancer, StandIn, StandIn]]:
    if shutil.which("haproxy") is None:
        if IN_CI:
            pytest.fail(
                "CI must run the balancer test: haproxy not found (apt-get install haproxy)"
            )
        pytest.skip("haproxy not found (apt-get install haproxy)")
    answers, dies = StandIn("answers", dies=False), StandIn("dies", dies=True)
    stopped = _free_port()  # nothing listens there
    proxy = Balancer(tmp_path, [dies.port, answers.port, stopped])
    try:
        proxy.wait_up("web1", "web2")
        yield proxy, answers, dies
    finally:
        proxy.stop()
        answers.shutdown()
        dies.shutdown()


def _post(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.request(
            "POST", path, body=b"csrfmiddlewaretoken=x", headers={"Content-Type": "text/plain"}
        )
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_a_request_its_instance_dropped_or_refused_is_answered_by_another(balancer) -> None:
    proxy, answers, dies = balancer

    answered = [_post(proxy.port, f"/book/{i}/") for i in range(12)]

    assert answered == [(200, b"answers")] * 12
    assert dies.requests >= 1  # some did reach the dying instance first
    assert answers.requests == 12  # and each was answered once
    rows = proxy.counters()
    assert rows["medbook/FRONTEND"]["hrsp_5xx"] == "0"
    assert int(rows["web/BACKEND"]["wredis"]) >= 1
