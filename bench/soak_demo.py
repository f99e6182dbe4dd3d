"""Demo soak: ``python3 dev.py run`` under a click-through load for a while, nothing may die.

Starts ``dev.py run`` (SQLite, local-memory cache, Celery worker and beat on the filesystem
queue) on a free port with a var/ folder of its own, then drives it like a small clinic's
members: each simulated member logs in, browses the home page and a doctor's page, books a
session, pays on the sandbox cashier (the worker delivers the payment notice) or, three in ten,
by WeChat on the demo's WeChat Pay stand-in (its page posts the signed notice), watches the
appointment until it is confirmed, views "my appointments" and messages, and cancels
some bookings (the refund goes through the worker); anonymous visitors browse meanwhile. Every
few sessions a simulated member signs in as another demo member.

    .venv/bin/python bench/soak_demo.py --minutes 30 --users 4
    .venv/bin/python bench/soak_demo.py --seconds 45 --users 2      # the short run of the tests

It fails (exit code 1, with the reason) on any 5xx, on dev.py or one of its processes dying
(a restart by dev.py's supervision counts), or on a paid booking the worker never confirmed;
it prints requests by page, latency p50/p95, bookings made/paid/cancelled, payments confirmed by
the worker, refunds and restarts. ``--var-dir`` keeps the var folder (default: a temporary one,
removed afterwards unless the run failed).
"""

from __future__ import annotations

import argparse
import html
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from demo.data import DEMO_MEMBER_PASSWORD, demo_phone  # noqa: E402 (stdlib only)

