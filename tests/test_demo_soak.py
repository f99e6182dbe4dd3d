"""A short run of the demo soak (bench/soak_demo.py): ``dev.py run`` under a click-through load.

Members log in, book, pay on the sandbox cashier, wait for the worker's confirmation, cancel
(refund by the worker), read messages, while anonymous visitors browse. It fails on any 5xx, any
process that died (even one dev.py restarted), or a payment or refund the worker never carried
out. The 30-minute run and its figures are in bench/README.md.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_demo_survives_45_seconds_of_members_booking_paying_and_cancelling() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "soak_demo.py"), "--seconds", "45", "--users", "3"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=420,
    )

    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "OK: no 5xx, no process died" in result.stdout
    figures = dict(
        line.strip().split(": ", 1)
        for line in result.stdout.splitlines()
        if line.startswith("  ") and ": " in line
    )
    assert int(figures["bookings paid"]) > 0, result.stdout
    assert figures["payments confirmed by the worker"] == figures["bookings paid"], result.stdout
