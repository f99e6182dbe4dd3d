"""gunicorn's worker runs MedBook on a roomy Python stack (medbook/gunicorn_worker.py): a loop of
calls that crosses one of CPython's 16 KiB frame-chunk boundaries maps and unmaps a chunk per
call on CPython 3.11 (python/cpython#142183); from the worker's frame no depth a request reaches
crosses one. Counted in page faults, in a thread of its own (a fresh frame stack)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from medbook import gunicorn_conf
from medbook.gunicorn_worker import SyncWorker, on_roomy_stack

CALLS = 2_000


def faults() -> int:
    """This process's minor page faults so far."""
    with open("/proc/self/stat") as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[7])


def leaf() -> None:
    pass


def at_depth(depth: int, then: Callable[[], None]) -> None:
    if depth:
        at_depth(depth - 1, then)
    else:
        then()


def worst_faults(start: Callable[[Callable[[], None]], object]) -> int:
    """The most page faults that CALLS calls of a small function made at any depth 0..300 below
    ``start``'s frame."""
    worst = [0]

    def probe() -> None:
        for depth in range(300):

            def loop() -> None:
                before = faults()
                for _ in range(CALLS):
                    leaf()
                worst[0] = max(worst[0], faults() - before)

            at_depth(depth, loop)

    thread = threading.Thread(target=lambda: start(probe))
    thread.start()
    thread.join()
    return worst[0]


def test_no_depth_a_request_reaches_maps_frame_chunks_per_call() -> None:
    assert worst_faults(on_roomy_stack) < 50  # a chunk per call would be thousands


def test_the_plain_stack_does_thrash_at_some_depth_on_this_python() -> None:
    """What the roomy stack is for: at some depth, every call maps a new chunk (CPython 3.11 to
    3.13.12; fixed interpreters show no faults here either, and need no roomy stack)."""
    import sys

    plain = worst_faults(lambda probe: probe())
    if sys.version_info[:2] == (3, 11):
        assert plain >= CALLS // 2  # about one page fault per call


def test_gunicorn_runs_the_roomy_worker() -> None:
    assert gunicorn_conf.worker_class == "medbook.gunicorn_worker.SyncWorker"
    assert SyncWorker.run is not SyncWorker.__mro__[1].run
