"""The waiting-room screen in Chromium with the doctor's queue beside it: a number called in the
console is on the screen within 3 s and spoken once with the right words, spoken again for 重呼;
the screen keeps its state through a network drop and says it is reconnecting. Screenshots
(test-results/screenshots/floor-*.png): the queue at 375 px, the screen at 1280×720,
1920×1080 and on a 375 px phone."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.utils import timezone

from appointments.services import book_appointment, check_in_appointment
from medbook.roles import DOCTOR
from tests.appointments.factories import DepartmentFactory, DoctorFactory, ScheduleFactory
from tests.browser.conftest import screenshot
from tests.browser.test_staff_journeys import log_in, person
from tests.conftest import started_ago
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db(transaction=True)

TV = {"width": 1280, "height": 720}
FULL_HD = {"width": 1920, "height": 1080}

# Records what the page asks the browser to say instead of saying it.
SPEECH_STUB = """
window.__spoken = [];
const fakeSynth = {
  speak(utterance) { window.__spoken.push({text: utterance.text, lang: utterance.lang}); },
  cancel() {}, pause() {}, resume() {}, getVoices() { return []; },
  speaking: false, pending: false, paused: false,
};
Object.defineProperty(window, "speechSynthesis", {value: fakeSynth, configurable: true});
if (typeof window.SpeechSynthesisUtterance !== "function") {
  window.SpeechSynthesisUtterance = function (text) { this.text = text; };
}
"""


@pytest.fixture
def floor(levels):
    department = DepartmentFactory(name="呼吸内科", code="respiratory")
    doctor = DoctorFactory(name="李华", department=department, user=person("drli", DOCTOR))
    start = started_ago(dt.timedelta(minutes=20))
    session = ScheduleFactory(
        doctor=doctor,
        date=start.date(),
        start_time=start.time().replace(second=0, microsecond=0),
        end_time=dt.time(23, 59),
        fee=0,
        room="3诊室",
        release_at=timezone.now() - dt.timedelta(days=3),
    )
    patients = []
    for name in ["王小明", "李四", "欧阳娜娜"]:
        appointment = book_appointment(
            member=MemberFactory(name=name),
            schedule=session,
            channel="web",
            now=session.starts_at - dt.timedelta(hours=1),
        )
        patients.append(check_in_appointment(appointment=appointment))
    return department, session, patients


def wait_until(screen, expression: str, timeout: float = 3.0) -> None:
    """Poll ``expression`` in the page from here (Playwright's wait_for_function evaluates a
    string inside the page, which the screen's CSP forbids)."""
    deadline = time.monotonic() + timeout
    while not screen.evaluate(expression):
        assert time.monotonic() < deadline, f"still not {expression!r} after {timeout} s"
        time.sleep(0.05)


def spoken(screen) -> list[str]:
    return [u["text"] for u in screen.evaluate("window.__spoken")]


def test_a_call_in_the_console_is_shown_and_spoken_on_the_screen(
    page, browser, live_server, floor
) -> None:
    department, _session, patients = floor
    context = browser.new_context(viewport=TV, locale="zh-CN")
    context.add_init_script(SPEECH_STUB)
    screen = context.new_page()
    violations: list[str] = []
    screen.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    screen.goto(live_server.url + f"/waiting/{department.code}/")
    wait_until(screen, "document.body.dataset.updated")  # the first answer came
    assert screen.locator("#banner .banner-idle").inner_text() == "请留意叫号"
    assert "欧**娜" in screen.locator("#rooms").inner_text()  # next up, masked
    assert screen.locator("select, nav").count() == 0  # no language drop-down, no navigation

    log_in(page, "drli")  # the doctor's console at 375 px
    page.goto(live_server.url + "/staff/queue/")
    page.get_by_role("button", name="叫下一位（3 人候诊）").click()
    called_at = time.monotonic()
    first = patients[0].queue_number
    screen.locator("#banner .banner-number").get_by_text(str(first)).wait_for(timeout=3000)
    wait_until(screen, "window.__spoken.length === 1")
    assert time.monotonic() - called_at < 3.5
    expected = f"请 {first}号 王*明 到 3诊室 就诊"
    assert spoken(screen) == [expected]
    assert screen.evaluate("window.__spoken[0].lang") == "zh-CN"
    assert "王*明" in screen.locator("#banner").inner_text()
    assert "王小明" not in screen.content()
    screenshot(page, "floor-01-queue-calling-375")
    screenshot(screen, "floor-02-screen-1280x720")

    nodes = screen.evaluate("document.getElementsByTagName('*').length")
    time.sleep(4.5)  # polls that bring nothing new say nothing and add nothing to the page
    assert spoken(screen) == [expected]
    assert screen.evaluate("document.getElementsByTagName('*').length") == nodes

    page.get_by_role("button", name="重呼").click()
    page.get_by_text("第 2 次呼叫").wait_for()
    wait_until(screen, "window.__spoken.length === 2")
    assert spoken(screen) == [expected, expected]
    screenshot(page, "floor-03-queue-recalled-375")
    page.get_by_role("button", name="未到诊").wait_for()  # allowed after the recall

    page.get_by_role("button", name="过号").click()
    page.get_by_text("已过号").wait_for()
    page.get_by_role("button", name="叫下一位（3 人候诊）").click()
    second = patients[1].queue_number
    screen.locator("#banner .banner-number").get_by_text(str(second)).wait_for(timeout=3000)
    wait_until(screen, "window.__spoken.length === 3")
    assert spoken(screen)[-1] == f"请 {second}号 李* 到 3诊室 就诊"
    assert page.get_by_role("button", name="未到诊").count() == 0  # called once: not offered

    # A network drop: the last state stays, a small mark says it is reconnecting.
    context.set_offline(True)
    screen.locator("#reconnecting").wait_for(state="visible", timeout=10000)
    assert str(second) in screen.locator("#banner").inner_text()
    screenshot(screen, "floor-04-screen-reconnecting")
    context.set_offline(False)
    screen.locator("#reconnecting").wait_for(state="hidden", timeout=20000)

    screen.set_viewport_size(FULL_HD)
    screenshot(screen, "floor-05-screen-1920x1080")
    width = screen.evaluate("document.documentElement.scrollWidth")
    height = screen.evaluate("document.documentElement.scrollHeight")
    assert (width, height) == (1920, 1080)  # fills the TV, no scrolling

    # The clinic's screen: every department's rooms, each naming its department.
    screen.set_viewport_size(TV)
    screen.goto(live_server.url + "/waiting/")
    wait_until(screen, "document.body.dataset.updated")
    assert "呼吸内科 · 李华" in screen.locator("#rooms").inner_text()
    screenshot(screen, "floor-06-clinic-screen-1280x720")

    # On a phone (or a screen hung in portrait) the page stacks and scrolls down, not sideways.
    screen.set_viewport_size({"width": 375, "height": 812})
    for path in (f"/waiting/{department.code}/", "/waiting/"):
        screen.goto(live_server.url + path)
        wait_until(screen, "document.body.dataset.updated")
        assert screen.evaluate("document.documentElement.scrollWidth") == 375, path
        banner = screen.locator("#banner").bounding_box()
        assert banner["x"] >= 0 and banner["x"] + banner["width"] <= 375, path
    screenshot(screen, "floor-07-clinic-screen-375")
    context.close()
    assert not violations, violations
