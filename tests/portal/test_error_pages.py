"""Error pages (issue 16, point 7): 400, 403, 404, 405, 500 and an expired form (CSRF) are
styled pages in the visitor's language with a way back — to the console on its pages — and a
500 shows the request id its log line carries."""

from __future__ import annotations

import logging

import pytest
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import include, path, reverse

from medbook.error_pages import RequestIdFilter

pytestmark = pytest.mark.django_db


@login_not_required
def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug")


urlpatterns = [path("boom/", boom), path("", include("medbook.urls"))]
handler500 = "medbook.failures.server_error"


def _styled(response, *, status: int) -> str:
    page = response.content.decode()
    assert response.status_code == status
    assert 'class="site-header"' in page and "css/medbook" in page
    return page


@pytest.mark.parametrize(
    ("language", "title", "back"),
    [("zh-hans", "页面不存在", "返回首页"), ("en", "Page not found", "Back to the home page")],
)
def test_a_missing_page_says_so_in_the_visitors_language(client, language, title, back) -> None:
    client.cookies["django_language"] = language
    page = _styled(client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE=language), status=404)
    assert title in page and back in page
    assert reverse("appointments:home") in page


def test_a_missing_console_page_keeps_the_console_and_leads_back_to_it(client, front_desk) -> None:
    client.force_login(front_desk)
    page = _styled(client.get("/staff/no-such-page/"), status=404)
    assert "返回工作台" in page and reverse("staff:home") in page


def test_a_forbidden_console_page_tells_staff_whom_to_ask(client, front_desk) -> None:
    client.force_login(front_desk)
    page = _styled(client.get(reverse("staff:reports")), status=403)
    assert "无法打开此页面" in page and "诊所管理员" in page
    assert reverse("staff:home") in page


def test_a_refused_method_gets_the_page_and_keeps_allow(client, clinic_admin) -> None:
    client.force_login(clinic_admin)
    response = client.post(reverse("staff:reports"))
    page = _styled(response, status=405)
    assert "无法以这种方式打开此页面" in page
    assert response["Allow"] == "GET"


def test_an_expired_form_explains_itself(member) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("account_login"), {"login": "13800000000", "password": "x"})
    page = _styled(response, status=403)
    assert "表单已过期" in page and "刷新" in page


@override_settings(ROOT_URLCONF=__name__)
def test_a_500_shows_the_request_id_its_log_line_carries() -> None:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        response = Client(raise_request_exception=False).get("/boom/")
    finally:
        logger.removeHandler(handler)
    page = _styled(response, status=500)
    request_id = response["X-Request-ID"]
    assert len(request_id) == 12
    assert f'<strong class="request-id">{request_id}</strong>' in page
    assert "系统出了点问题" in page
    assert [r.request_id for r in records if r.levelno >= logging.ERROR] == [request_id]


def test_every_response_carries_a_fresh_request_id(client) -> None:
    first = client.get(reverse("appointments:home"))["X-Request-ID"]
    second = client.get(reverse("appointments:home"))["X-Request-ID"]
    assert first != second


def test_a_staff_login_on_a_member_page_is_told_so_and_led_to_the_console(
    client, front_desk
) -> None:
    client.force_login(front_desk)
    page = _styled(client.get(reverse("billing:appointments")), status=403)
    assert "此页面仅供会员使用，工作人员请使用工作台。" in page
    assert "返回工作台" in page and f'href="{reverse("staff:home")}"' in page


def test_the_site_header_offers_staff_the_console_and_members_their_pages(
    client, front_desk, member
) -> None:
    console = f'href="{reverse("staff:home")}"'
    appointments = f'href="{reverse("billing:appointments")}"'
    client.force_login(front_desk)
    page = client.get(reverse("appointments:home")).content.decode()
    assert console in page and appointments not in page
    client.force_login(member.user)
    page = client.get(reverse("appointments:home")).content.decode()
    assert appointments in page and console not in page
