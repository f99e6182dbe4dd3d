"""The release gate's own cost: one attempt's Redis round trip, this tree's gate against a
commit's, interleaved so that the machine's load falls on both alike.

    REDIS_URL=redis://127.0.0.1:6379/N MEDBOOK_DEV_SECRETS=true \\
      .venv/bin/python bench/gate_lua.py --against REV [--calls 2000] [--rounds 5]

Per round and version: ``--calls`` attempts that lose (a session whose stock is 0: "sold out")
and ``--calls`` that win (stock 1, put back before each), each timed from the call of
``appointments.gate.enter`` to its verdict; p50 / p95 / mean over all rounds. It empties the
Redis database of ``REDIS_URL`` (use one of your own). The database is not used.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medbook.settings")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", required=True, help="the commit whose gate to compare")
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    source = subprocess.run(
        [shutil.which("git") or "/usr/bin/git", "show", f"{args.against}:appointments/gate.py"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip

    import django

    django.setup()
    from django.conf import settings
    from django.core.cache import caches
    from django.utils import timezone

    from appointments import gate as current

    settings.MEDBOOK_BOOKING_RATE_MEMBER = settings.MEDBOOK_BOOKING_RATE_IP = "1000000000/60"
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as file:
        file.write(source)
    spec = importlib.util.spec_from_file_location("gate_then", file.name)
    then = importlib.util.module_from_spec(spec)
    sys.modules["gate_then"] = then
    spec.loader.exec_module(then)
    redis = caches["redis"]
    client = redis.client.get_client(write=True)
    redis.clear()

    def attempts(module, session: int, kind: str) -> list[float]:
        now = timezone.now()
        ends = now + dt.timedelta(hours=3)
        times = []
        for i in range(args.calls):
            client.delete(redis.make_key(f"gate:{session}:stock"))
            client.delete(redis.make_key(f"gate:{session}:marks"))
            remaining = 1 if kind == "winner" else 0
            module.preheat(schedule_id=session, remaining=remaining, ends_at=ends, now=now)
            began = time.perf_counter()
            verdict, _ = module.enter(schedule_id=session, user_id=10_000 + i, address="10.0.0.1")
            times.append(time.perf_counter() - began)
            expected = module.Verdict.GO if kind == "winner" else module.Verdict.SOLD_OUT
            assert verdict == expected, verdict
        return times

    results: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.rounds):
        for name, module, session in ((args.against, then, 900_001), ("tree", current, 900_002)):
            for kind in ("loser", "winner"):
                results.setdefault((kind, name), []).extend(attempts(module, session, kind))
    redis.clear()
    for (kind, name), times in sorted(results.items()):
        times.sort()
        print(
            f"{kind:6} {name:10} n={len(times)} p50 {1e6 * times[len(times) // 2]:.0f} µs "
            f"p95 {1e6 * times[int(len(times) * 0.95)]:.0f} µs "
            f"mean {1e6 * statistics.mean(times):.0f} µs"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
