"""gunicorn's sync worker, run on a roomy Python stack (CPython 3.11–3.13.12).

CPython keeps its frames in 16 KiB chunks, allocated with ``mmap`` when a call crosses into a new
one and unmapped when that call returns (python/cpython#142183, fixed in 3.13.13 and 3.14.4).
A loop that calls across such a boundary pays two system calls and fresh pages per call: in a
worker, a page that happened to render its rows at that depth (the console's week of sessions)
made ~2,200 ``mmap``/``munmap`` pairs and 8,800 page faults a request and took twice its CPU
(measured in bench/README.md). The worker's loop here runs inside one frame that reserves half a
MiB of stack slots, so CPython gives it a 1 MiB chunk whose other half holds every request's
frames (~2,500 deep): no boundary is crossed at any depth a request reaches. The reserved slots
are never written, so the pages are not touched."""

from __future__ import annotations

from collections.abc import Callable

from gunicorn.workers.sync import SyncWorker as BaseSyncWorker

# Slots the frame reserves: just over 512 KiB with CPython's 1,000-slot margin, so the chunk
# made for it is 1 MiB (chunk sizes are powers of two) and ~half of it is left for the calls.
ROOM = 65_536 - 1_000 + 64


def _call(function: Callable[[], object]) -> object:
    return function()


_call.__code__ = _call.__code__.replace(co_stacksize=ROOM)


def on_roomy_stack(function: Callable[[], object]) -> object:
    """``function()``, called from a frame at the base of a 1 MiB stack chunk."""
    return _call(function)


class SyncWorker(BaseSyncWorker):
    def run(self) -> None:
        on_roomy_stack(super().run)
