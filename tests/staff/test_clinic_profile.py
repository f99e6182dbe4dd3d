"""The clinic's contact details (issue 16, point 6): a clinic admin edits them in the console
(logged); every page's footer, the ticket and a refusal to cancel online show them."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from medbook.clinic import CACHE_KEY, clinic_profile
from medbook.models import ClinicProfile, OperationLog

pytestmark = pytest.mark.django_db

DETAILS = {
    "name": "康宁会员诊所",
    "address": "上海市徐汇区宜山路 700 号",
    "phone": "021-6000 1234",
    "hours": "周一至周日 08:00–17:30",
}


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.delete(CACHE_KEY)
    yield
    cache.delete(CACHE_KEY)


def test_a_clinic_admin_saves_the_details_and_every_page_shows_them(
    client, clinic_admin, django_capture_on_commit_callbacks
) -> None:
    client.force_login(clinic_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("staff:clinic"), DETAILS)
    assert response.status_code == 302
    assert ClinicProfile.objects.get(pk=1).phone == "021-6000 1234"
    log = OperationLog.objects.get(action="clinic.update")
    assert log.actor == clinic_admin and log.detail["hours"] == DETAILS["hours"]
    client.logout()
    page = client.get(reverse("appointments:home")).content.decode()
    assert "康宁会员诊所" in page and 'href="tel:021-60001234"' in page
    assert "周一至周日 08:00–17:30" in page


def test_the_details_are_read_once_then_from_the_cache(django_assert_num_queries) -> None:
    ClinicProfile.objects.create(pk=1, **DETAILS)
    with django_assert_num_queries(1):
        assert clinic_profile()["phone"] == DETAILS["phone"]
    with django_assert_num_queries(0):
        assert clinic_profile()["name"] == DETAILS["name"]


def test_too_long_a_phone_is_refused_and_nothing_is_saved(client, clinic_admin) -> None:
    client.force_login(clinic_admin)
    response = client.post(reverse("staff:clinic"), {**DETAILS, "phone": "1" * 40})
    assert response.status_code == 400
    assert not ClinicProfile.objects.exists()
    assert not OperationLog.objects.filter(action="clinic.update").exists()


def test_front_desk_may_not_change_them(client, front_desk) -> None:
    client.force_login(front_desk)
    assert client.post(reverse("staff:clinic"), DETAILS).status_code == 403
    assert not ClinicProfile.objects.exists()


def test_english_pages_show_the_english_details_and_fall_back_to_the_chinese(
    client, clinic_admin, django_capture_on_commit_callbacks
) -> None:
    english = {"name_en": "Kangning Clinic", "hours_en": "Daily 08:00–17:30"}
    client.force_login(clinic_admin)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("staff:clinic"), {**DETAILS, **english}).status_code == 302
    visitor = Client()
    visitor.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the language switch's choice

    page = visitor.get(reverse("appointments:home")).content.decode()
    assert "Kangning Clinic" in page and "Daily 08:00–17:30" in page
    assert "康宁会员诊所" not in page and "周一至周日" not in page
    assert DETAILS["address"] in page  # no English address given: the Chinese one
    chinese = Client().get(reverse("appointments:home"))
    assert "康宁会员诊所" in chinese.content.decode()