PASSWORD = DEMO_MEMBER_PASSWORD
SEEDED_MEMBERS = 500
# How long a paid booking may take to be confirmed by the worker (payment notice job).
CONFIRM_TIMEOUT = 60.0
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
WECHAT_PAGE = re.compile(r'<p class="qr-web"><a href="([^"]+)"')
STATUS_PILL = re.compile(r'<p class="status-line"><span class="pill \w+ status-(\w+)">')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Stats:
    lock: threading.Lock = field(default_factory=threading.Lock)
    by_page: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    latencies_by_page: defaultdict = field(default_factory=lambda: defaultdict(list))
    server_errors: list[str] = field(default_factory=list)
    client_errors: Counter = field(default_factory=Counter)
    transport_errors: list[str] = field(default_factory=list)
    events: Counter = field(default_factory=Counter)
    confirm_seconds: list[float] = field(default_factory=list)
    refund_seconds: list[float] = field(default_factory=list)

    def request(self, page: str, status: int, seconds: float, url: str) -> None:
        with self.lock:
            self.by_page[page] += 1
            self.statuses[status // 100 * 100] += 1
            self.latencies.append(seconds)
            self.latencies_by_page[page].append(seconds)
            if status >= 500:
                self.server_errors.append(f"{status} {page} {url}")
            elif status >= 400:
                self.client_errors[f"{page} {status}"] += 1

    def count(self, event: str, n: int = 1) -> None:
        with self.lock:
            self.events[event] += n


class Browser:
    """One visitor's session: every request timed and counted under a page name."""

    def __init__(self, base: str, stats: Stats) -> None:
        self.base, self.stats = base, stats
        self.session = requests.Session()
        # English pages, so the few words the soak reads are stable.
        self.session.cookies.set("django_language", "en")

    def go(self, page: str, method: str, path: str, **kwargs) -> requests.Response | None:
        url = path if path.startswith("http") else self.base + path
        started = time.perf_counter()
        try:
            response = self.session.request(method, url, timeout=60, **kwargs)
        except requests.RequestException as exc:
            self.stats.transport_errors.append(f"{page} {url}: {type(exc).__name__}: {exc}")
            return None
        elapsed = time.perf_counter() - started
        # Redirects followed are one click: counted under the page that was clicked.
        self.stats.request(page, response.status_code, elapsed, url)
        return response

    def get(self, page: str, path: str, **kwargs) -> requests.Response | None:
        return self.go(page, "GET", path, **kwargs)

    def post(self, page: str, path: str, form_page: requests.Response, data: dict | None = None):
        match = CSRF.search(form_page.text)
        if match is None:
            self.stats.count("form without CSRF token")
            return None
        referer = form_page.url
        payload = {"csrfmiddlewaretoken": match.group(1), **(data or {})}
        return self.go(page, "POST", path, data=payload, headers={"Referer": referer})


@dataclass
class Booking:
    appointment: int
    paid_at: float | None = None
    confirmed: bool = False
    cancelled: bool = False


class Member:
    """A simulated member: a loop of the portal's main clicks, as several demo members in turn."""

    def __init__(self, number: int, users: int, base: str, stats: Stats, stop: threading.Event):
        self.number, self.users, self.base, self.stats, self.stop = number, users, base, stats, stop
        self.rng = random.Random(number)
        self.sessions = 0
        self.unconfirmed: list[tuple[Browser, Booking]] = []
        self.unrefunded: list[tuple[Browser, Booking, float]] = []

    def pause(self, low: float = 0.2, high: float = 1.0) -> None:
        self.stop.wait(self.rng.uniform(low, high))

    def run(self) -> None:
        while not self.stop.is_set():
            # Member 0 is the README's demo login; the others spread over the seeded members.
            index = 1 + (self.number + self.sessions * self.users) % (SEEDED_MEMBERS - 1)
            self.sessions += 1
            browser = Browser(self.base, self.stats)
            if not self.log_in(browser, demo_phone(index)):
                self.pause(1, 2)
                continue
            for _ in range(self.rng.randint(3, 6)):
                if self.stop.is_set():
                    break
                self.visit(browser)
            self.get_confirmations(wait=False)
            self.get_refunds(wait=False)

    def log_in(self, browser: Browser, phone: str) -> bool:
        form = browser.get("login form", "/accounts/login/")
        if form is None or form.status_code != 200:
            return False
        done = browser.post(
            "login", "/accounts/login/", form, {"login": phone, "password": PASSWORD}
        )
        if done is None or "/accounts/login/" in done.url:
            self.stats.count("logins refused")
            return False
        self.stats.count("logins")
        return True

    def visit(self, browser: Browser) -> None:
        home = browser.get("home", "/")
        if home is None or home.status_code != 200:
            return
        self.pause()
        doctors = sorted(set(re.findall(r'href="/doctors/(\d+)/"', home.text)))
        if not doctors:
            return
        doctor = browser.get("doctor", f"/doctors/{self.rng.choice(doctors)}/")
        if doctor is None or doctor.status_code != 200:
            return
        self.pause()
        schedules = sorted(set(re.findall(r'href="/book/(\d+)/"', doctor.text)))
        if schedules and self.rng.random() < 0.7:
            self.book(browser, self.rng.choice(schedules))
        listing = browser.get("my appointments", "/appointments/")
        self.pause()
        if listing is not None and listing.status_code == 200 and self.rng.random() < 0.25:
            mine = re.findall(r'href="/appointments/(\d+)/"', listing.text)
            if mine:
                browser.get("appointment", f"/appointments/{self.rng.choice(mine)}/")
        inbox = browser.get("messages", "/messages/")
        if inbox is not None and inbox.status_code == 200 and self.rng.random() < 0.3:
            read = re.findall(r'href="/messages/(\d+)/"', inbox.text)
            if read:
                browser.get("message", f"/messages/{self.rng.choice(read)}/")
        self.get_confirmations(wait=False)
        self.pause()

    def book(self, browser: Browser, schedule: str) -> None:
        form = browser.get("book form", f"/book/{schedule}/")
        if (
            form is None
            or form.status_code != 200
            or '<form method="post" data-once' not in form.text
        ):
            self.stats.count("bookings not offered")
            return
        self.pause()
        # Inside the cancellation cutoff the page asks for a tick: a member reads it and ticks.
        late = {"accept_late": "1"} if 'name="accept_late"' in form.text else None
        done = browser.post("book", f"/book/{schedule}/", form, late)
        if done is None:
            return
        if done.status_code in (409, 429):
            self.stats.count(f"bookings refused ({done.status_code})")
            return
        made = [r.url for r in done.history] + [done.url]
        appointment = next(
            (int(m.group(1)) for u in made if (m := re.search(r"/appointments/(\d+)/", u))), None
        )
        if appointment is None or done.status_code != 200:
            return
        self.stats.count("bookings made")
        booking = Booking(appointment)
        if 'name="gateway"' in done.text:
            # The pay step offers the sandbox cashier and the demo's WeChat Pay stand-in.
            self.pause(0.5, 1.5)
            chosen = "wechat" if self.rng.random() < 0.3 else "sandbox"
            done = browser.post("choose payment", done.url, done, {"gateway": chosen})
            if done is None or done.status_code != 200:
                return
        if "/pay/wechat/" in done.url:
            self.pause(0.5, 2)
            if not self.pay_by_wechat(browser, done):
                return
        elif "/payments/sandbox/" not in done.url:
            self.stats.count("bookings without payment (free or already booked)")
            return
        else:
            self.pause(0.5, 2)
            if self.rng.random() < 0.1:
                # Some change their mind on the cashier: the booking is cancelled unpaid.
                self.cancel(browser, booking)
                return
            paid = browser.post("cashier pay", done.url, done, {"action": "pay"})
            if paid is None or paid.status_code != 200:
                return
        booking.paid_at = time.monotonic()
        self.stats.count("bookings paid")
        self.unconfirmed.append((browser, booking))
        if self.rng.random() < 0.35:
            self.pause(1, 3)
            self.get_confirmations(wait=True, only=booking)
            if booking.confirmed:
                self.cancel(browser, booking)

    def pay_by_wechat(self, browser: Browser, checkout: requests.Response) -> bool:
        """Pay on the WeChat Pay stand-in's page the QR code leads to (as a phone would after a
        scan); the stand-in then notifies MedBook."""
        link = WECHAT_PAGE.search(checkout.text)
        if link is None:
            self.stats.count("WeChat checkout without a payment page")
            return False
        paid = browser.go("wechat stand-in pay", "POST", html.unescape(link.group(1)))
        if paid is None or "支付成功" not in paid.text:
            self.stats.count("WeChat payments refused")
            return False
        self.stats.count("bookings paid by WeChat")
        return True

    def cancel(self, browser: Browser, booking: Booking) -> None:
        path = f"/appointments/{booking.appointment}/cancel/"
        form = browser.get("cancel form", path)
        if form is None or form.status_code != 200:
            return
        self.pause()
        done = browser.post("cancel", path, form)
        if done is not None and done.status_code == 200:
            booking.cancelled = True
            self.stats.count("bookings cancelled")
            if booking.paid_at is not None:
                self.stats.count("paid bookings cancelled (refund via the worker)")
                self.unrefunded.append((browser, booking, time.monotonic()))
        elif done is not None and done.status_code == 409:
            self.stats.count("cancellations refused (409)")

    def status_page(self, browser: Browser, booking: Booking) -> str:
        page = browser.get(
            "appointment status",
            f"/appointments/{booking.appointment}/",
            headers={"HX-Request": "true"},
        )
        return page.text if page is not None and page.status_code == 200 else ""

    def status(self, browser: Browser, booking: Booking) -> str | None:
        match = STATUS_PILL.search(self.status_page(browser, booking))
        return match.group(1) if match else None

    def get_refunds(self, wait: bool) -> None:
        """Look whether the worker has carried out the refunds of cancelled paid bookings."""
        for browser, booking, cancelled_at in list(self.unrefunded):
            while True:
                if "<dt>Refunded</dt>" in self.status_page(browser, booking):
                    self.unrefunded.remove((browser, booking, cancelled_at))
                    self.stats.count("refunds completed by the worker")
                    with self.stats.lock:
                        self.stats.refund_seconds.append(time.monotonic() - cancelled_at)
                    break
                if not wait or time.monotonic() - cancelled_at > CONFIRM_TIMEOUT:
                    break
                time.sleep(0.5)

    def get_confirmations(self, wait: bool, only: Booking | None = None) -> None:
        """Look whether the worker has confirmed paid bookings (waiting for ``only`` if asked)."""
        for browser, booking in list(self.unconfirmed):
            if only is not None and booking is not only:
                continue
            while True:
                pill = self.status(browser, booking)
                if pill in ("confirmed", "checked_in", "completed"):
                    booking.confirmed = True
                    self.unconfirmed.remove((browser, booking))
                    self.stats.count("payments confirmed by the worker")
                    with self.stats.lock:
                        self.stats.confirm_seconds.append(time.monotonic() - booking.paid_at)
                    break
                if not wait or time.monotonic() - booking.paid_at > CONFIRM_TIMEOUT:
                    break
                time.sleep(0.5)

    def settle(self) -> int:
        """After the load: wait for the worker's confirmations and refunds; what never came."""
        for _browser, booking in list(self.unconfirmed):
            self.get_confirmations(wait=True, only=booking)
        self.get_refunds(wait=True)
        return len(self.unconfirmed), len(self.unrefunded)


def anonymous(base: str, stats: Stats, stop: threading.Event, seed: int) -> None:
    rng = random.Random(1000 + seed)
    browser = Browser(base, stats)
    codes: list[str] = []
    while not stop.is_set():
        home = browser.get("home (anonymous)", "/")
        if home is not None and home.status_code == 200:
            doctors = re.findall(r'href="/doctors/(\d+)/"', home.text)
            if doctors:
                stop.wait(rng.uniform(0.3, 1.5))
                page = browser.get("doctor (anonymous)", f"/doctors/{rng.choice(doctors)}/")
                if page is not None and not codes:
                    codes = sorted(set(re.findall(r'href="/waiting/([\w-]+)/"', page.text)))
        if rng.random() < 0.2:
            browser.get("waiting room", f"/waiting/{rng.choice(codes or ['cardiology'])}/")
        if rng.random() < 0.1:
            browser.get("login form (anonymous)", "/accounts/login/")
        stop.wait(rng.uniform(0.5, 2.0))


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def start_demo(var_dir: Path, port: int, log_path: Path) -> subprocess.Popen[bytes]:
    """``python3 dev.py run`` in the embedded mode, with ``var_dir`` as its var/ folder."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MEDBOOK_", "DJANGO_", "CELERY_"))
        and key not in {"DATABASE_URL", "REDIS_URL", "FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEY"}
        and key not in {"SECURE_SSL_REDIRECT", "STATIC_MANIFEST", "CACHE_KEY_PREFIX"}
    }
    env["MEDBOOK_VAR_DIR"] = str(var_dir)
    # Every simulated member comes from 127.0.0.1: the per-address booking limit is for crowds.
    env["MEDBOOK_BOOKING_RATE_IP"] = "100000/60"
    log = log_path.open("wb")
    return subprocess.Popen(
        [sys.executable, str(ROOT / "dev.py"), "run", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # our own process group: stopped as a whole at the end
    )


def wait_until_serving(process: subprocess.Popen[bytes], base: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dev.py run exited with {process.returncode} before serving")
        try:
            if requests.get(base + "/", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(1)
    raise RuntimeError(f"dev.py run did not serve {base} within {timeout:.0f} s")


def stop_demo(process: subprocess.Popen[bytes]) -> int | None:
    """Ctrl-C for dev.py (it stops its processes); the whole group is killed if it hangs."""
    if process.poll() is not None:
        return None  # it had already stopped: the caller reports that
    process.send_signal(signal.SIGINT)
    try:
        return process.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        return -9


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30, help="length of the load (30)")
    parser.add_argument("--seconds", type=float, help="length in seconds (overrides --minutes)")
    parser.add_argument("--users", type=int, default=4, help="simulated members (4)")
    parser.add_argument("--anonymous", type=int, default=1, help="anonymous visitors (1)")
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    parser.add_argument("--var-dir", help="var/ folder to use and keep (default: temporary)")
    args = parser.parse_args()
    duration = args.seconds if args.seconds is not None else args.minutes * 60

    temporary = args.var_dir is None
    var_dir = Path(args.var_dir or tempfile.mkdtemp(prefix="medbook-soak-")).resolve()
    var_dir.mkdir(parents=True, exist_ok=True)
    log_path = var_dir / "dev-run.log"
    port = args.port or free_port()
    base = f"http://127.0.0.1:{port}"
    print(f"Soak: dev.py run on {base}, var {var_dir}, log {log_path}", flush=True)
    started = time.monotonic()
    process = start_demo(var_dir, port, log_path)
    failures: list[str] = []
    stats = Stats()
    stop = threading.Event()
    members: list[Member] = []
    exit_code: int | None = None
    try:
        wait_until_serving(process, base, timeout=300)
        print(
            f"Serving after {time.monotonic() - started:.0f} s; load for {duration:.0f} s "
            f"with {args.users} members and {args.anonymous} anonymous visitors",
            flush=True,
        )
        members = [Member(n, args.users, base, stats, stop) for n in range(args.users)]
        threads = [threading.Thread(target=m.run, daemon=True) for m in members]
        threads += [
            threading.Thread(target=anonymous, args=(base, stats, stop, n), daemon=True)
            for n in range(args.anonymous)
        ]
        for thread in threads:
            thread.start()
        load_started = time.monotonic()
        next_report = load_started + 60
        while time.monotonic() - load_started < duration:
            time.sleep(1)
            if process.poll() is not None:
                failures.append(f"dev.py run exited with {process.returncode} during the load")
                break
            if time.monotonic() >= next_report:
                next_report += 60
                minutes = (time.monotonic() - load_started) / 60
                print(
                    f"  {minutes:4.0f} min: {sum(stats.by_page.values())} requests, "
                    f"{len(stats.server_errors)} 5xx, {stats.events['bookings paid']} paid, "
                    f"{stats.events['payments confirmed by the worker']} confirmed",
                    flush=True,
                )
        stop.set()
        for thread in threads:
            thread.join(90)
        settled = [m.settle() for m in members] if process.poll() is None else []
        never_confirmed = sum(confirmed for confirmed, _ in settled)
        never_refunded = sum(refunded for _, refunded in settled)
        if never_refunded:
            failures.append(
                f"{never_refunded} refunds never carried out by the worker "
                f"within {CONFIRM_TIMEOUT:.0f} s"
            )
        if never_confirmed:
            failures.append(
                f"{never_confirmed} paid bookings never confirmed by the worker "
                f"within {CONFIRM_TIMEOUT:.0f} s"
            )
    except RuntimeError as exc:
        failures.append(str(exc))
    finally:
        stop.set()
        exit_code = stop_demo(process)
    if exit_code is None:
        if not any("exited with" in f for f in failures):
            failures.append(f"dev.py run exited with {process.returncode} before the end")
    elif exit_code != 0:
        failures.append(f"dev.py run stopped with exit code {exit_code} on Ctrl-C")

    log = log_path.read_text(errors="replace")
    restarts = re.findall(r"The (worker|beat) \(pid \d+\) [^;]*; restarting it", log)
    deaths = [
        line for line in log.splitlines() if "restarting it" in line or "stopping MedBook" in line
    ]
    tracebacks = log.count("Traceback (most recent call last)")
    if restarts or deaths:
        failures.append(f"{len(deaths)} process deaths: " + "; ".join(deaths[:5]))
    if stats.server_errors:
        failures.append(
            f"{len(stats.server_errors)} responses 5xx: " + "; ".join(stats.server_errors[:5])
        )
    if stats.transport_errors:
        failures.append(
            f"{len(stats.transport_errors)} requests got no answer: "
            + "; ".join(stats.transport_errors[:3])
        )
    total = sum(stats.by_page.values())
    if total == 0:
        failures.append("no request was made")

    print()
    print(
        f"Demo soak: {duration / 60:.1f} min of load, {args.users} members + "
        f"{args.anonymous} anonymous, {total} requests ({total / max(duration, 1):.1f}/s)"
    )
    print(f"  {'page':<28} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8}")
    for page, count in sorted(stats.by_page.items(), key=lambda item: -item[1]):
        times = stats.latencies_by_page[page]
        print(
            f"  {page:<28} {count:>8} {percentile(times, 50) * 1000:>8.0f} "
            f"{percentile(times, 95) * 1000:>8.0f}"
        )
    print(
        f"  {'all':<28} {total:>8} {percentile(stats.latencies, 50) * 1000:>8.0f} "
        f"{percentile(stats.latencies, 95) * 1000:>8.0f}"
    )
    print("  responses: " + ", ".join(f"{k}x: {v}" for k, v in sorted(stats.statuses.items())))
    print(
        f"  5xx: {len(stats.server_errors)}; 4xx: "
        + (", ".join(f"{k}: {v}" for k, v in sorted(stats.client_errors.items())) or "none")
    )
    for event in (
        "logins",
        "logins refused",
        "bookings made",
        "bookings paid",
        "payments confirmed by the worker",
        "bookings cancelled",
        "paid bookings cancelled (refund via the worker)",
        "refunds completed by the worker",
        "bookings refused (409)",
        "bookings refused (429)",
        "cancellations refused (409)",
        "bookings not offered",
    ):
        print(f"  {event}: {stats.events[event]}")
    if stats.confirm_seconds:
        print(
            f"  payment confirmed after: p50 {percentile(stats.confirm_seconds, 50):.1f} s, "
            f"p95 {percentile(stats.confirm_seconds, 95):.1f} s (paid -> seen confirmed)"
        )
    if stats.refund_seconds:
        print(
            f"  refund seen done after: p50 {percentile(stats.refund_seconds, 50):.1f} s, "
            f"p95 {percentile(stats.refund_seconds, 95):.1f} s (cancelled -> seen refunded)"
        )
    print(f"  background restarts: {len(restarts)}; tracebacks in the log: {tracebacks}")
    print(f"  dev.py run on Ctrl-C: exit code {exit_code}")
    if failures:
        print("\nFAILED:\n  " + "\n  ".join(failures))
        print(f"(log and data kept in {var_dir})")
        return 1
    print("\nOK: no 5xx, no process died, every payment and refund carried out by the worker.")
    if temporary:
        shutil.rmtree(var_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
