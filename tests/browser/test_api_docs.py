"""Issue 14: the API's documentation page (Swagger UI) renders under the site's Content Security
Policy — its scripts and styles served from this site, nothing inline, nothing from elsewhere —
and its "Try it out" reaches the API, on a phone and on a desktop screen."""

from __future__ import annotations

import pytest

from tests.appointments.factories import DepartmentFactory
from tests.browser.conftest import DESKTOP, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def _open_docs(page) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(page.base_url + "/api/docs/")
    page.locator(".opblock").first.wait_for()
    assert not errors, errors
    outside = [url for url in requests if not url.startswith(page.base_url)]
    assert not outside, outside  # every asset from this site
    assert page.get_by_text("MedBook API").first.is_visible()
    assert page.locator(".opblock").count() >= 10
    assert page.get_by_text("/api/v1/auth/token/", exact=True).first.is_visible()


def test_the_docs_render_on_a_phone_without_a_csp_violation(page, db) -> None:
    _open_docs(page)
    screenshot(page, "api-docs-phone")


def test_the_docs_try_a_request_on_a_desktop(page, db) -> None:
    DepartmentFactory(code="cardiology", name="心血管内科")
    page.set_viewport_size(DESKTOP)
    _open_docs(page)
    operation = page.locator("#operations-catalogue-departments")
    if operation.count() == 0:
        operation = page.locator(".opblock", has_text="/api/v1/departments/").first
    operation.locator(".opblock-summary").first.click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    responses = page.locator(".live-responses-table")
    responses.wait_for()
    assert "心血管内科" in responses.inner_text()
    screenshot(page, "api-docs-desktop")
