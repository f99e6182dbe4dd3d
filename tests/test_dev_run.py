"""``python3 dev.py run`` supervises its processes.

A worker or beat that dies is restarted with a line saying which and why; one that keeps dying,
or a dead web server, stops everything with a message and a non-zero exit code; Ctrl-C stops
everything with 0. Each test starts the real ``dev.py run`` (embedded mode: SQLite, filesystem
queue) on a free port with a var/ folder of the module's own, and kills its processes.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests import waiting
from tests.isolation import worker_port

ROOT = Path(__file__).resolve().parents[1]
INHERITED = {"DATABASE_URL", "REDIS_URL", "FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEY"}


class Demo:
    """A running ``dev.py run`` and what it printed."""

    def __init__(self, var_dir: Path, log: Path) -> None:
        # Below the ephemeral ports: during the ~20 s of migrating and seeding before runserver
        # binds it, no outgoing connection (many, with xdist) can be handed this port.
        self.port = worker_port()
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in INHERITED and not key.startswith(("MEDBOOK_", "DJANGO_", "CELERY_"))
        }
        env["MEDBOOK_VAR_DIR"] = str(var_dir)
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "dev.py"), "run", "--port", str(self.port)],
            cwd=ROOT,
            env=env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/", timeout=10) as r:
                return r.status == 200
        except OSError:
            return False

    def children(self) -> dict[str, int]:
        """dev.py's processes by role: worker, beat, web, wechat (the WeChat Pay stand-in)."""
        found = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
                if ppid != self.process.pid:
                    continue
                cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except (OSError, IndexError, ValueError):
                continue
            roles = {
                "worker": "worker",
                "beat": "beat",
                "runserver": "web",
                "wechat_pay_standin": "wechat",
            }
            for word, role in roles.items():
                if f" {word} " in f"{cmdline} ":
                    found[role] = int(stat.parent.name)
        return found

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def eventually(check: Callable[[], object], timeout: float, what: str, demo: Demo) -> object:
    """Wait for ``check`` as tests.waiting does; the timeout shows the end of the demo's log."""
    return waiting.eventually(
        check, timeout, every=0.2, what=what, describe=lambda: demo.output[-3000:]
    )


@pytest.fixture(scope="module")
def var_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("dev-run-var")


@pytest.fixture
def demo(var_dir: Path, tmp_path: Path) -> Iterator[Demo]:
    demo = Demo(var_dir, tmp_path / "dev-run.log")
    try:
        # The first start migrates and seeds the demo clinic; later ones find it there.
        eventually(demo.answers, 150, "serving the site", demo)
        eventually(lambda: len(demo.children()) == 4, 30, "four processes running", demo)
        yield demo
    finally:
        demo.stop()


def test_a_killed_worker_comes_back_and_ctrl_c_stops_everything_with_0(demo: Demo) -> None:
    worker = demo.children()["worker"]
    os.kill(worker, signal.SIGKILL)

    eventually(
        lambda: f"The worker (pid {worker}) was killed by SIGKILL; restarting it" in demo.output,
        10,
        "the restart line",
        demo,
    )
    new = eventually(lambda: demo.children().get("worker") not in (None, worker), 10, "", demo)
    assert new
    assert demo.answers()
    assert demo.process.poll() is None

    running = demo.children().values()
    os.killpg(demo.process.pid, signal.SIGINT)  # Ctrl-C in a terminal: the whole process group
    assert demo.process.wait(30) == 0
    assert not any(Path(f"/proc/{pid}").exists() for pid in running), "a process outlived dev.py"
    assert "stopping MedBook" not in demo.output


def test_the_demo_pays_wechat_orders_through_its_stand_in(demo: Demo, var_dir: Path) -> None:
    found = re.search(r"WeChat Pay for the demo: a local stand-in on (http://\S+)/ ", demo.output)
    assert found, demo.output[-3000:]

    def answer() -> urllib.error.HTTPError | None:
        """The stand-in's answer for an unknown order (None until it listens: it starts
        Django first, which takes a few seconds on a busy machine)."""
        try:
            urllib.request.urlopen(f"{found[1]}/pay/NO-SUCH-ORDER", timeout=10)  # noqa: S310
        except urllib.error.HTTPError as error:
            return error
        except OSError:
            return None
        raise AssertionError("an unknown order was answered 200")

    unknown = eventually(answer, 60, "the WeChat Pay stand-in listening", demo)
    assert unknown.code == 404
    assert "订单不存在" in unknown.read().decode()
    made = {path.name for path in (var_dir / "wechat-pay-standin").iterdir()}
    assert {"merchant-private.pem", "wechatpay-public.pem", "apiv3.key"} <= made


def test_a_worker_that_keeps_dying_stops_dev_py_with_an_error(demo: Demo) -> None:
    killed: list[int] = []

    def new_worker() -> int | None:
        pid = demo.children().get("worker")
        return pid if pid not in (None, *killed) else None

    for _ in range(6):
        pid = eventually(new_worker, 15, "a new worker", demo)
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)

    assert demo.process.wait(30) == 1
    assert len(killed) == 6
    assert re.search(
        rf"Error:.* The worker \(pid {killed[-1]}\) was killed by SIGKILL: 6 deaths within 60 s, "
        r"it died for good; stopping MedBook\.",
        demo.output,
    ), demo.output[-3000:]
    assert demo.output.count("restarting it") == 5
    assert not demo.answers(), "the web server was left running"


def test_a_dead_web_server_stops_dev_py_with_an_error(demo: Demo) -> None:
    web = demo.children()["web"]
    others = [pid for role, pid in demo.children().items() if role != "web"]
    os.kill(web, signal.SIGKILL)

    assert demo.process.wait(30) == 1
    assert f"The web server (pid {web}) was killed by SIGKILL; stopping MedBook." in demo.output
    assert not any(Path(f"/proc/{pid}").exists() for pid in others)
