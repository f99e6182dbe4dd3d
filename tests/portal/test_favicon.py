"""Every page names the clinic's icon, and /favicon.ico (asked for by browsers and bots that
don't read the page) leads to it instead of a 404 in every log."""

from __future__ import annotations

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_pages_link_the_icon_and_favicon_ico_leads_to_it(client) -> None:
    page = client.get(reverse("appointments:home")).content.decode()
    assert 'rel="icon"' in page and "img/favicon" in page
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert "img/favicon" in response["Location"] and response["Location"].endswith(".svg")
    assert finders.find("img/favicon.svg")
