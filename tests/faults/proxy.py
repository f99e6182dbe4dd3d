"""A small TCP proxy that cuts or stalls the way to a service on demand (fault injection).

with FaultProxy(("127.0.0.1", 6379)) as proxy:   # listens on proxy.port
    proxy.refuse()   # cut every open connection; new ones are reset at once
    proxy.hang()     # keep connections open but forward nothing (a hung server)
    proxy.heal()     # forward again
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time


class FaultProxy:
    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.mode = "pass"
        self.accepted = 0
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    # -- control -------------------------------------------------------------------------------

    def refuse(self) -> None:
        self.mode = "refuse"
        self._cut_all()

    def hang(self) -> None:
        self.mode = "hang"

    def heal(self) -> None:
        self.mode = "pass"

    def close(self) -> None:
        self._stopped = True
        self._listener.close()
        self._cut_all()

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing ------------------------------------------------------------------------------

    def _cut_all(self) -> None:
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            _reset(sock)

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self.accepted += 1
            if self.mode == "refuse":
                _reset(client)
                continue
            threading.Thread(target=self._connect, args=(client,), daemon=True).start()

    def _connect(self, client: socket.socket) -> None:
        try:
            server = socket.create_connection(self.upstream, timeout=5)
            server.settimeout(None)
        except OSError:
            client.close()
            return
        with self._lock:
            self._sockets |= {client, server}
        threading.Thread(target=self._pipe, args=(client, server), daemon=True).start()
        threading.Thread(target=self._pipe, args=(server, client), daemon=True).start()

    def _pipe(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                while self.mode == "hang":
                    time.sleep(0.05)
                if self.mode == "refuse":
                    break
                target.sendall(data)
        except OSError:
            pass
        finally:
            # shutdown(), not just close(): it wakes the other direction's thread, blocked
            # reading the peer; a bare close() would leave that connection open.
            for sock in (source, target):
                _reset(sock)
            with self._lock:
                self._sockets -= {source, target}


def _reset(sock: socket.socket) -> None:
    """Drop a connection at once (RST), waking a thread blocked reading it."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
